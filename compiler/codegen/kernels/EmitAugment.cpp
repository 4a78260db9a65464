// AugmentImages (compiler/ir/Augment.h): every sample's image flipped or shifted, with the
// interpreter's draws bit for bit (the Philox bits of EmitRandom.cpp, the same integer
// arithmetic from bits to pixel map).
//
// Parallel over images: each draws its two 24-bit numbers once, turns them into the affine
// map (aH, bH, aW, bW) of output pixel to source pixel, and copies whole pixels; the
// innermost loop runs over channels, contiguous in both buffers, and vectorises. A source
// outside the image is read at pixel 0 and replaced by 0 with a select, so no load is out of
// bounds and the loop has no branch.
#include "compiler/codegen/Emit.h"
#include "compiler/ir/Augment.h"

namespace nnc::codegen {

using llvm::Value;

namespace {

struct AugmentAxisMap {
  Value* a;
  Value* b;
};

// One axis of the pixel map from its random bits, as augment::axisMap computes it.
AugmentAxisMap emitAugmentAxisMap(TaskBuilder& tb, const augment::Spec& spec, bool heightAxis, Value* bits, int64_t size) {
  auto& b = tb.b();
  if (spec.translation) {
    const int64_t m = heightAxis ? spec.maxDy : spec.maxDx;
    Value* scaled = b.CreateMul(b.CreateZExt(bits, b.getInt64Ty()), tb.i64(2 * m + 1));
    Value* shift = b.CreateSub(b.CreateLShr(scaled, 24), tb.i64(m));
    return {tb.i64(1), spec.inverse ? shift : b.CreateNeg(shift)};
  }
  if (!(heightAxis ? spec.flipHeight : spec.flipWidth)) return {tb.i64(1), tb.i64(0)};
  Value* flip = b.CreateICmpULT(bits, b.getInt32(1u << 23));
  return {b.CreateSelect(flip, tb.i64(-1), tb.i64(1)), b.CreateSelect(flip, tb.i64(size - 1), tb.i64(0))};
}

}  // namespace

Result<void> emitAugmentImages(KernelContext& kc) {
  const Node& n = kc.root();
  NodeId X = n.inputs[0], Y = kc.kernel.root;
  const Shape& xs = kc.graph().type(X).shape;
  const int64_t H = xs[1], W = xs[2], C = xs.rank() == 4 ? xs[3] : 1;
  const augment::Spec spec = augment::specOf(n.attrs, H, W);
  const philox::Key key = philox::makeKey(spec.seed, spec.salt);

  TaskBuilder tb(kc.entry, kc.taskName(), kc.buffers());
  auto& b = tb.b();
  Value* step = emitPhiloxCounter(tb, n.inputs[1]);
  const int firstRow = augment::firstRowOperand(n.inputs.size());
  Value* offset = firstRow >= 0 ? emitPhiloxCounter(tb, n.inputs[static_cast<size_t>(firstRow)]) : tb.i64(0);
  tb.loop(tb.begin(), tb.end(), [&](Value* img) {
    Value* twoG = b.CreateShl(b.CreateAdd(img, offset), 1);
    AugmentAxisMap mh = emitAugmentAxisMap(tb, spec, true, emitPhiloxBits(b, key, step, twoG), H);
    AugmentAxisMap mw = emitAugmentAxisMap(tb, spec, false, emitPhiloxBits(b, key, step, b.CreateOr(twoG, tb.i64(1))), W);
    Value* imageBase = tb.mul(img, tb.i64(H));
    tb.loop(tb.i64(0), tb.i64(H), [&](Value* h) {
      Value* sh = b.CreateAdd(b.CreateMul(mh.a, h), mh.b);
      Value* rowInside = b.CreateICmpULT(sh, tb.i64(H));  // 0 <= sh < H
      Value* dstRow = tb.mul(tb.add(imageBase, h), tb.i64(W));
      Value* srcRow = tb.mul(tb.add(imageBase, b.CreateSelect(rowInside, sh, tb.i64(0))), tb.i64(W));
      tb.loop(tb.i64(0), tb.i64(W), [&](Value* w) {
        Value* sw = b.CreateAdd(b.CreateMul(mw.a, w), mw.b);
        Value* inside = b.CreateAnd(rowInside, b.CreateICmpULT(sw, tb.i64(W)));
        Value* dst = tb.mul(tb.add(dstRow, w), tb.i64(C));
        Value* src = b.CreateSelect(inside, tb.mul(tb.add(srcRow, b.CreateSelect(inside, sw, tb.i64(0))), tb.i64(C)),
                                    tb.mul(imageBase, tb.i64(W * C)));
        tb.loop(tb.i64(0), tb.i64(C), [&](Value* c) {
          Value* v = tb.load(X, tb.add(src, c));
          tb.store(Y, tb.add(dst, c), b.CreateSelect(inside, v, tb.f32(0.0)));
        }, "c");
      }, "w");
    }, "h");
  }, "n");
  tb.finish(dimExtent(xs[0]), Extent{H * W * (C + 4) + 200, false});
  return {};
}

}  // namespace nnc::codegen
