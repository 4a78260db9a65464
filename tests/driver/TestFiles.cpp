#include "TestFiles.h"

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "RunNnc.h"

namespace nnc::test {

namespace {

void writeNpyBytes(const std::string& path, const char* descr, const std::vector<int64_t>& shape, const void* data,
                   size_t bytes) {
  std::string dims;  // "n," for one dimension (a Python tuple), "a, b" for more
  for (size_t i = 0; i < shape.size(); ++i) dims += (i ? ", " : "") + std::to_string(shape[i]);
  if (shape.size() == 1) dims += ",";
  std::string header = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
  // Version 1.0: magic, version, u16 header length; the data starts at a multiple of 64.
  const size_t prefix = 10;
  header.append(63 - (prefix + header.size()) % 64, ' ');
  header.push_back('\n');
  std::ofstream out(path, std::ios::binary);
  out.write("\x93NUMPY\x01\x00", 8);
  const uint16_t len = uint16_t(header.size());
  const char lenBytes[2] = {char(len & 0xff), char(len >> 8)};
  out.write(lenBytes, 2);
  out << header;
  out.write(static_cast<const char*>(data), std::streamsize(bytes));
  if (!out) throw std::runtime_error("cannot write " + path);
}

std::string shapeText(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace

std::string readFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void writeNpy(const std::string& path, const std::vector<int64_t>& shape, const std::vector<float>& values) {
  writeNpyBytes(path, "<f4", shape, values.data(), values.size() * sizeof(float));
}

void writeNpy(const std::string& path, const std::vector<int64_t>& shape, const std::vector<int32_t>& values) {
  writeNpyBytes(path, "<i4", shape, values.data(), values.size() * sizeof(int32_t));
}

SafetensorsFile readSafetensorsFile(const std::string& path) {
  const std::string bytes = readFileBytes(path);
  if (bytes.size() < 8) throw std::runtime_error(path + ": shorter than a safetensors header");
  uint64_t headerLen = 0;
  for (int i = 7; i >= 0; --i) headerLen = (headerLen << 8) | uint8_t(bytes[size_t(i)]);
  if (headerLen > bytes.size() - 8) throw std::runtime_error(path + ": header longer than the file");
  const nlohmann::json header = nlohmann::json::parse(bytes.substr(8, headerLen));
  const size_t dataStart = 8 + headerLen;
  SafetensorsFile file;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      for (const auto& [key, value] : entry.items()) file.metadata[key] = value.get<std::string>();
      continue;
    }
    StoredTensor t;
    t.dtype = entry.at("dtype").get<std::string>();
    t.shape = entry.at("shape").get<std::vector<int64_t>>();
    const auto offsets = entry.at("data_offsets").get<std::vector<uint64_t>>();
    if (offsets.size() != 2 || offsets[0] > offsets[1] || dataStart + offsets[1] > bytes.size())
      throw std::runtime_error(path + ": bad data_offsets for " + name);
    t.bytes = bytes.substr(dataStart + offsets[0], offsets[1] - offsets[0]);
    file.tensors.emplace(name, std::move(t));
  }
  return file;
}

std::string compareTensorsBitwise(const SafetensorsFile& expected, const SafetensorsFile& actual) {
  for (const auto& [name, t] : actual.tensors)
    if (!expected.tensors.count(name)) return "unexpected tensor '" + name + "'";
  for (const auto& [name, want] : expected.tensors) {
    auto it = actual.tensors.find(name);
    if (it == actual.tensors.end()) return "missing tensor '" + name + "'";
    const StoredTensor& got = it->second;
    if (got.dtype != want.dtype || got.shape != want.shape)
      return "'" + name + "': " + got.dtype + shapeText(got.shape) + " instead of " + want.dtype + shapeText(want.shape);
    if (got.bytes == want.bytes) continue;
    if (got.bytes.size() != want.bytes.size() || want.dtype != "F32") return "'" + name + "': the bytes differ";
    for (size_t i = 0; i + 4 <= want.bytes.size(); i += 4) {
      if (std::memcmp(want.bytes.data() + i, got.bytes.data() + i, 4) == 0) continue;
      float a = 0, b = 0;
      std::memcpy(&a, want.bytes.data() + i, 4);
      std::memcpy(&b, got.bytes.data() + i, 4);
      std::ostringstream s;
      s.precision(9);
      s << "'" << name << "' element " << i / 4 << ": " << b << " instead of " << a;
      return s.str();
    }
  }
  return "";
}

ScratchDir::ScratchDir() : path_(makeTempDir()) {}

std::string ScratchDir::write(const std::string& name, const std::string& content) const {
  return writeFile(path_.string(), name, content);
}

ScratchDir::~ScratchDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace nnc::test
