#pragma once
// upsample and pad as separable gathers: output row (or column) o of one axis reads input
// cells taps[o] with weights, and the output cell (oh, ow) is the sum over both axes' taps of
// weight_h * weight_w * x[src_h, src_w] (plus pad's constant `value` where either axis has no
// tap). The interpreter evaluates this definition and scatters through it for the
// gradients; code generation turns the taps into tables (kernels/EmitResample.cpp).
//   upsample nearest:  o reads o / scale;
//   upsample bilinear: PyTorch's interpolate(align_corners = False): the source coordinate
//                      max(0, (o + 0.5) / scale - 0.5) between its floor and the next cell
//                      (the last cell at the edge);
//   pad constant:      o reads o - before when that is inside, else nothing;
//   pad reflect:       as constant, with outside cells mirrored about the edge cell (which
//                      is not repeated: PyTorch's and NumPy's reflect); pads < the side.
#include <cstdint>
#include <string>
#include <vector>

#include "compiler/ir/Attrs.h"
#include "compiler/ir/TypedAttrs.h"

namespace nnc {

struct ImageTap {
  int64_t src;
  double weight;
};
using AxisTaps = std::vector<std::vector<ImageTap>>;  // per output index

inline AxisTaps upsampleTaps(int64_t in, int64_t scale, bool bilinear) {
  AxisTaps taps(static_cast<size_t>(in * scale));
  for (int64_t o = 0; o < in * scale; ++o) {
    auto& t = taps[static_cast<size_t>(o)];
    if (!bilinear) {
      t.push_back({o / scale, 1.0});
      continue;
    }
    double src = (static_cast<double>(o) + 0.5) / static_cast<double>(scale) - 0.5;
    if (src < 0) src = 0;
    int64_t i0 = static_cast<int64_t>(src);
    int64_t i1 = i0 < in - 1 ? i0 + 1 : i0;
    double l1 = src - static_cast<double>(i0);
    t.push_back({i0, 1.0 - l1});
    t.push_back({i1, l1});
  }
  return taps;
}

inline AxisTaps padTaps(int64_t in, int64_t before, int64_t after, bool reflect) {
  AxisTaps taps(static_cast<size_t>(in + before + after));
  for (int64_t o = 0; o < in + before + after; ++o) {
    int64_t i = o - before;
    if (reflect && i < 0) i = -i;
    if (reflect && i >= in) i = 2 * (in - 1) - i;
    if (i >= 0 && i < in) taps[static_cast<size_t>(o)].push_back({i, 1.0});
  }
  return taps;
}

// The taps of an Upsample / UpsampleGrad or Pad / PadGrad node along height (axis 0) or width
// (axis 1), for an input side `in` (attributes as the shape rules checked them).
inline AxisTaps resampleAxisTaps(bool isPad, const Attrs& a, int axis, int64_t in) {
  if (isPad) {
    const PadAttr pa = PadAttr::of(a);
    const std::vector<int64_t>& p = pa.pads;
    return padTaps(in, p.size() == 4 ? p[axis] : 0, p.size() == 4 ? p[axis + 2] : 0, pa.reflect());
  }
  const ResampleAttr ra = ResampleAttr::of(a);
  const std::vector<int64_t>& s = ra.scale;
  return upsampleTaps(in, s.size() == 2 ? s[axis] : 1, ra.bilinear());
}

}  // namespace nnc
