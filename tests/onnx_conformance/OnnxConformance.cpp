// The ONNX backend conformance suite (Debian's libonnx-testdata) run through nnc: each case's
// model.onnx is imported, JIT-compiled and run on test_data_set_0's inputs, and its outputs
// are compared as ONNX's runner does (rtol 1e-3, atol 1e-7, the declared element type
// included). When a model needs some of its inputs known at compile time (the node tests pass
// shapes and axes as inputs), its int64 inputs are bound as constants (then its scalars too), like tract's `input:NAME`.
//
//   nnc_onnx_conformance DATA_DIR ALLOW_LIST [--update] [--table] [--verbose] [--only SUBSTR]
//
// The allow-list names the cases that pass ("node/test_abs"). A listed case that fails and an
// unlisted case that passes are both failures ("update the list" with --update), so the list
// always tells the truth. --table prints the passed cases per kind and per op (Markdown).
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "compiler/onnx/OnnxImport.h"
#include "compiler/session/ForwardRunner.h"

namespace fs = std::filesystem;
using namespace nnc;
using namespace nnc::onnximport;

namespace {

const char* kKinds[] = {"node", "pytorch-converted", "pytorch-operator", "simple"};

std::string readFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The op a case is filed under in the table: the graph's op type (node tests have one), or
// "(function expansion)" for the *_expanded node tests.
std::string primaryOp(const std::string& caseName, const std::string& modelBytes) {
  if (caseName.size() > 9 && caseName.compare(caseName.size() - 9, 9, "_expanded") == 0) return "(function expansion)";
  onnx::ModelProto m;
  if (!m.ParseFromString(modelBytes) || m.graph().node_size() == 0) return "?";
  return m.graph().node(0).op_type();
}

// Inputs and expected outputs of test_data_set_0, in index order.
struct DataSet {
  std::vector<std::pair<std::string, ConstTensor>> inputs, outputs;
};

Result<DataSet> readDataSet(const fs::path& dir, const onnx::ModelProto& m) {
  DataSet d;
  std::vector<std::string> inputNames, outputNames;
  std::set<std::string> inits;
  for (const auto& i : m.graph().initializer()) inits.insert(i.name());
  for (const auto& i : m.graph().input())
    if (!inits.count(i.name())) inputNames.push_back(i.name());
  for (const auto& o : m.graph().output()) outputNames.push_back(o.name());
  for (int io = 0; io < 2; ++io) {
    auto& list = io == 0 ? d.inputs : d.outputs;
    auto& names = io == 0 ? inputNames : outputNames;
    for (size_t k = 0;; ++k) {
      fs::path p = dir / ((io == 0 ? "input_" : "output_") + std::to_string(k) + ".pb");
      if (!fs::exists(p)) break;
      std::string name;
      auto t = readTensorProto(readFile(p), &name);
      if (!t) return makeError(p.filename().string() + ": " + t.error().message);
      if (k < names.size()) name = names[k];  // the model's order is the binding
      list.emplace_back(name, std::move(*t));
    }
  }
  return d;
}

bool close(double got, double want, bool integer) {
  if (integer) return got == want;
  if (std::isnan(want)) return std::isnan(got);
  if (std::isinf(want)) return got == want;
  return std::fabs(got - want) <= 1e-7 + 1e-3 * std::fabs(want);
}

// "" when the case passes, else why not.
std::string runCase(const fs::path& dir, const std::string& modelBytes, const CompileOptions& co) {
  onnx::ModelProto proto;
  if (!proto.ParseFromString(modelBytes)) return "model.onnx does not parse";
  auto data = readDataSet(dir / "test_data_set_0", proto);
  if (!data) return data.error().message;
  // First with every input fed at run time; when the import needs some of them known (shapes,
  // axes), again with the int64 inputs bound as constants.
  // Last, with the scalar inputs bound too (Range's start, limit and delta).
  auto imported = importOnnxBytes(modelBytes, "model.onnx");
  for (int attempt = 1; attempt <= 2 && !imported; ++attempt) {
    ImportOptions options;
    for (auto& [name, t] : data->inputs)
      if (t.elemType == 7 || (attempt == 2 && t.dims.empty())) options.constants[name] = t;
    if (options.constants.empty()) continue;
    auto again = importOnnxBytes(modelBytes, "model.onnx", options);
    if (again || attempt == 2) imported = std::move(again);
  }
  // Last, the inputs the import says it must know (Resize's float scales and roi), bound one
  // by one as a user would with --const after reading the error.
  ImportOptions named;
  for (int attempt = 0; attempt < 4 && !imported; ++attempt) {
    const std::string& message = imported.error().message;
    size_t at = message.find("') must be known when the model is compiled");
    size_t open = at == std::string::npos ? at : message.rfind('\'', at - 1);
    if (open == std::string::npos) break;
    std::string name = message.substr(open + 1, at - open - 1);
    auto it = std::find_if(data->inputs.begin(), data->inputs.end(), [&](const auto& in) { return in.first == name; });
    if (it == data->inputs.end() || named.constants.count(name)) break;
    for (auto& [n, t] : data->inputs)
      if (t.elemType == 7) named.constants[n] = t;
    named.constants[name] = it->second;
    imported = importOnnxBytes(modelBytes, "model.onnx", named);
  }
  if (!imported) return imported.error().message;
  auto runner = ForwardRunner::create(imported->model, co);
  if (!runner) return "compile: " + runner.error().message;
  const EntryInfo& entry = (*runner)->entry();
  std::vector<std::vector<float>> f(entry.inputs.size());
  std::vector<std::vector<int32_t>> i32(entry.inputs.size());
  std::vector<const void*> in;
  int64_t batch = 1;
  for (size_t k = 0; k < entry.inputs.size(); ++k) {
    const TensorSpec& spec = entry.inputs[k];
    auto it = std::find_if(data->inputs.begin(), data->inputs.end(), [&](auto& p) { return p.first == spec.name; });
    if (it == data->inputs.end()) return "no data for input '" + spec.name + "'";
    const ConstTensor& t = it->second;
    std::vector<int64_t> want = spec.type.shape.dims;
    if (spec.type.shape.isBatched() && !t.dims.empty()) want[0] = batch = t.dims[0];
    if (want != t.dims) return "input '" + spec.name + "' has another shape than declared";
    if (spec.type.dtype == DType::F32) {
      for (double v : t.values) f[k].push_back(static_cast<float>(v));
      in.push_back(f[k].data());
    } else {
      for (double v : t.values) {
        if (v < INT32_MIN || v > INT32_MAX) return "input '" + spec.name + "' does not fit in 32 bits";
        i32[k].push_back(static_cast<int32_t>(v));
      }
      in.push_back(i32[k].data());
    }
  }
  if (entry.outputs.size() != data->outputs.size()) return "the data set has another number of outputs";
  std::vector<std::vector<char>> buffers(entry.outputs.size());
  std::vector<void*> out;
  for (size_t k = 0; k < entry.outputs.size(); ++k) {
    buffers[k].resize(size_t(entry.outputs[k].type.shape.numElements(batch)) * 4 + 4);
    out.push_back(buffers[k].data());
  }
  if (auto ok = (*runner)->run(in, out, batch); !ok) return "run: " + ok.error().message;
  for (size_t k = 0; k < entry.outputs.size(); ++k) {
    const ConstTensor& want = data->outputs[k].second;
    const TensorSpec& spec = entry.outputs[k];
    if (imported->outputs[k].elemType != want.elemType)
      return "output " + std::to_string(k) + " is " + elemTypeName(imported->outputs[k].elemType) + ", expected " +
             elemTypeName(want.elemType);
    std::vector<int64_t> dims = spec.type.shape.dims;
    if (spec.type.shape.isBatched()) dims[0] = batch;
    if (dims != want.dims) return "output " + std::to_string(k) + " has shape " + Shape(dims).str();
    bool integer = !(want.elemType == 1 || want.elemType == 11);
    for (size_t e = 0; e < want.values.size(); ++e) {
      double got;
      if (spec.type.dtype == DType::F32) {
        float v;
        std::memcpy(&v, buffers[k].data() + e * 4, 4);
        got = v;
      } else {
        int32_t v;
        std::memcpy(&v, buffers[k].data() + e * 4, 4);
        got = v;
      }
      if (!close(got, want.values[e], integer))
        return "output " + std::to_string(k) + " element " + std::to_string(e) + ": " + std::to_string(got) +
               " instead of " + std::to_string(want.values[e]);
    }
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: nnc_onnx_conformance DATA_DIR ALLOW_LIST [--update] [--table] [--verbose] [--only SUBSTR]\n";
    return 2;
  }
  fs::path root = argv[1], listPath = argv[2];
  bool update = false, table = false, verbose = false;
  std::string only;
  for (int a = 3; a < argc; ++a) {
    std::string s = argv[a];
    if (s == "--update") update = true;
    else if (s == "--table") table = true;
    else if (s == "--verbose") verbose = true;
    else if (s == "--only" && a + 1 < argc) only = argv[++a];
  }
  std::set<std::string> allowed;
  {
    std::ifstream in(listPath);
    for (std::string line; std::getline(in, line);)
      if (!line.empty() && line[0] != '#') allowed.insert(line);
  }
  // Cases not run at all (skip.txt beside the allow-list): ones whose compilation takes
  // minutes today (each line says why).
  std::set<std::string> skipped;
  {
    std::ifstream in(listPath.parent_path() / "skip.txt");
    for (std::string line; std::getline(in, line);)
      if (!line.empty() && line[0] != '#') skipped.insert(line.substr(0, line.find(' ')));
  }
  // Compilation at LLVM -O1: the suite checks results, not speed, and compiles ~1000 models.
  CompileOptions co;
  co.optLevel = 1;
  co.useCache = false;
  co.diskCache = false;
  auto start = std::chrono::steady_clock::now();
  std::set<std::string> passed;
  std::map<std::string, std::pair<int, int>> perKind;                                   // passed, total
  std::map<std::string, std::map<std::string, std::pair<int, int>>> perOp;              // kind -> op -> ...
  int unexpectedFail = 0, unexpectedPass = 0;
  for (const char* kind : kKinds) {
    if (!fs::is_directory(root / kind)) continue;
    std::vector<fs::path> cases;
    for (const auto& e : fs::directory_iterator(root / kind))
      if (fs::exists(e.path() / "model.onnx")) cases.push_back(e.path());
    std::sort(cases.begin(), cases.end());
    for (const fs::path& dir : cases) {
      std::string id = std::string(kind) + "/" + dir.filename().string();
      if (!only.empty() && id.find(only) == std::string::npos) continue;
      if (skipped.count(id)) continue;
      std::string bytes = readFile(dir / "model.onnx");
      std::string why = runCase(dir, bytes, co);
      bool ok = why.empty();
      auto& k = perKind[kind];
      k.second++;
      auto& o = perOp[kind][std::string(kind) == "node" ? primaryOp(dir.filename().string(), bytes) : "(models)"];
      o.second++;
      if (ok) {
        passed.insert(id);
        k.first++;
        o.first++;
      }
      if (verbose) std::cout << (ok ? "PASS " : "FAIL ") << id << (ok ? "" : ": " + why) << std::endl;
      if (!update && ok && !allowed.count(id)) {
        std::cout << "UNEXPECTED PASS " << id << " (not in " << listPath.filename().string()
                  << ": update the list with --update)\n";
        ++unexpectedPass;
      }
      if (!update && !ok && allowed.count(id)) {
        std::cout << "REGRESSION " << id << ": " << why << "\n";
        ++unexpectedFail;
      }
    }
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (const auto& [kind, pt] : perKind)
    std::cout << kind << ": " << pt.first << " of " << pt.second << " cases pass\n";
  std::cout << "seconds: " << seconds << "\n";
  if (table) {
    std::cout << "\n| kind | passed | cases |\n| --- | --- | --- |\n";
    for (const auto& [kind, pt] : perKind) std::cout << "| " << kind << " | " << pt.first << " | " << pt.second << " |\n";
    std::cout << "\n| op (node tests) | passed | cases |\n| --- | --- | --- |\n";
    for (const auto& [op, pt] : perOp["node"]) std::cout << "| " << op << " | " << pt.first << " | " << pt.second << " |\n";
  }
  if (update) {
    if (!only.empty()) {
      std::cerr << "--update with --only would drop the other cases from the list\n";
      return 2;
    }
    std::ofstream out(listPath);
    out << "# ONNX conformance cases nnc passes (tests/onnx_conformance; regenerate with scripts/onnx_conformance.sh --update)\n";
    for (const std::string& id : passed) out << id << "\n";
    std::cout << "wrote " << passed.size() << " cases to " << listPath.string() << "\n";
    return 0;
  }
  if (only.empty())
    for (const std::string& id : allowed)
      if (!passed.count(id) && !perKind.empty()) {
        bool seen = false;
        for (const char* kind : kKinds) seen = seen || id.rfind(std::string(kind) + "/", 0) == 0;
        if (seen && !fs::exists(root / id)) {
          std::cout << "MISSING " << id << " (listed, but not in the data)\n";
          ++unexpectedFail;
        }
      }
  if (unexpectedFail || unexpectedPass) {
    std::cout << unexpectedFail << " listed case(s) fail, " << unexpectedPass << " unlisted case(s) pass\n";
    return 1;
  }
  return 0;
}
