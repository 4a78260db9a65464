#pragma once
// The geometry of a sliding window, shared by convolutions and pooling in the shape rules
// (which check it: ShapeRules.cpp), the interpreter and code generation: window size
// [kh, kw], strides [sh, sw], padding [top, left, bottom, right] = [pt, pl, pb, pr] and
// (convolutions only) dilations [dh, dw]. ConvAttr and WindowAttr (TypedAttrs.h) make one. Output cell (oh, ow) covers input rows
// oh * sh - pt + i * dh for i in [0, kh) and columns ow * sw - pl + j * dw for j in [0, kw);
// cells outside the input are padding. A dilated window spans (k - 1) * d + 1 cells.
#include <cstdint>

namespace nnc {

struct Window {
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, pt = 0, pl = 0, pb = 0, pr = 0;
  int64_t dh = 1, dw = 1;  // dilations

  int64_t row(int64_t oh, int64_t i) const { return oh * sh - pt + i * dh; }
  int64_t col(int64_t ow, int64_t j) const { return ow * sw - pl + j * dw; }
  // The span of the (dilated) window.
  int64_t spanH() const { return (kh - 1) * dh + 1; }
  int64_t spanW() const { return (kw - 1) * dw + 1; }
  bool dilated() const { return dh != 1 || dw != 1; }
};

}  // namespace nnc
