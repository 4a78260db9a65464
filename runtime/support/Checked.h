#pragma once
// Overflow-safe size arithmetic. Every size a file header claims goes through these before it
// is compared with the real file size, so a hostile header (say 10^15 elements, or dimensions
// whose product wraps around 2^64) is reported as an error instead of wrapping to a small
// number and passing the check.
#include <cstdint>
#include <optional>
#include <span>

namespace nnc::io {

// a * b, or nullopt when the product does not fit in 64 bits.
inline std::optional<uint64_t> checkedMul(uint64_t a, uint64_t b) {
  uint64_t r;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

// a + b, or nullopt on overflow.
inline std::optional<uint64_t> checkedAdd(uint64_t a, uint64_t b) {
  uint64_t r;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}

// The product of dims (1 for an empty list), or nullopt when a dim is negative or the product
// exceeds `limit` (default: what an int64_t holds, so element counts stay signed-safe).
inline std::optional<uint64_t> checkedProduct(std::span<const int64_t> dims,
                                              uint64_t limit = uint64_t(INT64_MAX)) {
  uint64_t n = 1;
  bool zero = false;
  for (int64_t d : dims) {
    if (d < 0) return std::nullopt;
    if (d == 0) zero = true;
  }
  // A zero dimension makes the product 0 however large the others are; still refuse a
  // product of the non-zero dims that overflows, because it is an absurd header either way.
  for (int64_t d : dims) {
    if (d == 0) continue;
    auto m = checkedMul(n, uint64_t(d));
    if (!m || *m > limit) return std::nullopt;
    n = *m;
  }
  return zero ? 0 : n;
}

}  // namespace nnc::io
