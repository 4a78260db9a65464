#pragma once
// Sliding-window geometry shared by convolution and pooling kernels: window size, strides and
// padding [top, left, bottom, right]. Output cell (oh, ow) covers input rows
// oh * sh - top + [0, kh) and columns ow * sw - left + [0, kw); cells outside the input are
// padding.
#include <cstdint>
#include <vector>

#include "compiler/ir/Attrs.h"

namespace nnc::interp {

struct Window {
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, top = 0, left = 0;

  // Geometry from `strides` and `pads`; the window size from the given dims.
  static Window from(const Attrs& a, int64_t kh, int64_t kw) {
    std::vector<int64_t> s = a.getInts("strides"), p = a.getInts("pads");
    Window w;
    w.kh = kh;
    w.kw = kw;
    if (s.size() == 2) w.sh = s[0], w.sw = s[1];
    if (p.size() == 4) w.top = p[0], w.left = p[1];
    return w;
  }
  // Geometry whose window size is the attribute `name` ([kh, kw]).
  static Window from(const Attrs& a, const char* name) {
    std::vector<int64_t> k = a.getInts(name);
    return from(a, k.size() == 2 ? k[0] : 1, k.size() == 2 ? k[1] : 1);
  }

  int64_t row(int64_t oh, int64_t i) const { return oh * sh - top + i; }
  int64_t col(int64_t ow, int64_t j) const { return ow * sw - left + j; }
};

// NHWC offset of (n, h, w, c) in a tensor of shape [N, H, W, C].
inline int64_t nhwc(const std::vector<int64_t>& s, int64_t n, int64_t h, int64_t w, int64_t c) {
  return ((n * s[1] + h) * s[2] + w) * s[3] + c;
}

}  // namespace nnc::interp
