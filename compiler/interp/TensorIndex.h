#pragma once
// Index arithmetic shared by the reference kernels: row-major strides, broadcast strides and a
// row-major walk over a shape that keeps operand offsets up to date incrementally (no
// division per element, no allocation per element).
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace nnc::interp {

// Row-major strides of a concrete shape: the last axis has stride 1.
inline std::vector<int64_t> rowMajorStrides(const std::vector<int64_t>& shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (size_t i = shape.size(); i-- > 1;) s[i - 1] = s[i] * shape[i];
  return s;
}

// Strides that read a tensor of shape `in` as if broadcast (NumPy rules: aligned at the last
// axis, size-1 axes repeated) to shape `out`: 0 along every axis `in` lacks or has as 1.
inline std::vector<int64_t> broadcastStrides(const std::vector<int64_t>& in, const std::vector<int64_t>& out) {
  std::vector<int64_t> inStrides = rowMajorStrides(in);
  std::vector<int64_t> s(out.size(), 0);
  size_t lead = out.size() - in.size();
  for (size_t i = 0; i < in.size(); ++i) s[lead + i] = in[i] == 1 ? 0 : inStrides[i];
  return s;
}

// Product of dims[begin, end).
inline int64_t product(const std::vector<int64_t>& dims, size_t begin, size_t end) {
  int64_t n = 1;
  for (size_t i = begin; i < end && i < dims.size(); ++i) n *= dims[i];
  return n;
}

// Visits every position of `shape` in row-major order as visit(linearIndex, offsets), where
// offsets[k] is the position's offset in operand k, whose per-axis strides are strides[k].
template <size_t N, class Visit>
void forEachIndex(const std::vector<int64_t>& shape, const std::array<std::vector<int64_t>, N>& strides,
                  Visit&& visit) {
  int64_t total = product(shape, 0, shape.size());
  if (total == 0) return;
  std::vector<int64_t> index(shape.size(), 0);
  std::array<int64_t, N> offsets{};
  for (int64_t linear = 0; linear < total; ++linear) {
    visit(linear, offsets);
    // Advance the odometer: bump the last axis, carrying into earlier ones.
    for (size_t d = shape.size(); d-- > 0;) {
      for (size_t k = 0; k < N; ++k) offsets[k] += strides[k][d];
      if (++index[d] < shape[d]) break;
      for (size_t k = 0; k < N; ++k) offsets[k] -= strides[k][d] * shape[d];
      index[d] = 0;
    }
  }
}

}  // namespace nnc::interp
