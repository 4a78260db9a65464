#include "runtime/data/Array.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "runtime/support/Checked.h"

namespace nnc::data {

const char* dtypeName(DType t) { return t == DType::F32 ? "f32" : "i32"; }

std::string shapeString(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

Array Array::zeros(DType dtype, std::vector<int64_t> shape) {
  Array a;
  a.dtype_ = dtype;
  size_t n = size_t(io::checkedProduct(shape).value_or(0));
  if (dtype == DType::F32) a.f32_.assign(n, 0.0f);
  else a.i32_.assign(n, 0);
  a.shape_ = std::move(shape);
  return a;
}

Array Array::fromF32(std::vector<int64_t> shape, std::vector<float> values) {
  Array a;
  a.dtype_ = DType::F32;
  a.shape_ = std::move(shape);
  a.f32_ = std::move(values);
  return a;
}

Array Array::fromI32(std::vector<int64_t> shape, std::vector<int32_t> values) {
  Array a;
  a.dtype_ = DType::I32;
  a.shape_ = std::move(shape);
  a.i32_ = std::move(values);
  return a;
}

std::vector<int64_t> Array::sampleShape() const {
  if (shape_.empty()) return {};
  return std::vector<int64_t>(shape_.begin() + 1, shape_.end());
}

int64_t Array::sampleNumel() const {
  auto s = sampleShape();
  return int64_t(io::checkedProduct(s).value_or(0));
}

Result<void> Array::reshape(std::vector<int64_t> shape) {
  auto n = io::checkedProduct(shape);
  if (!n || int64_t(*n) != numel())
    return makeError("cannot reshape an array of shape " + shapeString(shape_) + " (" + std::to_string(numel()) +
                     " values) to " + shapeString(shape));
  shape_ = std::move(shape);
  return {};
}

Result<Array> convertArray(Array a, DType to, const std::string& what) {
  if (a.dtype() == to) return a;
  if (to == DType::F32) {
    auto src = a.i32();
    std::vector<float> out(src.begin(), src.end());
    return Array::fromF32(a.shape(), std::move(out));
  }
  auto src = a.f32();
  std::vector<int32_t> out(src.size());
  int64_t perSample = a.rank() > 0 ? std::max<int64_t>(a.sampleNumel(), 1) : 1;
  for (size_t i = 0; i < src.size(); ++i) {
    float v = src[i];
    // 2147483648 is exactly representable as a float; everything below it that is integral
    // fits in i32.
    if (!(std::nearbyint(v) == v) || v < -2147483648.0f || v >= 2147483648.0f) {
      std::ostringstream os;
      os << what << ": expected integer values (i32), but sample " << int64_t(i) / perSample;
      if (perSample > 1) os << " (element " << int64_t(i) % perSample << " of it)";
      os << " holds " << v;
      return makeError(os.str());
    }
    out[i] = int32_t(v);
  }
  return Array::fromI32(a.shape(), std::move(out));
}

}  // namespace nnc::data
