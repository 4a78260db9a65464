// Max and average pooling over NHWC windows, and their gradients, with the interpreter's
// semantics: padding cells are ignored (max) or not counted (average); a max-pool gradient
// goes to the first maximum of each window in row-major scan order.
//
// Forward: parallel over output rows (n, oh); the innermost loop runs over channels.
// Gradients scatter into overlapping windows, so they are parallel over images: each
// image's gradient is accumulated by one thread, in window order. (A max-pool gradient over
// small disjoint windows gathers instead: EmitMaxPoolGrad.cpp.)
#include <cmath>

#include "compiler/codegen/Emit.h"
#include "compiler/ir/TypedAttrs.h"
#include "compiler/lowering/FusionRoles.h"

namespace nnc::codegen {

using llvm::Value;

namespace {

struct PoolShape {
  Extent N;
  int64_t H, W, C, OH, OW;
};

// The real cells of window (oh, ow): rows [h0, h1), columns [w0, w1) of the input.
struct Cells {
  Value *h0, *h1, *w0, *w1;
};

Cells cellsOf(TaskBuilder& tb, const Window& g, const PoolShape& s, Value* oh, Value* ow) {
  auto& b = tb.b();
  Value* hs = b.CreateNSWSub(b.CreateNSWMul(oh, tb.i64(g.sh)), tb.i64(g.pt));
  Value* ws = b.CreateNSWSub(b.CreateNSWMul(ow, tb.i64(g.sw)), tb.i64(g.pl));
  return Cells{tb.smax(hs, tb.i64(0)), tb.smin(b.CreateNSWAdd(hs, tb.i64(g.kh)), tb.i64(s.H)), tb.smax(ws, tb.i64(0)),
               tb.smin(b.CreateNSWAdd(ws, tb.i64(g.kw)), tb.i64(s.W))};
}

// Offset of (n, h, w, 0) in an NHWC tensor of height H and width W with C channels.
Value* pixel(TaskBuilder& tb, Value* n, Value* h, Value* w, int64_t H, int64_t W, int64_t C) {
  return tb.mul(tb.add(tb.mul(tb.add(tb.mul(n, tb.i64(H)), h), tb.i64(W)), w), tb.i64(C));
}

Result<void> emitPoolForward(KernelContext& kc, bool isMax) {
  const Node& n = kc.root();
  NodeId X = n.inputs[0], Y = kc.kernel.root;
  const Shape &xs = kc.graph().type(X).shape, &ys = n.type.shape;
  Window geo = WindowAttr::of(n).geometry();
  PoolShape s{dimExtent(xs[0]), xs[1], xs[2], xs[3], ys[1], ys[2]};
  TaskBuilder tb(kc.entry, kc.taskName(), kc.buffers());
  auto& b = tb.b();
  tb.loop(tb.begin(), tb.end(), [&](Value* r) {  // r = n * OH + oh
    Value* img = b.CreateUDiv(r, tb.i64(s.OH));
    Value* oh = b.CreateURem(r, tb.i64(s.OH));
    tb.loop(tb.i64(0), tb.i64(s.OW), [&](Value* ow) {
      Value* yBase = tb.mul(tb.add(tb.mul(r, tb.i64(s.OW)), ow), tb.i64(s.C));
      Cells cells = cellsOf(tb, geo, s, oh, ow);
      tb.loop(tb.i64(0), tb.i64(s.C), [&](Value* c) { tb.store(Y, tb.add(yBase, c), tb.f32(isMax ? -INFINITY : 0.0)); }, "c");
      tb.loop(cells.h0, cells.h1, [&](Value* h) {
        tb.loop(cells.w0, cells.w1, [&](Value* w) {
          Value* xBase = pixel(tb, img, h, w, s.H, s.W, s.C);
          tb.loop(tb.i64(0), tb.i64(s.C), [&](Value* c) {
            Value* at = tb.add(yBase, c);
            Value* v = tb.load(X, tb.add(xBase, c));
            Value* cur = tb.load(Y, at);
            tb.store(Y, at, isMax ? b.CreateSelect(beatsMax(b, v, cur), v, cur) : b.CreateFAdd(cur, v));
          }, "c");
        }, "w");
      }, "h");
      if (!isMax) {
        Value* count = b.CreateSIToFP(b.CreateNSWMul(b.CreateNSWSub(cells.h1, cells.h0), b.CreateNSWSub(cells.w1, cells.w0)),
                                      b.getFloatTy());
        tb.loop(tb.i64(0), tb.i64(s.C), [&](Value* c) {
          Value* at = tb.add(yBase, c);
          tb.store(Y, at, b.CreateFDiv(tb.load(Y, at), count));
        }, "c");
      }
    }, "ow");
  }, "row");
  Extent rows{s.N.k * s.OH, s.N.batched};
  tb.finish(rows, Extent{s.OW * geo.kh * geo.kw * s.C, false});
  return {};
}

}  // namespace

Result<void> emitMaxPool(KernelContext& kc) { return emitPoolForward(kc, true); }
Result<void> emitAvgPool(KernelContext& kc) { return emitPoolForward(kc, false); }

Result<void> emitMaxPoolGrad(KernelContext& kc) {
  const Node& n = kc.root();
  if (lowering::maxPoolGradGathers(WindowAttr::of(n).geometry())) return emitMaxPoolGradGather(kc);
  NodeId X = n.inputs[0], DY = n.inputs[1], DX = kc.kernel.root;
  const Shape &xs = kc.graph().type(X).shape, &dys = kc.graph().type(DY).shape;
  Window geo = WindowAttr::of(n).geometry();
  PoolShape s{dimExtent(xs[0]), xs[1], xs[2], xs[3], dys[1], dys[2]};
  TaskBuilder tb(kc.entry, kc.taskName(), kc.buffers());
  auto& b = tb.b();
  llvm::AllocaInst* best = tb.local(b.getInt64Ty(), "best");
  llvm::AllocaInst* bestValue = tb.local(b.getFloatTy(), "bestValue");
  int64_t image = s.H * s.W * s.C;
  tb.loop(tb.begin(), tb.end(), [&](Value* img) {
    Value* base = tb.mul(img, tb.i64(image));
    tb.loop(tb.i64(0), tb.i64(image), [&](Value* i) { tb.store(DX, tb.add(base, i), tb.f32(0.0)); }, "i");
    tb.loop(tb.i64(0), tb.i64(s.OH), [&](Value* oh) {
      tb.loop(tb.i64(0), tb.i64(s.OW), [&](Value* ow) {
        Cells cells = cellsOf(tb, geo, s, oh, ow);
        Value* dyBase = pixel(tb, img, oh, ow, s.OH, s.OW, s.C);
        tb.loop(tb.i64(0), tb.i64(s.C), [&](Value* c) {
          b.CreateStore(tb.i64(-1), best);
          b.CreateStore(tb.f32(-INFINITY), bestValue);
          tb.loop(cells.h0, cells.h1, [&](Value* h) {
            tb.loop(cells.w0, cells.w1, [&](Value* w) {
              Value* at = tb.add(pixel(tb, img, h, w, s.H, s.W, s.C), c);
              Value* v = tb.load(X, at);
              Value* cur = b.CreateLoad(b.getFloatTy(), bestValue);
              Value* take = b.CreateOr(b.CreateICmpSLT(b.CreateLoad(b.getInt64Ty(), best), tb.i64(0)), beatsMax(b, v, cur));
              b.CreateStore(b.CreateSelect(take, at, b.CreateLoad(b.getInt64Ty(), best)), best);
              b.CreateStore(b.CreateSelect(take, v, cur), bestValue);
            }, "w");
          }, "h");
          Value* at = b.CreateLoad(b.getInt64Ty(), best);
          tb.ifThen(b.CreateICmpSGE(at, tb.i64(0)), [&] {
            tb.store(DX, at, b.CreateFAdd(tb.load(DX, at), tb.load(DY, tb.add(dyBase, c))));
          });
        }, "c");
      }, "ow");
    }, "oh");
  }, "n");
  tb.finish(s.N, Extent{s.OH * s.OW * s.C * geo.kh * geo.kw * 3 + image, false});
  return {};
}

Result<void> emitAvgPoolGrad(KernelContext& kc) {
  const Node& n = kc.root();
  NodeId DY = n.inputs[0], DX = kc.kernel.root;
  const Shape &xs = n.type.shape, &dys = kc.graph().type(DY).shape;
  Window geo = WindowAttr::of(n).geometry();
  PoolShape s{dimExtent(xs[0]), xs[1], xs[2], xs[3], dys[1], dys[2]};
  TaskBuilder tb(kc.entry, kc.taskName(), kc.buffers());
  auto& b = tb.b();
  int64_t image = s.H * s.W * s.C;
  tb.loop(tb.begin(), tb.end(), [&](Value* img) {
    Value* base = tb.mul(img, tb.i64(image));
    tb.loop(tb.i64(0), tb.i64(image), [&](Value* i) { tb.store(DX, tb.add(base, i), tb.f32(0.0)); }, "i");
    tb.loop(tb.i64(0), tb.i64(s.OH), [&](Value* oh) {
      tb.loop(tb.i64(0), tb.i64(s.OW), [&](Value* ow) {
        Cells cells = cellsOf(tb, geo, s, oh, ow);
        Value* count = b.CreateSIToFP(b.CreateNSWMul(b.CreateNSWSub(cells.h1, cells.h0), b.CreateNSWSub(cells.w1, cells.w0)),
                                      b.getFloatTy());
        Value* dyBase = pixel(tb, img, oh, ow, s.OH, s.OW, s.C);
        tb.loop(cells.h0, cells.h1, [&](Value* h) {
          tb.loop(cells.w0, cells.w1, [&](Value* w) {
            Value* xBase = pixel(tb, img, h, w, s.H, s.W, s.C);
            tb.loop(tb.i64(0), tb.i64(s.C), [&](Value* c) {
              Value* at = tb.add(xBase, c);
              Value* share = b.CreateFDiv(tb.load(DY, tb.add(dyBase, c)), count);
              tb.store(DX, at, b.CreateFAdd(tb.load(DX, at), share));
            }, "c");
          }, "w");
        }, "h");
      }, "ow");
    }, "oh");
  }, "n");
  tb.finish(s.N, Extent{s.OH * s.OW * s.C * geo.kh * geo.kw * 2 + image, false});
  return {};
}

}  // namespace nnc::codegen
