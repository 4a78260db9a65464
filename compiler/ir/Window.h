#pragma once
// The geometry of a sliding window, shared by convolutions and pooling in the shape rules
// (which check it: ShapeRules.cpp), the interpreter and code generation: window size
// [kh, kw], strides [sh, sw], padding [top, left, bottom, right] = [pt, pl, pb, pr] and
// (convolutions only) dilations [dh, dw]. Output cell (oh, ow) covers input rows
// oh * sh - pt + i * dh for i in [0, kh) and columns ow * sw - pl + j * dw for j in [0, kw);
// cells outside the input are padding. A dilated window spans (k - 1) * d + 1 cells.
#include <cstdint>
#include <vector>

#include "compiler/ir/Attrs.h"

namespace nnc {

struct Window {
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, pt = 0, pl = 0, pb = 0, pr = 0;
  int64_t dh = 1, dw = 1;  // dilations (the `dilations` attribute; 1 when absent)

  // From `strides` and `pads` as the shape rule checked them; the window size given.
  static Window from(const Attrs& a, int64_t kh, int64_t kw) {
    std::vector<int64_t> s = a.getInts("strides"), p = a.getInts("pads");
    Window w;
    w.kh = kh;
    w.kw = kw;
    if (s.size() == 2) w.sh = s[0], w.sw = s[1];
    if (p.size() == 4) w.pt = p[0], w.pl = p[1], w.pb = p[2], w.pr = p[3];
    std::vector<int64_t> d = a.getInts("dilations");
    if (d.size() == 2) w.dh = d[0], w.dw = d[1];
    return w;
  }
  // ... the window size from the attribute `name` ([kh, kw]: `window` or `kernel`).
  static Window from(const Attrs& a, const char* name) {
    std::vector<int64_t> k = a.getInts(name);
    return from(a, k.size() == 2 ? k[0] : 1, k.size() == 2 ? k[1] : 1);
  }

  int64_t row(int64_t oh, int64_t i) const { return oh * sh - pt + i * dh; }
  int64_t col(int64_t ow, int64_t j) const { return ow * sw - pl + j * dw; }
  // The span of the (dilated) window.
  int64_t spanH() const { return (kh - 1) * dh + 1; }
  int64_t spanW() const { return (kw - 1) * dw + 1; }
  bool dilated() const { return dh != 1 || dw != 1; }
};

}  // namespace nnc
