// multi_head_attention's fused softmax (Ops.def: attention_softmax and its gradient). The
// scores [..., Tq, Tk] are rows of Tk keys; row r is query i = r mod Tq, and with `causal`
// it sees keys 0..i only. One thread owns whole rows (the parallel range is the rows), so
// sums are never split and results do not depend on the thread count. Per row:
//   forward:  m = max_j s_j;  e_j = exp(scale * (s_j - m)) stored and summed;  y_j = e_j / sum
//             (masked keys: y_j = 0, written in the same pass)
//   backward: dot = sum_j dy_j * y_j;  ds_j = scale * y_j * (dy_j - dot)
// Scale, mask and softmax never make a tensor of their own: the scaled, masked scores exist
// only in registers. Every loop is a straight loop over contiguous floats with reassociable
// sums and the MathEmitter's select-only exp, which the loop vectoriser widens.
#include <cmath>

#include <llvm/IR/Intrinsics.h>

#include "compiler/codegen/Emit.h"
#include "compiler/codegen/MathEmitter.h"
#include "compiler/ir/TypedAttrs.h"

namespace nnc::codegen {

using llvm::Value;

namespace {

struct AttentionRowSpace {
  Extent rows;
  int64_t queries = 1, keys = 1;
  double scale = 1;
  bool causal = false;
};

AttentionRowSpace attentionRowSpace(const KernelContext& kc) {
  const Node& n = kc.root();
  const Shape& s = kc.graph().type(n.inputs[0]).shape;
  AttentionRowSpace a;
  a.keys = s.dims.back();
  a.queries = s[s.rank() - 2];
  a.rows = elementsOf(s);
  a.rows.k /= a.keys;
  a.scale = AttentionAttr::of(n).scale;
  a.causal = AttentionAttr::of(n).causal;
  return a;
}

Value* attentionReassoc(Value* v) {
  llvm::cast<llvm::Instruction>(v)->setHasAllowReassoc(true);
  return v;
}

// The number of keys row r sees: all of them, or i + 1 for query i = r mod Tq when causal.
Value* attentionVisibleKeys(TaskBuilder& tb, const AttentionRowSpace& a, Value* r) {
  if (!a.causal) return tb.i64(a.keys);
  Value* query = tb.b().CreateURem(r, tb.i64(a.queries));
  return tb.smin(tb.add(query, tb.i64(1)), tb.i64(a.keys));
}

}  // namespace

Result<void> emitAttentionSoftmax(KernelContext& kc) {
  AttentionRowSpace a = attentionRowSpace(kc);
  NodeId x = kc.root().inputs[0], y = kc.kernel.root;
  TaskBuilder tb(kc.entry, kc.taskName(), kc.buffers());
  auto& b = tb.b();
  llvm::Type* f32 = b.getFloatTy();
  llvm::AllocaInst* maxSlot = tb.local(f32, "max");
  llvm::AllocaInst* sumSlot = tb.local(f32, "sum");
  Value* scale = tb.f32(a.scale);
  tb.loop(tb.begin(), tb.end(), [&](Value* r) {
    Value* base = tb.mul(r, tb.i64(a.keys));
    Value* visible = attentionVisibleKeys(tb, a, r);
    // maxnum skips NaN; a NaN score still makes the row NaN through its exp, as the
    // interpreter's NaN-propagating maximum does.
    b.CreateStore(tb.f32(-INFINITY), maxSlot);
    tb.loop(tb.i64(0), visible, [&](Value* j) {
      Value* m = b.CreateBinaryIntrinsic(llvm::Intrinsic::maxnum, b.CreateLoad(f32, maxSlot), tb.load(x, tb.add(base, j)));
      b.CreateStore(m, maxSlot);
    }, "j");
    Value* shift = b.CreateFMul(scale, b.CreateLoad(f32, maxSlot));
    b.CreateStore(tb.f32(0.0), sumSlot);
    tb.loop(tb.i64(0), visible, [&](Value* j) {
      Value* at = tb.add(base, j);
      Value* e = tb.math().exp(b, b.CreateFSub(b.CreateFMul(scale, tb.load(x, at)), shift));
      tb.store(y, at, e);
      b.CreateStore(attentionReassoc(b.CreateFAdd(b.CreateLoad(f32, sumSlot), e)), sumSlot);
    }, "j");
    Value* inverse = b.CreateFDiv(tb.f32(1.0), b.CreateLoad(f32, sumSlot));
    tb.loop(tb.i64(0), visible, [&](Value* j) {
      Value* at = tb.add(base, j);
      tb.store(y, at, b.CreateFMul(tb.load(y, at), inverse));
    }, "j");
    tb.loop(visible, tb.i64(a.keys), [&](Value* j) { tb.store(y, tb.add(base, j), tb.f32(0.0)); }, "masked");
  }, "row");
  tb.finish(a.rows, workOf(Extent{a.keys, false}, 20.0));
  return {};
}

Result<void> emitAttentionSoftmaxGrad(KernelContext& kc) {
  AttentionRowSpace a = attentionRowSpace(kc);
  NodeId y = kc.root().inputs[0], dy = kc.root().inputs[1], dx = kc.kernel.root;
  TaskBuilder tb(kc.entry, kc.taskName(), kc.buffers());
  auto& b = tb.b();
  llvm::Type* f32 = b.getFloatTy();
  llvm::AllocaInst* dotSlot = tb.local(f32, "dot");
  Value* scale = tb.f32(a.scale);
  tb.loop(tb.begin(), tb.end(), [&](Value* r) {
    Value* base = tb.mul(r, tb.i64(a.keys));
    Value* visible = attentionVisibleKeys(tb, a, r);
    b.CreateStore(tb.f32(0.0), dotSlot);
    tb.loop(tb.i64(0), visible, [&](Value* j) {
      Value* at = tb.add(base, j);
      Value* p = b.CreateFMul(tb.load(dy, at), tb.load(y, at));
      b.CreateStore(attentionReassoc(b.CreateFAdd(b.CreateLoad(f32, dotSlot), p)), dotSlot);
    }, "j");
    Value* dot = b.CreateLoad(f32, dotSlot);
    tb.loop(tb.i64(0), visible, [&](Value* j) {
      Value* at = tb.add(base, j);
      Value* v = b.CreateFMul(b.CreateFMul(scale, tb.load(y, at)), b.CreateFSub(tb.load(dy, at), dot));
      tb.store(dx, at, v);
    }, "j");
    tb.loop(visible, tb.i64(a.keys), [&](Value* j) { tb.store(dx, tb.add(base, j), tb.f32(0.0)); }, "masked");
  }, "row");
  tb.finish(a.rows, workOf(Extent{a.keys, false}, 6.0));
  return {};
}

}  // namespace nnc::codegen
