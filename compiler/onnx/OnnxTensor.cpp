// TensorProto contents as import-time tensors: raw_data (little-endian) or the typed fields.
#include <cstring>

#include "compiler/ir/Type.h"
#include "compiler/onnx/OnnxContext.h"

namespace nnc::onnximport {

const char* elemTypeName(int32_t t) {
  switch (t) {
    case 1: return "float";
    case 2: return "uint8";
    case 3: return "int8";
    case 4: return "uint16";
    case 5: return "int16";
    case 6: return "int32";
    case 7: return "int64";
    case 8: return "string";
    case 9: return "bool";
    case 10: return "float16";
    case 11: return "double";
    case 12: return "uint32";
    case 13: return "uint64";
    case 14: return "complex64";
    case 15: return "complex128";
    case 16: return "bfloat16";
    default: return "an unknown element type";
  }
}

bool isIntegerType(int32_t t) { return t == 2 || t == 3 || t == 4 || t == 5 || t == 6 || t == 7 || t == 12 || t == 13; }
bool isFloatType(int32_t t) { return t == 1 || t == 11 || t == 10 || t == 16; }

// -1 when a dimension is negative or the count exceeds nnc's limit.
int64_t elementCount(const std::vector<int64_t>& dims) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0) return -1;
    if (d != 0 && n > kMaxElements / d) return -1;
    n *= d;
  }
  return n;
}

namespace {

template <typename T>
void appendRaw(const std::string& raw, std::vector<double>& out) {
  size_t n = raw.size() / sizeof(T);
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, raw.data() + i * sizeof(T), sizeof(T));
    out.push_back(static_cast<double>(v));
  }
}

size_t elemBytes(int32_t t) {
  switch (t) {
    case 1: case 6: case 12: return 4;
    case 2: case 3: case 9: return 1;
    case 4: case 5: case 10: case 16: return 2;
    case 7: case 11: case 13: return 8;
    default: return 0;
  }
}

}  // namespace

Result<ConstTensor> tensorFromProto(const onnx::TensorProto& t) {
  ConstTensor c;
  c.elemType = t.data_type();
  for (int64_t d : t.dims()) c.dims.push_back(d);
  int64_t count = elementCount(c.dims);
  std::string name = t.name().empty() ? std::string("a tensor") : "tensor '" + t.name() + "'";
  if (count < 0) return makeError(name + " has negative or too large dimensions");
  if (t.data_location() == onnx::TensorProto::EXTERNAL)
    return makeError(name + " keeps its data in an external file, which nnc does not read");
  size_t bytes = elemBytes(c.elemType);
  if (bytes == 0 || c.elemType == 10 || c.elemType == 16)
    return makeError(name + " has element type " + elemTypeName(c.elemType) + ", which nnc does not support");
  if (t.has_raw_data()) {
    const std::string& raw = t.raw_data();
    if (raw.size() != static_cast<size_t>(count) * bytes)
      return makeError(name + " holds " + std::to_string(raw.size()) + " bytes of data for " + std::to_string(count) +
                       " elements of " + elemTypeName(c.elemType));
    switch (c.elemType) {
      case 1: appendRaw<float>(raw, c.values); break;
      case 2: appendRaw<uint8_t>(raw, c.values); break;
      case 3: appendRaw<int8_t>(raw, c.values); break;
      case 4: appendRaw<uint16_t>(raw, c.values); break;
      case 5: appendRaw<int16_t>(raw, c.values); break;
      case 6: appendRaw<int32_t>(raw, c.values); break;
      case 7: appendRaw<int64_t>(raw, c.values); break;
      case 9: appendRaw<uint8_t>(raw, c.values); break;
      case 11: appendRaw<double>(raw, c.values); break;
      case 12: appendRaw<uint32_t>(raw, c.values); break;
      case 13: appendRaw<uint64_t>(raw, c.values); break;
      default: break;
    }
  } else {
    switch (c.elemType) {
      case 1: for (float v : t.float_data()) c.values.push_back(v); break;
      case 2: case 3: case 4: case 5: case 6: case 9:
        for (int32_t v : t.int32_data()) c.values.push_back(v);
        break;
      case 7: for (int64_t v : t.int64_data()) c.values.push_back(static_cast<double>(v)); break;
      case 11: for (double v : t.double_data()) c.values.push_back(v); break;
      case 12: case 13: for (uint64_t v : t.uint64_data()) c.values.push_back(static_cast<double>(v)); break;
      default: break;
    }
    if (c.values.size() != static_cast<size_t>(count))
      return makeError(name + " holds " + std::to_string(c.values.size()) + " values for its " + std::to_string(count) +
                       " elements");
  }
  if (c.elemType == 9)
    for (double& v : c.values) v = v != 0 ? 1 : 0;
  return c;
}

Result<ConstTensor> readTensorProto(const std::string& bytes, std::string* name) {
  onnx::TensorProto t;
  if (!t.ParseFromString(bytes)) return makeError("not a valid ONNX TensorProto (truncated or another format)");
  if (name) *name = t.name();
  return tensorFromProto(t);
}

}  // namespace nnc::onnximport
