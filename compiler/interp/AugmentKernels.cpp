// Augmentation (compiler/ir/Augment.h). random_flip and random_translation are interpreted
// with inference semantics, the identity (training graphs hold AugmentImages instead);
// AugmentImages moves every sample's pixels by the affine map its draws give, reading 0
// outside the image.
#include "compiler/interp/Kernels.h"
#include "compiler/ir/Augment.h"

namespace nnc::interp {

void augmentIdentityKernel(const KernelArgs& k) { k.out.data = k.in[0]->data; }

void augmentImagesKernel(const KernelArgs& k) {
  const Tensor& x = *k.in[0];
  const int64_t N = x.shape[0], H = x.shape[1], W = x.shape[2], C = x.shape.size() == 4 ? x.shape[3] : 1;
  const augment::Spec spec = augment::specOf(k.node.attrs, H, W);
  auto scalarOperand = [&](size_t i) { return k.in[i]->data.empty() ? 0.0 : k.in[i]->data[0]; };
  const uint64_t step = philox::stepFromFloat(scalarOperand(1));
  const int firstRow = augment::firstRowOperand(k.in.size());
  const uint64_t offset = firstRow >= 0 ? philox::stepFromFloat(scalarOperand(static_cast<size_t>(firstRow))) : 0;
  for (int64_t n = 0; n < N; ++n) {
    const augment::PixelMap p = augment::drawPixelMap(spec, H, W, step, offset + static_cast<uint64_t>(n));
    for (int64_t h = 0; h < H; ++h)
      for (int64_t w = 0; w < W; ++w) {
        const int64_t sh = p.aH * h + p.bH, sw = p.aW * w + p.bW;
        const bool inside = sh >= 0 && sh < H && sw >= 0 && sw < W;
        const size_t dst = static_cast<size_t>(((n * H + h) * W + w) * C);
        const size_t src = inside ? static_cast<size_t>(((n * H + sh) * W + sw) * C) : 0;
        for (int64_t c = 0; c < C; ++c) k.out.data[dst + static_cast<size_t>(c)] = inside ? x.data[src + static_cast<size_t>(c)] : 0.0;
      }
  }
}

}  // namespace nnc::interp
