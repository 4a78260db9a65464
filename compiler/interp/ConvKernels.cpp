// 2-D convolution, NHWC input and HWIO filter, as TensorFlow's conv2d and PyTorch's conv2d
// (cross-correlation: the filter is not flipped), zero padding; and its two adjoints, written
// as direct loops over the same index set so they are exact transposes of the forward loop:
//   y[n, oh, ow, f]  = sum_{i, j, c} x[n, oh*sh - top + i, ow*sw - left + j, c] * w[i, j, c, f]
//   dx[n, h, w, c]   = sum over every (oh, ow, i, j, f) that reads x[n, h, w, c] of dy * w
//   dw[i, j, c, f]   = sum_{n, oh, ow} x[n, oh*sh - top + i, ow*sw - left + j, c] * dy[n, oh, ow, f]
// Terms that would read padding are zero and skipped. Dilation d spaces the taps: the rows read
// are oh*sh - top + i*dh (Window::row). With `groups` G, channel c and filter f meet only when
// they are in the same group: c / (C/G) == f / (F/G); the filter's third axis is c mod C/G.
#include "compiler/interp/Kernels.h"
#include "compiler/interp/Window.h"
#include "compiler/ir/OpAttrs.h"

namespace nnc::interp {

namespace {

// Calls body(n, oh, ow, i, j, h, w) for every output position and filter tap that reads a real
// input cell (h, w): the index set shared by the convolution and its adjoints.
template <class Body>
void forEachTap(const Window& g, int64_t batch, int64_t outH, int64_t outW, int64_t inH, int64_t inW, Body&& body) {
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t oh = 0; oh < outH; ++oh)
      for (int64_t ow = 0; ow < outW; ++ow)
        for (int64_t i = 0; i < g.kh; ++i) {
          int64_t h = g.row(oh, i);
          if (h < 0 || h >= inH) continue;
          for (int64_t j = 0; j < g.kw; ++j) {
            int64_t w = g.col(ow, j);
            if (w < 0 || w >= inW) continue;
            body(n, oh, ow, i, j, h, w);
          }
        }
}

// The channel/filter pairs of a grouped convolution: body(c, ci, f) for every input channel c
// (ci its index in the group's filter slice) and filter f of the same group.
struct ConvGroupsRef {
  int64_t groups, cg, fg;  // groups, channels and filters per group
  ConvGroupsRef(const Attrs& a, int64_t C, int64_t F) : groups(ConvAttr::of(a).groups), cg(C / groups), fg(F / groups) {}
  template <class Body>
  void each(Body&& body) const {
    for (int64_t g = 0; g < groups; ++g)
      for (int64_t ci = 0; ci < cg; ++ci)
        for (int64_t fi = 0; fi < fg; ++fi) body(g * cg + ci, ci, g * fg + fi);
  }
};

}  // namespace

// (x[N, H, W, C], w[KH, KW, C, F]) -> y[N, OH, OW, F]
void conv2dKernel(const KernelArgs& k) {
  const Tensor &x = *k.in[0], &w = *k.in[1];
  const std::vector<int64_t>& ys = k.out.shape;
  int64_t Cg = w.shape[2], F = w.shape[3];
  ConvGroupsRef groups(k.node.attrs, x.shape[3], F);
  Window g = ConvAttr::of(k.node).window(w.shape[0], w.shape[1]);
  forEachTap(g, ys[0], ys[1], ys[2], x.shape[1], x.shape[2],
             [&](int64_t n, int64_t oh, int64_t ow, int64_t i, int64_t j, int64_t h, int64_t wc) {
               double* y = k.out.data.data() + nhwc(ys, n, oh, ow, 0);
               const double* xv = x.data.data() + nhwc(x.shape, n, h, wc, 0);
               const double* wv = w.data.data() + ((i * w.shape[1] + j) * Cg) * F;
               groups.each([&](int64_t c, int64_t ci, int64_t f) { y[f] += xv[c] * wv[ci * F + f]; });
             });
}

// (dy[N, OH, OW, F], w[KH, KW, C, F]) -> dx[N, H, W, C], H and W from `input_hw`.
void conv2dGradInputKernel(const KernelArgs& k) {
  const Tensor &dy = *k.in[0], &w = *k.in[1];
  const std::vector<int64_t>& xs = k.out.shape;
  int64_t Cg = w.shape[2], F = w.shape[3];
  ConvGroupsRef groups(k.node.attrs, xs[3], F);
  Window g = ConvAttr::of(k.node).window(w.shape[0], w.shape[1]);
  forEachTap(g, dy.shape[0], dy.shape[1], dy.shape[2], xs[1], xs[2],
             [&](int64_t n, int64_t oh, int64_t ow, int64_t i, int64_t j, int64_t h, int64_t wc) {
               const double* d = dy.data.data() + nhwc(dy.shape, n, oh, ow, 0);
               double* dx = k.out.data.data() + nhwc(xs, n, h, wc, 0);
               const double* wv = w.data.data() + ((i * w.shape[1] + j) * Cg) * F;
               groups.each([&](int64_t c, int64_t ci, int64_t f) { dx[c] += d[f] * wv[ci * F + f]; });
             });
}

// (x[N, H, W, C], dy[N, OH, OW, F]) -> dw[KH, KW, C, F], KH and KW from `kernel`.
void conv2dGradFilterKernel(const KernelArgs& k) {
  const Tensor &x = *k.in[0], &dy = *k.in[1];
  const std::vector<int64_t>& ws = k.out.shape;
  int64_t Cg = ws[2], F = ws[3];
  ConvGroupsRef groups(k.node.attrs, x.shape[3], F);
  Window g = ConvAttr::of(k.node).window(ws[0], ws[1]);
  forEachTap(g, dy.shape[0], dy.shape[1], dy.shape[2], x.shape[1], x.shape[2],
             [&](int64_t n, int64_t oh, int64_t ow, int64_t i, int64_t j, int64_t h, int64_t wc) {
               const double* d = dy.data.data() + nhwc(dy.shape, n, oh, ow, 0);
               const double* xv = x.data.data() + nhwc(x.shape, n, h, wc, 0);
               double* dw = k.out.data.data() + ((i * ws[1] + j) * Cg) * F;
               groups.each([&](int64_t c, int64_t ci, int64_t f) { dw[ci * F + f] += xv[c] * d[f]; });
             });
}

}  // namespace nnc::interp
