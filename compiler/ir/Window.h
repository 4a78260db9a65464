#pragma once
// The geometry of a sliding window, shared by convolutions and pooling in the shape rules
// (which check it: ShapeRules.cpp), the interpreter and code generation: window size
// [kh, kw], strides [sh, sw] and padding [top, left, bottom, right] = [pt, pl, pb, pr]. Output
// cell (oh, ow) covers input rows oh * sh - pt + [0, kh) and columns ow * sw - pl + [0, kw);
// cells outside the input are padding.
#include <cstdint>
#include <vector>

#include "compiler/ir/Attrs.h"

namespace nnc {

struct Window {
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, pt = 0, pl = 0, pb = 0, pr = 0;

  // From `strides` and `pads` as the shape rule checked them; the window size given.
  static Window from(const Attrs& a, int64_t kh, int64_t kw) {
    std::vector<int64_t> s = a.getInts("strides"), p = a.getInts("pads");
    Window w;
    w.kh = kh;
    w.kw = kw;
    if (s.size() == 2) w.sh = s[0], w.sw = s[1];
    if (p.size() == 4) w.pt = p[0], w.pl = p[1], w.pb = p[2], w.pr = p[3];
    return w;
  }
  // ... the window size from the attribute `name` ([kh, kw]: `window` or `kernel`).
  static Window from(const Attrs& a, const char* name) {
    std::vector<int64_t> k = a.getInts(name);
    return from(a, k.size() == 2 ? k[0] : 1, k.size() == 2 ? k[1] : 1);
  }

  int64_t row(int64_t oh, int64_t i) const { return oh * sh - pt + i; }
  int64_t col(int64_t ow, int64_t j) const { return ow * sw - pl + j; }
};

}  // namespace nnc
