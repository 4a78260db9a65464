// maxpool_grad(x, dy) for windows that do not overlap (stride >= window, the usual
// `maxpool(x, 2)`; at most 16 cells a window: lowering::maxPoolGradGathers): every input
// cell lies in at most one window, so dx is written once, by
// gathering rather than scattering. One task iteration is one output row (n, oh); it owns
// the input rows from its window's first row to the next window's (all of them for the last
// row), so threads never share a cell. For each window and a vector of channels it finds
// the first maximum in row-major scan order (the interpreter's rule, ties and NaN included)
// and writes dy there and 0 to the window's other cells.
//
// The taps of the window are unrolled at compile time. A tap in the padding is clamped to
// the nearest real row and column, which lie in the same window; it never competes for the
// maximum and writes the same value as the real tap it was clamped to, so the channel loop
// has no branches and vectorises.
//
// The kernel takes an elementwise epilogue (FusionRoles: EpilogueHost), the ReLU gradient
// select(conv > 0, dx, 0) in a CNN: the fused value is computed on dx in registers and only
// the epilogue's result is stored. Cells no window covers (stride > window, or rows and
// columns past the last window) get the epilogue of 0.
#include <cmath>

#include "compiler/codegen/Emit.h"
#include "compiler/ir/TypedAttrs.h"

namespace nnc::codegen {

using llvm::Value;

namespace {

struct MaxPoolGradTaps {
  Value* offset;  // (n, h, w, 0) of the clamped cell in x and dx
  Value* pixel;   // n * H * W + h * W + w: the epilogue's row
  Value* id;      // the tap (i * kw + j) of the real cell it reads, an i32
};

}  // namespace

Result<void> emitMaxPoolGradGather(KernelContext& kc) {
  const Node& n = kc.root();
  const Kernel& kern = kc.kernel;
  NodeId X = n.inputs[0], DY = n.inputs[1];
  bool epilogue = !kern.epilogue.empty();
  NodeId DX = epilogue ? kern.epilogue.back() : kern.root;
  const Shape &xs = kc.graph().type(X).shape, &dys = kc.graph().type(DY).shape;
  Window g = WindowAttr::of(n).geometry();
  int64_t H = xs[1], W = xs[2], C = xs[3], OH = dys[1], OW = dys[2];
  // Whether the windows tile the input exactly (padding aside): then no cell is left for a
  // fill pass.
  bool tiles = g.sh == g.kh && g.sw == g.kw && OH * g.sh - g.pt >= H && OW * g.sw - g.pl >= W;
  TaskBuilder tb(kc.entry, kc.taskName(), kc.buffers());
  auto& b = tb.b();
  llvm::Type* i32 = b.getInt32Ty();
  const Shape& space = n.type.shape;
  // Writes dx's value at pixel `pixel`, channel c (flat element f), through the epilogue.
  auto write = [&](Value* pixel, Value* c, Value* f, Value* v) {
    if (epilogue)
      emitEpilogueOnValue(tb, kern, v, space, pixel, c, f);
    else
      tb.store(DX, f, v);
  };
  auto clamp = [&](Value* v, int64_t hi) { return tb.smin(tb.smax(v, tb.i64(0)), tb.i64(hi)); };
  tb.loop(tb.begin(), tb.end(), [&](Value* r) {  // r = n * OH + oh
    Value* img = b.CreateUDiv(r, tb.i64(OH));
    Value* oh = b.CreateURem(r, tb.i64(OH));
    Value* hs = b.CreateNSWSub(tb.mul(oh, tb.i64(g.sh)), tb.i64(g.pt));
    Value* imgRow = tb.mul(img, tb.i64(H));
    if (!tiles) {
      Value* lo = b.CreateSelect(b.CreateICmpEQ(oh, tb.i64(0)), tb.i64(0), clamp(hs, H));
      Value* hi = b.CreateSelect(b.CreateICmpEQ(oh, tb.i64(OH - 1)), tb.i64(H), clamp(b.CreateNSWAdd(hs, tb.i64(g.sh)), H));
      tb.loop(tb.mul(tb.add(imgRow, lo), tb.i64(W)), tb.mul(tb.add(imgRow, hi), tb.i64(W)), [&](Value* pixel) {
        Value* base = tb.mul(pixel, tb.i64(C));
        tb.loop(tb.i64(0), tb.i64(C), [&](Value* c) { write(pixel, c, tb.add(base, c), tb.f32(0.0)); }, "c");
      }, "fill");
    }
    tb.loop(tb.i64(0), tb.i64(OW), [&](Value* ow) {
      Value* ws = b.CreateNSWSub(tb.mul(ow, tb.i64(g.sw)), tb.i64(g.pl));
      std::vector<MaxPoolGradTaps> taps;
      for (int64_t i = 0; i < g.kh; ++i) {
        Value* h = clamp(b.CreateNSWAdd(hs, tb.i64(i)), H - 1);
        for (int64_t j = 0; j < g.kw; ++j) {
          Value* w = clamp(b.CreateNSWAdd(ws, tb.i64(j)), W - 1);
          Value* pixel = tb.add(tb.mul(tb.add(imgRow, h), tb.i64(W)), w);
          Value* id = b.CreateNSWAdd(b.CreateNSWMul(b.CreateNSWSub(h, hs), tb.i64(g.kw)), b.CreateNSWSub(w, ws));
          taps.push_back({tb.mul(pixel, tb.i64(C)), pixel, b.CreateTrunc(id, i32)});
        }
      }
      Value* dyBase = tb.mul(tb.add(tb.mul(r, tb.i64(OW)), ow), tb.i64(C));
      tb.loop(tb.i64(0), tb.i64(C), [&](Value* c) {
        Value* best = llvm::ConstantInt::get(i32, -1);
        Value* bestValue = tb.f32(-INFINITY);
        for (size_t t = 0; t < taps.size(); ++t) {
          Value* v = tb.load(X, tb.add(taps[t].offset, c));
          Value* real = b.CreateICmpEQ(taps[t].id, llvm::ConstantInt::get(i32, t));
          Value* first = b.CreateICmpSLT(best, llvm::ConstantInt::get(i32, 0));
          Value* take = b.CreateAnd(real, b.CreateOr(first, beatsMax(b, v, bestValue)));
          best = b.CreateSelect(take, llvm::ConstantInt::get(i32, t), best);
          bestValue = b.CreateSelect(take, v, bestValue);
        }
        Value* d = tb.load(DY, tb.add(dyBase, c));
        for (const MaxPoolGradTaps& tap : taps)
          write(tap.pixel, c, tb.add(tap.offset, c), b.CreateSelect(b.CreateICmpEQ(best, tap.id), d, tb.f32(0.0)));
      }, "c");
    }, "ow");
  }, "row");
  int64_t perRow = OW * g.kh * g.kw * C * 2 + (tiles ? 0 : g.sh * W * C);
  tb.finish(Extent{dimExtent(xs[0]).k * OH, dimExtent(xs[0]).batched}, Extent{perRow, false});
  return {};
}

}  // namespace nnc::codegen
