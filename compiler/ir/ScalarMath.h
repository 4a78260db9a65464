#pragma once
// Scalar definitions of the elementwise ops, in the numerically careful forms the registry's
// rows (Ops.def) and the reference kernels use (double in, double out). Each matches PyTorch's definition; where the
// formula differs from the textbook one, the comment says why it is the same function.
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>

namespace nnc::scalar {

inline constexpr double kSeluScale = 1.0507009873554805;  // torch.nn.SELU
inline constexpr double kSeluAlpha = 1.6732632423543772;

// NaN propagates (as torch.relu does); otherwise max(x, 0).
inline double relu(double x) { return std::isnan(x) ? x : (x > 0 ? x : 0.0); }

inline double leakyRelu(double x, double alpha) { return x > 0 ? x : alpha * x; }

// alpha * (exp(x) - 1) for x <= 0, written with expm1 for accuracy near 0.
inline double elu(double x, double alpha) { return x > 0 ? x : alpha * std::expm1(x); }

inline double selu(double x) { return kSeluScale * elu(x, kSeluAlpha); }

// Exact GELU, 0.5 * x * (1 + erf(x / sqrt 2)), written as 0.5 * x * erfc(-x / sqrt 2): the same
// function (1 + erf(t) = erfc(-t)), without the cancellation that makes 1 + erf(t) lose every
// digit for very negative x.
inline double gelu(double x) { return 0.5 * x * std::erfc(-x / std::numbers::sqrt2); }

// 1 / (1 + exp(-x)), evaluated so that exp never overflows: for x < 0 as exp(x) / (1 + exp(x)).
inline double sigmoid(double x) {
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  double e = std::exp(x);
  return e / (1.0 + e);
}

// log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)): no overflow for large x, full accuracy
// for very negative x.
inline double softplus(double x) {
  if (std::isnan(x)) return x;
  return std::log1p(std::exp(-std::fabs(x))) + (x > 0 ? x : 0.0);
}

// -1, 0 or 1; sign(0) = 0 and NaN propagates.
inline double sign(double x) {
  if (std::isnan(x)) return x;
  return x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0);
}

// NaN if either is NaN (torch.maximum / torch.minimum), else the larger / smaller.
inline double maximum(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<double>::quiet_NaN();
  return a > b ? a : b;
}
inline double minimum(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<double>::quiet_NaN();
  return a < b ? a : b;
}

// Wraps an integer to int32 two's complement, as compiled i32 arithmetic does.
inline double wrapI32(int64_t v) { return static_cast<double>(static_cast<int32_t>(static_cast<uint32_t>(v))); }

// a > b, NaN aware: NaN beats every number (torch.max, argmax and max_pool2d propagate NaN),
// and the first NaN met stays the maximum. Used by every max-like reduction.
inline bool beatsMax(double candidate, double best) {
  return candidate > best || (std::isnan(candidate) && !std::isnan(best));
}

// ---- bf16 mixed precision (`precision = bf16`) ---------------------------------------------
// x rounded to the nearest bfloat16 (the top 16 bits of an f32), ties to even, returned as
// the f32 it denotes. The carry of the rounding increment runs into the exponent, so the
// largest finite values round to inf, inf stays inf and f32 subnormals round among bf16's
// subnormals, all by the same integer add. A NaN stays a NaN: quieted (the bit below the
// exponent set) before its low half is cut, which could otherwise leave inf. Same bits as
// the JIT's emitter (codegen/OpLowerings.cpp) and as torch's round_to_nearest_even for every
// non-NaN input.
inline float roundToBf16(float x) {
  uint32_t bits = std::bit_cast<uint32_t>(x);
  if (std::isnan(x)) return std::bit_cast<float>((bits | 0x00400000u) & 0xFFFF0000u);
  bits += 0x7FFFu + ((bits >> 16) & 1u);
  return std::bit_cast<float>(bits & 0xFFFF0000u);
}
// The registry's f64 form: through f32 first (an f64 interpreter run, as gradcheck's, rounds
// twice; compiled code and the f32 interpreter see f32 operands and round once).
inline double roundBf16(double x) { return roundToBf16(static_cast<float>(x)); }

}  // namespace nnc::scalar
