// upsample and pad, and their gradients, from their separable taps (compiler/ir/ImageTaps.h):
// the forward kernels gather through the taps, the gradients scatter back through the same
// taps (so a reflected cell's gradient folds back onto its source, and a bilinear output's
// onto its four sources).
#include "compiler/interp/Kernels.h"
#include "compiler/interp/Window.h"
#include "compiler/ir/ImageTaps.h"

namespace nnc::interp {

namespace {

bool isPadOp(OpKind op) { return op == OpKind::Pad || op == OpKind::PadGrad; }

// Calls body(n, oh, ow, c, x offset, weight) for every tap of every output cell of the
// resampling from `xs` to `ys`; fill(n, oh, ow, c) for cells without taps (pad's constant).
template <class Body, class Fill>
void forEachImageTap(const Node& node, const std::vector<int64_t>& xs, const std::vector<int64_t>& ys, Body&& body,
                     Fill&& fill) {
  bool isPad = isPadOp(node.op);
  AxisTaps th = resampleAxisTaps(isPad, node.attrs, 0, xs[1]), tw = resampleAxisTaps(isPad, node.attrs, 1, xs[2]);
  for (int64_t n = 0; n < ys[0]; ++n)
    for (int64_t oh = 0; oh < ys[1]; ++oh)
      for (int64_t ow = 0; ow < ys[2]; ++ow)
        for (int64_t c = 0; c < ys[3]; ++c) {
          const auto &h = th[static_cast<size_t>(oh)], &w = tw[static_cast<size_t>(ow)];
          if (h.empty() || w.empty()) fill(n, oh, ow, c);
          for (const ImageTap& a : h)
            for (const ImageTap& b : w) body(n, oh, ow, c, nhwc(xs, n, a.src, b.src, c), a.weight * b.weight);
        }
}

void resampleForward(const KernelArgs& k) {
  const Tensor& x = *k.in[0];
  double value = PadAttr::of(k.node).value;
  auto at = [&](int64_t n, int64_t oh, int64_t ow, int64_t c) -> double& {
    return k.out.data[static_cast<size_t>(nhwc(k.out.shape, n, oh, ow, c))];
  };
  forEachImageTap(
      k.node, x.shape, k.out.shape,
      [&](int64_t n, int64_t oh, int64_t ow, int64_t c, int64_t src, double weight) {
        at(n, oh, ow, c) += weight * x.data[static_cast<size_t>(src)];
      },
      [&](int64_t n, int64_t oh, int64_t ow, int64_t c) { at(n, oh, ow, c) = value; });
}

void resampleGrad(const KernelArgs& k) {
  const Tensor& dy = *k.in[0];
  forEachImageTap(
      k.node, k.out.shape, dy.shape,
      [&](int64_t n, int64_t oh, int64_t ow, int64_t c, int64_t src, double weight) {
        k.out.data[static_cast<size_t>(src)] += weight * dy.data[static_cast<size_t>(nhwc(dy.shape, n, oh, ow, c))];
      },
      [](int64_t, int64_t, int64_t, int64_t) {});
}

}  // namespace

void upsampleKernel(const KernelArgs& k) { resampleForward(k); }
void upsampleGradKernel(const KernelArgs& k) { resampleGrad(k); }
void padKernel(const KernelArgs& k) { resampleForward(k); }
void padGradKernel(const KernelArgs& k) { resampleGrad(k); }

}  // namespace nnc::interp
