// 2-D convolutions over NHWC tensors with filters [kh, kw, in, out], and their gradients.
//
// First version: direct loop nests whose innermost loop runs over contiguous channels (so it
// vectorises), with the parallel range over output rows (forward), input rows (input
// gradient) or filter rows (filter gradient): every output element is accumulated by one
// thread in a fixed order. The fast path (im2col / implicit GEMM into the matrix-product
// microkernel) slots in behind the same emitters.
#include "compiler/codegen/Emit.h"
#include "compiler/codegen/Window.h"

namespace nnc::codegen {

using llvm::Value;

namespace {

// Signed arithmetic for window positions, which may be negative (padding).
Value* sadd(llvm::IRBuilder<>& b, Value* x, Value* y) { return b.CreateNSWAdd(x, y); }
Value* smul(llvm::IRBuilder<>& b, Value* x, int64_t k) { return b.CreateNSWMul(x, b.getInt64(static_cast<uint64_t>(k))); }
Value* fma(llvm::IRBuilder<>& b, Value* x, Value* y, Value* z) {
  return b.CreateIntrinsic(llvm::Intrinsic::fmuladd, {b.getFloatTy()}, {x, y, z});
}
// 0 <= v < n, as one unsigned comparison.
Value* inRange(TaskBuilder& tb, Value* v, int64_t n) { return tb.b().CreateICmpULT(v, tb.i64(n)); }

}  // namespace

Result<void> emitConv2D(KernelContext& kc) {
  const Graph& g = kc.graph();
  const Node& n = kc.root();
  NodeId X = n.inputs[0], Wt = n.inputs[1], Y = kc.kernel.root;
  const Shape &xs = g.type(X).shape, &ws = g.type(Wt).shape, &ys = n.type.shape;
  int64_t H = xs[1], W = xs[2], C = xs[3], KH = ws[0], KW = ws[1], F = ws[3], OH = ys[1], OW = ys[2];
  WindowGeometry geo = WindowGeometry::from(n.attrs, {KH, KW});
  TaskBuilder tb(kc.entry, kc.taskName(), kc.buffers());
  auto& b = tb.b();
  tb.loop(tb.begin(), tb.end(), [&](Value* r) {  // r = n * OH + oh
    Value* img = b.CreateUDiv(r, tb.i64(OH));
    Value* oh = b.CreateURem(r, tb.i64(OH));
    Value* ihBase = b.CreateNSWSub(smul(b, oh, geo.sh), tb.i64(geo.pt));
    Value* kyLo = tb.smax(b.CreateNSWNeg(ihBase), tb.i64(0));
    Value* kyHi = tb.smin(b.CreateNSWSub(tb.i64(H), ihBase), tb.i64(KH));
    tb.loop(tb.i64(0), tb.i64(OW), [&](Value* ow) {
      Value* yBase = tb.mul(tb.add(tb.mul(r, tb.i64(OW)), ow), tb.i64(F));
      tb.loop(tb.i64(0), tb.i64(F), [&](Value* f) { tb.store(Y, tb.add(yBase, f), tb.f32(0.0)); }, "f");
      Value* iwBase = b.CreateNSWSub(smul(b, ow, geo.sw), tb.i64(geo.pl));
      Value* kxLo = tb.smax(b.CreateNSWNeg(iwBase), tb.i64(0));
      Value* kxHi = tb.smin(b.CreateNSWSub(tb.i64(W), iwBase), tb.i64(KW));
      tb.loop(kyLo, kyHi, [&](Value* ky) {
        Value* ih = sadd(b, ihBase, ky);
        tb.loop(kxLo, kxHi, [&](Value* kx) {
          Value* iw = sadd(b, iwBase, kx);
          Value* xBase = tb.mul(tb.add(tb.mul(tb.add(tb.mul(img, tb.i64(H)), ih), tb.i64(W)), iw), tb.i64(C));
          Value* wBase = tb.mul(tb.add(tb.mul(ky, tb.i64(KW)), kx), tb.i64(C * F));
          tb.loop(tb.i64(0), tb.i64(C), [&](Value* c) {
            Value* xv = tb.load(X, tb.add(xBase, c));
            Value* wRow = tb.add(wBase, tb.mul(c, tb.i64(F)));
            tb.loop(tb.i64(0), tb.i64(F), [&](Value* f) {
              Value* at = tb.add(yBase, f);
              tb.store(Y, at, fma(b, xv, tb.load(Wt, tb.add(wRow, f)), tb.load(Y, at)));
            }, "f");
          }, "c");
        }, "kx");
      }, "ky");
    }, "ow");
  }, "row");
  Extent rows{(ys[0] == kBatch ? 1 : ys[0]) * OH, ys.isBatched()};
  tb.finish(rows, Extent{OW * KH * KW * C * F * 2, false});
  return {};
}

// dx[n, ih, iw, c] = sum over (ky, kx, f) of dy[n, oh, ow, f] * w[ky, kx, c, f] where
// ih = oh * sh - pt + ky and iw = ow * sw - pl + kx. Parallel over input rows (n, ih).
Result<void> emitConv2DGradInput(KernelContext& kc) {
  const Graph& g = kc.graph();
  const Node& n = kc.root();
  NodeId DY = n.inputs[0], Wt = n.inputs[1], DX = kc.kernel.root;
  const Shape &dys = g.type(DY).shape, &ws = g.type(Wt).shape, &xs = n.type.shape;
  int64_t H = xs[1], W = xs[2], C = xs[3], KH = ws[0], KW = ws[1], F = ws[3], OH = dys[1], OW = dys[2];
  WindowGeometry geo = WindowGeometry::from(n.attrs, {KH, KW});
  TaskBuilder tb(kc.entry, kc.taskName(), kc.buffers());
  auto& b = tb.b();
  llvm::AllocaInst* acc = tb.local(b.getFloatTy(), "acc");
  tb.loop(tb.begin(), tb.end(), [&](Value* r) {  // r = n * H + ih
    Value* img = b.CreateUDiv(r, tb.i64(H));
    Value* ih = b.CreateURem(r, tb.i64(H));
    tb.loop(tb.i64(0), tb.i64(W), [&](Value* iw) {
      Value* dxBase = tb.mul(tb.add(tb.mul(r, tb.i64(W)), iw), tb.i64(C));
      tb.loop(tb.i64(0), tb.i64(C), [&](Value* c) { tb.store(DX, tb.add(dxBase, c), tb.f32(0.0)); }, "c");
      tb.loop(tb.i64(0), tb.i64(KH), [&](Value* ky) {
        Value* t = b.CreateNSWSub(tb.add(ih, tb.i64(geo.pt)), ky);  // oh * sh
        Value* oh = b.CreateUDiv(t, tb.i64(geo.sh));
        Value* rowOk = b.CreateAnd(b.CreateICmpSGE(t, tb.i64(0)),
                                   b.CreateAnd(b.CreateICmpEQ(b.CreateURem(t, tb.i64(geo.sh)), tb.i64(0)),
                                               b.CreateICmpULT(oh, tb.i64(OH))));
        tb.ifThen(rowOk, [&] {
          tb.loop(tb.i64(0), tb.i64(KW), [&](Value* kx) {
            Value* u = b.CreateNSWSub(tb.add(iw, tb.i64(geo.pl)), kx);
            Value* ow = b.CreateUDiv(u, tb.i64(geo.sw));
            Value* colOk = b.CreateAnd(b.CreateICmpSGE(u, tb.i64(0)),
                                       b.CreateAnd(b.CreateICmpEQ(b.CreateURem(u, tb.i64(geo.sw)), tb.i64(0)),
                                                   b.CreateICmpULT(ow, tb.i64(OW))));
            tb.ifThen(colOk, [&] {
              Value* dyBase =
                  tb.mul(tb.add(tb.mul(tb.add(tb.mul(img, tb.i64(OH)), oh), tb.i64(OW)), ow), tb.i64(F));
              Value* wBase = tb.mul(tb.add(tb.mul(ky, tb.i64(KW)), kx), tb.i64(C * F));
              tb.loop(tb.i64(0), tb.i64(C), [&](Value* c) {
                Value* wRow = tb.add(wBase, tb.mul(c, tb.i64(F)));
                Value* at = tb.add(dxBase, c);
                b.CreateStore(tb.load(DX, at), acc);
                tb.loop(tb.i64(0), tb.i64(F), [&](Value* f) {
                  Value* s = fma(b, tb.load(DY, tb.add(dyBase, f)), tb.load(Wt, tb.add(wRow, f)),
                                 b.CreateLoad(b.getFloatTy(), acc));
                  llvm::cast<llvm::Instruction>(s)->setHasAllowReassoc(true);
                  b.CreateStore(s, acc);
                }, "f");
                tb.store(DX, at, b.CreateLoad(b.getFloatTy(), acc));
              }, "c");
            });
          }, "kx");
        });
      }, "ky");
    }, "iw");
  }, "row");
  Extent rows{(xs[0] == kBatch ? 1 : xs[0]) * H, xs.isBatched()};
  tb.finish(rows, Extent{W * KH * KW * C * F * 2 / std::max<int64_t>(geo.sh * geo.sw, 1) + W * C, false});
  return {};
}

// dw[ky, kx, c, f] = sum over (n, oh, ow) of x[n, ih, iw, c] * dy[n, oh, ow, f]. Parallel over
// filter rows (ky, kx, c); the batch is a reduction, in order.
Result<void> emitConv2DGradFilter(KernelContext& kc) {
  const Graph& g = kc.graph();
  const Node& n = kc.root();
  NodeId X = n.inputs[0], DY = n.inputs[1], DW = kc.kernel.root;
  const Shape &xs = g.type(X).shape, &dys = g.type(DY).shape, &dws = n.type.shape;
  int64_t H = xs[1], W = xs[2], C = xs[3], KH = dws[0], KW = dws[1], F = dws[3], OH = dys[1], OW = dys[2];
  WindowGeometry geo = WindowGeometry::from(n.attrs, {KH, KW});
  Extent N = dimExtent(xs[0]);
  TaskBuilder tb(kc.entry, kc.taskName(), kc.buffers());
  auto& b = tb.b();
  tb.loop(tb.begin(), tb.end(), [&](Value* r) {  // r = (ky * KW + kx) * C + c
    Value* c = b.CreateURem(r, tb.i64(C));
    Value* kx = b.CreateURem(b.CreateUDiv(r, tb.i64(C)), tb.i64(KW));
    Value* ky = b.CreateUDiv(r, tb.i64(KW * C));
    Value* dwRow = tb.mul(r, tb.i64(F));
    tb.loop(tb.i64(0), tb.i64(F), [&](Value* f) { tb.store(DW, tb.add(dwRow, f), tb.f32(0.0)); }, "f");
    tb.loop(tb.i64(0), tb.extent(N), [&](Value* img) {
      tb.loop(tb.i64(0), tb.i64(OH), [&](Value* oh) {
        Value* ih = sadd(b, b.CreateNSWSub(smul(b, oh, geo.sh), tb.i64(geo.pt)), ky);
        tb.ifThen(inRange(tb, ih, H), [&] {
          tb.loop(tb.i64(0), tb.i64(OW), [&](Value* ow) {
            Value* iw = sadd(b, b.CreateNSWSub(smul(b, ow, geo.sw), tb.i64(geo.pl)), kx);
            tb.ifThen(inRange(tb, iw, W), [&] {
              Value* xv = tb.load(X, tb.add(tb.mul(tb.add(tb.mul(tb.add(tb.mul(img, tb.i64(H)), ih), tb.i64(W)), iw), tb.i64(C)), c));
              Value* dyBase = tb.mul(tb.add(tb.mul(tb.add(tb.mul(img, tb.i64(OH)), oh), tb.i64(OW)), ow), tb.i64(F));
              tb.loop(tb.i64(0), tb.i64(F), [&](Value* f) {
                Value* at = tb.add(dwRow, f);
                tb.store(DW, at, fma(b, xv, tb.load(DY, tb.add(dyBase, f)), tb.load(DW, at)));
              }, "f");
            });
          }, "ow");
        });
      }, "oh");
    }, "n");
  }, "row");
  tb.finish(Extent{KH * KW * C, false}, Extent{N.k * OH * OW * F * 2, N.batched});
  return {};
}

}  // namespace nnc::codegen
