#pragma once
// Data augmentation (random_flip, random_translation): the attributes of the AugmentImages
// op and the per-sample draws, shared by the reference interpreter and the code generator so
// that both draw exactly the same transforms.
//
// Draws follow DropoutMask's Philox convention (support/Philox.h) with one counter index per
// decision, keyed by the sample's global row g (its row in the whole batch: under MPI a
// process's rows start at first_row) so that every process draws what one process would:
//   bits(j) = philox::uniformBits(seed, salt, step, 2 * g + j), j = 0 (height), 1 (width)
//   flip:        flip along the axis when bits(j) < 2^23 (probability 1/2, independently per
//                axis: `horizontal` flips the width axis with bits(1), `vertical` the height
//                axis with bits(0), `both` each with its own draw)
//   translation: m = floor(fraction * size) (the largest whole shift within the fraction),
//                shift = floor(bits(j) * (2m + 1) / 2^24) - m, uniform over -m .. m
//                (exactly, up to 2^-24); output[h][w] = x[h - dy][w - dx], 0 outside, so a
//                positive shift moves the content down and right (Keras' RandomTranslation
//                with fill_mode = constant, fill_value = 0 and nearest interpolation).
// The salt of the k-th augmentation of a model (in node order) is kSaltBase + k, apart from
// dropout's salts 0, 1, 2, ...
//
// Every draw becomes an affine map of output pixel (h, w) to the source pixel
// (aH * h + bH, aW * w + bW); a source outside the image reads as 0.
#include <cmath>
#include <cstdint>
#include <string>

#include "compiler/ir/Attrs.h"
#include "compiler/ir/OpAttrs.h"
#include "support/Philox.h"

namespace nnc::augment {

inline constexpr uint64_t kSaltBase = 0x80000000u;

// The flip modes, as `random_flip(mode = ...)` names them.
inline bool isFlipMode(const std::string& m) { return m == "horizontal" || m == "vertical" || m == "both"; }

// AugmentImages' operands: (x, step[, first_row]).
inline int firstRowOperand(size_t operands) { return operands > 2 ? 2 : -1; }

// The largest whole shift within `fraction` of `size` pixels.
inline int64_t maxShift(double fraction, int64_t size) {
  double m = std::floor(fraction * static_cast<double>(size));
  return m > 0 ? static_cast<int64_t>(m) : 0;
}

// A shift uniform over -m .. m from 24 random bits (exact integer arithmetic: the JIT emits
// the same multiply and shift).
inline int64_t shiftFromBits(uint32_t bits, int64_t m) {
  return static_cast<int64_t>((static_cast<uint64_t>(bits) * static_cast<uint64_t>(2 * m + 1)) >> 24) - m;
}
inline bool flipFromBits(uint32_t bits) { return bits < (1u << 23); }

// An AugmentImages node's transform, resolved against its image size.
struct Spec {
  bool translation = false;   // else a flip
  bool flipHeight = false;    // flip: which axes may flip
  bool flipWidth = false;
  int64_t maxDy = 0, maxDx = 0;  // translation: the largest shifts
  bool inverse = false;       // translation: shift by minus the draw (the gradient)
  uint64_t seed = 0, salt = 0;
};

inline Spec specOf(const Attrs& a, int64_t H, int64_t W) {
  Spec s;
  const AugmentAttr at = AugmentAttr::of(a);
  s.translation = at.translation();
  const std::string& mode = at.mode;
  s.flipHeight = !s.translation && (mode == "vertical" || mode == "both");
  s.flipWidth = !s.translation && (mode == "horizontal" || mode == "both");
  if (s.translation) {
    s.maxDy = maxShift(at.height, H);
    s.maxDx = maxShift(at.width, W);
  }
  s.inverse = at.inverse;
  s.seed = at.seed.value;
  s.salt = at.salt.value;
  return s;
}

// Output pixel (h, w) reads source (aH * h + bH, aW * w + bW).
struct PixelMap {
  int64_t aH = 1, bH = 0, aW = 1, bW = 0;
};

// One axis of the map from its 24 random bits.
inline void axisMap(const Spec& s, bool heightAxis, uint32_t bits, int64_t size, int64_t& a, int64_t& b) {
  a = 1;
  b = 0;
  if (s.translation) {
    int64_t shift = shiftFromBits(bits, heightAxis ? s.maxDy : s.maxDx);
    b = s.inverse ? shift : -shift;  // source = h - shift; the gradient reads h + shift
  } else if ((heightAxis ? s.flipHeight : s.flipWidth) && flipFromBits(bits)) {
    a = -1;
    b = size - 1;
  }
}

inline PixelMap drawPixelMap(const Spec& s, int64_t H, int64_t W, uint64_t step, uint64_t globalRow) {
  PixelMap p;
  axisMap(s, true, philox::uniformBits(s.seed, s.salt, step, 2 * globalRow), H, p.aH, p.bH);
  axisMap(s, false, philox::uniformBits(s.seed, s.salt, step, 2 * globalRow + 1), W, p.aW, p.bW);
  return p;
}

}  // namespace nnc::augment
