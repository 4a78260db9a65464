// Pooling over NHWC windows (attrs window, strides, pads) and the gradients of pooling.
//   maxpool: padding cells are -inf, i.e. ignored (the shape rule keeps padding smaller than
//            the window, so every window holds a real cell).
//   avgpool: the mean of the real cells only: padding cells are not counted (TensorFlow's
//            `same`; PyTorch's count_include_pad=False).
//   maxpool_grad(x, dy): each window's gradient goes to the first maximum of that window in
//            row-major scan order (PyTorch); overlapping windows accumulate.
//   avgpool_grad(dy): each window's gradient spread evenly over its real cells.
#include <limits>

#include "compiler/interp/Kernels.h"
#include "compiler/ir/ScalarMath.h"
#include "compiler/interp/Window.h"
#include "compiler/ir/TypedAttrs.h"

namespace nnc::interp {

namespace {

// The real input cells of one pooling window: rows [h0, h1) and columns [w0, w1).
struct Cells {
  int64_t h0, h1, w0, w1;
  int64_t count() const { return (h1 - h0) * (w1 - w0); }
};

Cells cellsOf(const Window& g, int64_t oh, int64_t ow, int64_t inH, int64_t inW) {
  int64_t h0 = g.row(oh, 0), w0 = g.col(ow, 0);
  Cells c{h0 < 0 ? 0 : h0, h0 + g.kh > inH ? inH : h0 + g.kh, w0 < 0 ? 0 : w0, w0 + g.kw > inW ? inW : w0 + g.kw};
  if (c.h1 < c.h0) c.h1 = c.h0;
  if (c.w1 < c.w0) c.w1 = c.w0;
  return c;
}

// Calls body(n, oh, ow, c, cells) for every output element of a pooling with output shape
// `out` over an input of height inH and width inW.
template <class Body>
void forEachWindow(const Window& g, const std::vector<int64_t>& out, int64_t inH, int64_t inW, Body&& body) {
  for (int64_t n = 0; n < out[0]; ++n)
    for (int64_t oh = 0; oh < out[1]; ++oh)
      for (int64_t ow = 0; ow < out[2]; ++ow) {
        Cells cells = cellsOf(g, oh, ow, inH, inW);
        for (int64_t c = 0; c < out[3]; ++c) body(n, oh, ow, c, cells);
      }
}

// The offset of the first maximum of one window and channel (-1 for a window without cells).
int64_t argMaxInWindow(const Tensor& x, int64_t n, int64_t c, const Cells& cells) {
  int64_t best = -1;
  double bestValue = -std::numeric_limits<double>::infinity();
  for (int64_t h = cells.h0; h < cells.h1; ++h)
    for (int64_t w = cells.w0; w < cells.w1; ++w) {
      int64_t at = nhwc(x.shape, n, h, w, c);
      double v = x.data[static_cast<size_t>(at)];
      if (best < 0 || scalar::beatsMax(v, bestValue)) best = at, bestValue = v;
    }
  return best;
}

}  // namespace

void maxPoolKernel(const KernelArgs& k) {
  const Tensor& x = *k.in[0];
  Window g = WindowAttr::of(k.node).geometry();
  forEachWindow(g, k.out.shape, x.shape[1], x.shape[2], [&](int64_t n, int64_t oh, int64_t ow, int64_t c, const Cells& cells) {
    int64_t at = argMaxInWindow(x, n, c, cells);
    k.out.data[static_cast<size_t>(nhwc(k.out.shape, n, oh, ow, c))] =
        at < 0 ? -std::numeric_limits<double>::infinity() : x.data[static_cast<size_t>(at)];
  });
}

void maxPoolGradKernel(const KernelArgs& k) {
  const Tensor &x = *k.in[0], &dy = *k.in[1];
  Window g = WindowAttr::of(k.node).geometry();
  forEachWindow(g, dy.shape, x.shape[1], x.shape[2], [&](int64_t n, int64_t oh, int64_t ow, int64_t c, const Cells& cells) {
    int64_t at = argMaxInWindow(x, n, c, cells);
    if (at >= 0) k.out.data[static_cast<size_t>(at)] += dy.data[static_cast<size_t>(nhwc(dy.shape, n, oh, ow, c))];
  });
}

void avgPoolKernel(const KernelArgs& k) {
  const Tensor& x = *k.in[0];
  Window g = WindowAttr::of(k.node).geometry();
  forEachWindow(g, k.out.shape, x.shape[1], x.shape[2], [&](int64_t n, int64_t oh, int64_t ow, int64_t c, const Cells& cells) {
    double sum = 0;
    for (int64_t h = cells.h0; h < cells.h1; ++h)
      for (int64_t w = cells.w0; w < cells.w1; ++w) sum += x.data[static_cast<size_t>(nhwc(x.shape, n, h, w, c))];
    int64_t count = cells.count();
    k.out.data[static_cast<size_t>(nhwc(k.out.shape, n, oh, ow, c))] = count > 0 ? sum / static_cast<double>(count) : 0.0;
  });
}

void avgPoolGradKernel(const KernelArgs& k) {
  const Tensor& dy = *k.in[0];
  const std::vector<int64_t>& xs = k.out.shape;
  Window g = WindowAttr::of(k.node).geometry();
  forEachWindow(g, dy.shape, xs[1], xs[2], [&](int64_t n, int64_t oh, int64_t ow, int64_t c, const Cells& cells) {
    int64_t count = cells.count();
    if (count == 0) return;
    double share = dy.data[static_cast<size_t>(nhwc(dy.shape, n, oh, ow, c))] / static_cast<double>(count);
    for (int64_t h = cells.h0; h < cells.h1; ++h)
      for (int64_t w = cells.w0; w < cells.w1; ++w) k.out.data[static_cast<size_t>(nhwc(xs, n, h, w, c))] += share;
  });
}

}  // namespace nnc::interp
