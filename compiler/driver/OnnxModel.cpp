#include "compiler/driver/OnnxModel.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <unistd.h>

#include "compiler/driver/Command.h"
#include "compiler/passes/ConstantValues.h"
#include "compiler/session/ForwardRunner.h"
#include "runtime/checkpoint/Safetensors.h"
#include "runtime/data/Npy.h"

namespace nnc::driver {

namespace {

std::string& constSpec() {
  static std::string spec;
  return spec;
}

// NAME=FILE pairs of --const, loaded once.
Result<std::map<std::string, data::Array>> constArrays() {
  std::map<std::string, data::Array> arrays;
  std::stringstream items(constSpec());
  std::string item;
  while (std::getline(items, item, ',')) {
    if (item.empty()) continue;
    size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size())
      return makeError("--const takes NAME=FILE.npy[,NAME=FILE.npy...], not '" + item + "'");
    auto a = data::loadNpy(item.substr(eq + 1));
    if (!a) return makeError("--const " + item.substr(0, eq) + ": " + a.error().message);
    arrays[item.substr(0, eq)] = std::move(*a);
  }
  return arrays;
}

std::vector<double> arrayValues(const data::Array& a) {
  std::vector<double> v;
  if (a.dtype() == data::DType::F32) for (float x : a.f32()) v.push_back(x);
  else for (int32_t x : a.i32()) v.push_back(x);
  return v;
}

bool isDirectoryTarget(const std::string& out) {
  std::error_code ec;
  return (!out.empty() && out.back() == '/') || std::filesystem::is_directory(out, ec);
}

// A .npy of `elemType` (ONNX numbering) from the compiled output's f32 or i32 values.
std::vector<uint8_t> encodeTyped(int32_t elemType, const std::vector<int64_t>& shape, const std::vector<float>& f,
                                 const std::vector<int32_t>& i) {
  if (elemType != 7 && elemType != 9 && elemType != 11) {
    data::Array a = f.empty() && !i.empty() ? data::Array::fromI32(shape, i) : data::Array::fromF32(shape, f);
    return data::encodeNpy(a);
  }
  std::string dims;
  for (int64_t d : shape) dims += std::to_string(d) + ", ";
  if (shape.size() > 1) dims.resize(dims.size() - 2);
  std::string header = std::string("{'descr': '") + (elemType == 7 ? "<i8" : elemType == 11 ? "<f8" : "|b1") +
                       "', 'fortran_order': False, 'shape': (" + dims + "), }";
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::vector<uint8_t> bytes = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, uint8_t(header.size() & 0xff),
                                uint8_t(header.size() >> 8)};
  bytes.insert(bytes.end(), header.begin(), header.end());
  size_t n = f.empty() ? i.size() : f.size();
  for (size_t k = 0; k < n; ++k) {
    double v = f.empty() ? double(i[k]) : double(f[k]);
    if (elemType == 9) {
      bytes.push_back(v != 0 ? 1 : 0);
    } else if (elemType == 11) {
      uint8_t b[8];
      std::memcpy(b, &v, 8);
      bytes.insert(bytes.end(), b, b + 8);
    } else {
      int64_t x = static_cast<int64_t>(v);
      uint8_t b[8];
      std::memcpy(b, &x, 8);
      bytes.insert(bytes.end(), b, b + 8);
    }
  }
  return bytes;
}

// Temporary file and rename: a failure leaves no half-written output.
Result<void> writeAtomically(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return makeError(path + ": cannot write: " + std::strerror(errno));
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out.flush()) {
      std::remove(tmp.c_str());
      return makeError(path + ": cannot write: " + std::strerror(errno));
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return makeError(path + ": cannot write: " + std::strerror(errno));
  }
  return {};
}

// An output's file name: the output's name with path separators replaced.
std::string fileNameFor(const std::string& name) {
  std::string f = name.empty() ? std::string("output") : name;
  for (char& c : f)
    if (c == '/' || c == '\\' || c == ':') c = '_';
  if (f == "." || f == "..") f = "output";
  return f + ".npy";
}

}  // namespace

bool isOnnxPath(const std::string& path) {
  return path.size() > 5 && path.compare(path.size() - 5, 5, ".onnx") == 0;
}

void addConstOptions(CLI::App& app) {
  app.add_option("--const", constSpec(),
                 "Bind inputs to constants when the model is compiled: NAME=FILE.npy[,NAME=FILE.npy...]");
}

Result<void> bindConstInputs(Model& model) {
  auto arrays = constArrays();
  if (!arrays) return arrays.error();
  for (auto& [name, array] : *arrays) {
    NodeId id = model.graph.findLeaf(OpKind::Input, name);
    if (id == kNoNode) return makeError("--const names '" + name + "', which is not an input of the model");
    Node& n = model.graph.node(id);
    if (n.type.shape.isBatched())
      return makeError("--const " + name + ": the input has a batch dimension; only inputs of static shape can be constants");
    if (n.type.shape.dims != array.shape())
      return makeError("--const " + name + ": the array's shape " + data::shapeString(array.shape()) +
                       " differs from the input's " + n.type.shape.str());
    auto converted = data::convertArray(array, n.type.dtype == DType::F32 ? data::DType::F32 : data::DType::I32,
                                        "--const " + name);
    if (!converted) return converted.error();
    n.op = OpKind::Constant;
    n.attrs = constantAttrs(arrayValues(*converted));
  }
  return {};
}

std::optional<LoadedModel> loadOnnxModel(const std::string& path) {
  auto arrays = constArrays();
  if (!arrays) {
    reportError(path, arrays.error().message);
    return std::nullopt;
  }
  onnximport::ImportOptions options;
  for (auto& [name, a] : *arrays)
    options.constants[name] =
        onnximport::ConstTensor{a.dtype() == data::DType::F32 ? 1 : 7, a.shape(), arrayValues(a)};
  auto imported = onnximport::importOnnxFile(path, options);
  if (!imported) {
    // The importer's messages start with "FILE: "; the driver's form is "FILE: error: ...".
    std::string message = imported.error().message;
    if (message.rfind(path + ": ", 0) == 0) message = message.substr(path.size() + 2);
    reportError(path, message);
    return std::nullopt;
  }
  LoadedModel loaded;
  loaded.path = path;
  loaded.model = std::move(imported->model);
  loaded.onnx = true;
  loaded.onnxInputs = std::move(imported->inputs);
  loaded.onnxOutputs = std::move(imported->outputs);
  return loaded;
}

int predictAllOutputs(const LoadedModel& loaded, const PredictRequest& request) {
  auto fail = [](const std::string& m) {
    std::cerr << "nnc: error: " << m << '\n';
    return kExitError;
  };
  const Model& model = loaded.model;
  if (model.graph.outputs.empty()) return fail(loaded.path + ": the model declares no output");
  auto runner = ForwardRunner::create(model);
  if (!runner) return fail(runner.error().message);
  if (!request.weights.empty()) {
    auto ck = ckpt::readSafetensors(request.weights);
    if (!ck) return fail(ck.error().message);
    for (const auto& [name, t] : ck->tensors) {
      std::span<float> dst = (*runner)->state(name);
      if (dst.empty()) continue;  // optimizer slots and the like
      if (t.dtype() != data::DType::F32 || static_cast<size_t>(t.numel()) != dst.size())
        return fail(request.weights + ": tensor '" + name + "' does not match the model's " + name);
      std::memcpy(dst.data(), t.f32().data(), dst.size_bytes());
    }
  }
  const EntryInfo& entry = (*runner)->entry();
  // Inputs: npy:NAME=FILE,... (or one FILE.npy for a single-input model).
  std::map<std::string, data::Array> feed;
  std::string src = request.data;
  if (src.rfind("npy:", 0) == 0) src = src.substr(4);
  std::stringstream items(src);
  std::string item;
  while (std::getline(items, item, ',')) {
    size_t eq = item.find('=');
    std::string name = eq == std::string::npos ? std::string() : item.substr(0, eq);
    std::string file = eq == std::string::npos ? item : item.substr(eq + 1);
    if (name.empty()) {
      if (entry.inputs.size() != 1) return fail("--data: name the input of each file (npy:NAME=FILE,...)");
      name = entry.inputs[0].name;
    }
    auto a = data::loadNpy(file);
    if (!a) return fail(a.error().message);
    feed[name] = std::move(*a);
  }
  int64_t samples = -1;
  bool batched = false;
  std::vector<const data::Array*> arrays;
  for (const TensorSpec& in : entry.inputs) {
    auto it = feed.find(in.name);
    if (it == feed.end()) return fail("--data has no array for input '" + in.name + "'");
    data::Array& a = it->second;
    auto conv = data::convertArray(a, in.type.dtype == DType::F32 ? data::DType::F32 : data::DType::I32,
                                   "input '" + in.name + "'");
    if (!conv) return fail(conv.error().message);
    a = std::move(*conv);
    const Shape& s = in.type.shape;
    std::vector<int64_t> want = s.dims;
    if (s.isBatched()) {
      batched = true;
      if (a.rank() == 0) return fail("input '" + in.name + "' needs a batch dimension");
      want[0] = a.shape()[0];
      if (samples >= 0 && samples != want[0]) return fail("the inputs hold different numbers of samples");
      samples = want[0];
    }
    if (a.shape() != want)
      return fail("input '" + in.name + "' has shape " + data::shapeString(a.shape()) + "; the model takes " + s.str());
    arrays.push_back(&a);
  }
  if (!batched) samples = 1;
  // Outputs: per output, all samples.
  size_t nOut = entry.outputs.size();
  std::vector<std::vector<float>> outF(nOut);
  std::vector<std::vector<int32_t>> outI(nOut);
  std::vector<int64_t> perSample(nOut);
  for (size_t k = 0; k < nOut; ++k) perSample[k] = entry.outputs[k].type.shape.numElementsPerBatchRow();
  int64_t step = batched ? std::max<int64_t>(1, request.batch) : 1;
  for (int64_t first = 0; first < samples; first += step) {
    int64_t n = batched ? std::min(step, samples - first) : 1;
    std::vector<const void*> in;
    for (size_t k = 0; k < arrays.size(); ++k) {
      const data::Array* a = arrays[k];
      const auto* base = static_cast<const char*>(a->data());
      int64_t rowBytes = entry.inputs[k].type.shape.isBatched() ? a->sampleNumel() * 4 : 0;
      in.push_back(base + first * rowBytes);
    }
    std::vector<std::vector<char>> buffers(nOut);
    std::vector<void*> out;
    for (size_t k = 0; k < nOut; ++k) {
      int64_t count = entry.outputs[k].type.shape.isBatched() ? perSample[k] * n : perSample[k];
      buffers[k].resize(size_t(count) * 4);
      out.push_back(buffers[k].data());
    }
    if (auto ok = (*runner)->run(in, out, batched ? n : 1); !ok) return fail(ok.error().message);
    for (size_t k = 0; k < nOut; ++k) {
      if (!entry.outputs[k].type.shape.isBatched() && first > 0) continue;
      size_t count = buffers[k].size() / 4;
      if (entry.outputs[k].type.dtype == DType::F32) {
        const float* p = reinterpret_cast<const float*>(buffers[k].data());
        outF[k].insert(outF[k].end(), p, p + count);
      } else {
        const int32_t* p = reinterpret_cast<const int32_t*>(buffers[k].data());
        outI[k].insert(outI[k].end(), p, p + count);
      }
    }
  }
  bool toDir = isDirectoryTarget(request.out);
  std::string dir = request.out;
  if (toDir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return fail(request.out + ": cannot create the directory: " + ec.message());
    if (dir.back() != '/') dir += '/';
  }
  for (size_t k = 0; k < (toDir ? nOut : 1); ++k) {
    const TensorSpec& spec = entry.outputs[k];
    std::vector<int64_t> shape = spec.type.shape.dims;
    if (spec.type.shape.isBatched()) shape[0] = samples;
    int32_t declared = spec.type.dtype == DType::F32 ? 1 : 6;
    for (const auto& o : loaded.onnxOutputs)
      if (o.name == spec.name) declared = o.elemType;
    std::string path = toDir ? dir + fileNameFor(spec.name) : request.out;
    if (auto ok = writeAtomically(path, encodeTyped(declared, shape, outF[k], outI[k])); !ok)
      return fail(ok.error().message);
  }
  return kExitOk;
}

}  // namespace nnc::driver
