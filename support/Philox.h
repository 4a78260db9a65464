#pragma once
// Philox-4x32-10, the counter-based random number generator of Salmon et al., "Parallel
// Random Numbers: As Easy as 1, 2, 3" (SC 2011), as in Random123 and in the stateless RNGs
// of JAX, TensorFlow and cuRAND. A counter-based generator has no state to carry between
// calls: the value for element i of step s is a pure function of (key, counter), so any
// thread computes any element in any order, the interpreter and compiled code agree bit
// for bit, and a training run is reproducible from its seed alone.
//
// This header is the single definition of nnc's random numbers. The reference interpreter
// calls it directly; the code generator emits the same arithmetic (32-bit multiplies, xors and
// the conversions below), so any change here must change both and the known-answer tests.
//
// nnc's convention for dropout masks (DropoutMask op):
//   key     = { low 32 bits of seed, low 32 bits of salt }   (salt tells dropout layers apart)
//   counter = { low 32 bits of index, high 32 bits of index,
//               low 32 bits of step,  high 32 bits of step }
//   u       = (first output word >> 8) * 2^-24               (24 bits: exact in a float, in [0, 1))
//   keep    = u >= rate, i.e. (word >> 8) >= dropoutThreshold(rate)
// where index is the element's row-major position in the concrete tensor and step is the
// optimizer step counter.
#include <array>
#include <cstdint>

namespace nnc::philox {

using Counter = std::array<uint32_t, 4>;
using Key = std::array<uint32_t, 2>;

// Round multipliers and Weyl key increments (Salmon et al., Table 2; Random123's defaults).
inline constexpr uint32_t kMul0 = 0xD2511F53u;
inline constexpr uint32_t kMul1 = 0xCD9E8D57u;
inline constexpr uint32_t kWeyl0 = 0x9E3779B9u;  // golden ratio
inline constexpr uint32_t kWeyl1 = 0xBB67AE85u;  // sqrt(3) - 1
inline constexpr int kRounds = 10;

// One Philox S-box round: two 32x32->64 multiplies, their halves xored with the other words
// and the key.
constexpr Counter singleRound(const Counter& c, const Key& k) {
  uint64_t p0 = uint64_t(kMul0) * c[0];
  uint64_t p1 = uint64_t(kMul1) * c[2];
  uint32_t hi0 = uint32_t(p0 >> 32), lo0 = uint32_t(p0);
  uint32_t hi1 = uint32_t(p1 >> 32), lo1 = uint32_t(p1);
  return Counter{hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0};
}

// Philox-4x32-10: ten rounds, the key bumped by the Weyl constants between rounds.
constexpr Counter philox4x32(Counter c, Key k) {
  for (int r = 0; r < kRounds; ++r) {
    if (r > 0) k = Key{k[0] + kWeyl0, k[1] + kWeyl1};
    c = singleRound(c, k);
  }
  return c;
}

constexpr Key makeKey(uint64_t seed, uint64_t salt) { return Key{uint32_t(seed), uint32_t(salt)}; }

constexpr Counter makeCounter(uint64_t step, uint64_t index) {
  return Counter{uint32_t(index), uint32_t(index >> 32), uint32_t(step), uint32_t(step >> 32)};
}

// The 24 random bits behind one uniform: the top 24 bits of the first output word.
constexpr uint32_t uniformBits(uint64_t seed, uint64_t salt, uint64_t step, uint64_t index) {
  return philox4x32(makeCounter(step, index), makeKey(seed, salt))[0] >> 8;
}

// A uniform float in [0, 1): a multiple of 2^-24, so exact in float and in double.
constexpr float uniform(uint64_t seed, uint64_t salt, uint64_t step, uint64_t index) {
  return float(uniformBits(seed, salt, step, index)) * 0x1p-24f;
}

// The smallest 24-bit value b with b * 2^-24 >= rate, so that `uniformBits(...) >= threshold`
// is exactly `uniform(...) >= rate` without a float comparison (rate * 2^24 is exact in double;
// this is ceil() written out, because std::ceil is not constexpr). rate <= 0 keeps everything,
// rate >= 1 nothing (threshold 2^24 is beyond every 24-bit value).
constexpr uint32_t dropoutThreshold(double rate) {
  if (!(rate > 0)) return 0;
  if (rate >= 1) return uint32_t(1) << 24;
  double scaled = rate * 16777216.0;  // rate * 2^24, in (0, 2^24)
  uint32_t floor = uint32_t(scaled);
  return double(floor) == scaled ? floor : floor + 1;
}

// The step counter arrives as an f32 run-time scalar. It becomes an integer by truncation;
// NaN and negative values count as step 0 and values beyond 2^64 saturate, so no input is UB.
constexpr uint64_t stepFromFloat(double step) {
  if (!(step > 0)) return 0;
  if (step >= 18446744073709551616.0) return ~uint64_t(0);
  return uint64_t(step);
}

}  // namespace nnc::philox

namespace nnc {

// A uniform float in [0, 1) for element `index` at optimizer step `step`, from the stream
// keyed by (seed, salt); see the convention above.
constexpr float philoxUniform(uint64_t seed, uint64_t salt, uint64_t step, uint64_t index) {
  return philox::uniform(seed, salt, step, index);
}

}  // namespace nnc
