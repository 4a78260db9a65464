#include "compiler/ir/Type.h"

namespace nnc {

const char* dtypeName(DType t) {
  switch (t) {
    case DType::F32: return "f32";
    case DType::I32: return "i32";
  }
  return "?";
}

int64_t Shape::numElements(int64_t batchSize) const {
  int64_t n = 1;
  for (int64_t d : dims) n *= (d == kBatch ? batchSize : d);
  return n;
}

int64_t Shape::numElementsPerBatchRow() const {
  int64_t n = 1;
  for (int64_t d : dims)
    if (d != kBatch) n *= d;
  return n;
}

std::string Shape::str() const {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) s += ", ";
    s += dims[i] == kBatch ? std::string("batch") : std::to_string(dims[i]);
  }
  return s + "]";
}

std::string TensorType::str() const { return std::string(dtypeName(dtype)) + shape.str(); }

int64_t normalizeAxis(int64_t axis, size_t rank) {
  int64_t r = static_cast<int64_t>(rank);
  if (axis < -r || axis >= r) return -1;
  return axis < 0 ? axis + r : axis;
}

}  // namespace nnc
