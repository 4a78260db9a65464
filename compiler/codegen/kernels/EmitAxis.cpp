// Ops along one axis: softmax, log_softmax and argmax. The tensor is seen as
// [outer, axis, inner]; the parallel range is `outer`, and each (outer, inner) line is
// processed by one thread in axis order.
#include <cmath>

#include "compiler/codegen/Emit.h"
#include "compiler/codegen/MathEmitter.h"
#include "compiler/ir/TypedAttrs.h"

namespace nnc::codegen {

using llvm::Value;

namespace {

struct AxisSplit {
  Extent outer, axis;
  int64_t inner = 1;
};

AxisSplit splitAt(const Shape& s, int64_t axisAttr) {
  size_t a = static_cast<size_t>(normalizeAxis(axisAttr, s.rank()));
  AxisSplit sp;
  for (size_t d = 0; d < a; ++d) sp.outer = s[d] == kBatch ? Extent{sp.outer.k, true} : Extent{sp.outer.k * s[d], sp.outer.batched};
  sp.axis = dimExtent(s[a]);
  for (size_t d = a + 1; d < s.rank(); ++d) sp.inner *= s[d];
  return sp;
}

}  // namespace

Value* beatsMax(llvm::IRBuilder<>& b, Value* candidate, Value* best) {
  return b.CreateOr(b.CreateFCmpOGT(candidate, best),
                    b.CreateAnd(b.CreateFCmpUNO(candidate, candidate), b.CreateFCmpORD(best, best)));
}

Value* emitLineMax(TaskBuilder& tb, NodeId x, Value* count, const std::function<Value*(Value*)>& at,
                   llvm::AllocaInst* slot) {
  llvm::IRBuilder<>& b = tb.b();
  llvm::Type* f32 = b.getFloatTy();
  b.CreateStore(tb.f32(-INFINITY), slot);
  tb.loop(tb.i64(0), count, [&](Value* a) {
    Value* v = tb.load(x, at(a));
    Value* m = b.CreateLoad(f32, slot);
    b.CreateStore(b.CreateSelect(beatsMax(b, v, m), v, m), slot);
  }, "a");
  return b.CreateLoad(f32, slot);
}

Result<void> emitSoftmax(KernelContext& kc) {
  const Node& n = kc.root();
  NodeId x = n.inputs[0], y = kc.kernel.root;
  bool logForm = n.op == OpKind::LogSoftmax;
  AxisSplit sp = splitAt(kc.graph().type(x).shape, AxisAttr::of(n).axis);
  TaskBuilder tb(kc.entry, kc.taskName(), kc.buffers());
  auto& b = tb.b();
  llvm::Type* f32 = b.getFloatTy();
  llvm::AllocaInst* maxSlot = tb.local(f32, "max");
  llvm::AllocaInst* sumSlot = tb.local(f32, "sum");
  Value* A = tb.extent(sp.axis);
  tb.loop(tb.begin(), tb.end(), [&](Value* o) {
    tb.loop(tb.i64(0), tb.i64(sp.inner), [&](Value* i) {
      // Element a of this line is at (o * A + a) * inner + i.
      Value* lineBase = tb.add(tb.mul(tb.mul(o, A), tb.i64(sp.inner)), i);
      auto at = [&](Value* a) { return tb.mulAdd(a, sp.inner, lineBase); };
      Value* m = emitLineMax(tb, x, A, at, maxSlot);
      b.CreateStore(tb.f32(0.0), sumSlot);
      tb.loop(tb.i64(0), A, [&](Value* a) {
        Value* e = tb.math().exp(b, b.CreateFSub(tb.load(x, at(a)), m));
        if (!logForm) tb.store(y, at(a), e);
        Value* s = b.CreateFAdd(b.CreateLoad(f32, sumSlot), e);
        llvm::cast<llvm::Instruction>(s)->setHasAllowReassoc(true);
        b.CreateStore(s, sumSlot);
      }, "a");
      Value* sum = b.CreateLoad(f32, sumSlot);
      if (logForm) {
        Value* logSum = tb.math().log(b, sum);
        tb.loop(tb.i64(0), A, [&](Value* a) {
          tb.store(y, at(a), b.CreateFSub(b.CreateFSub(tb.load(x, at(a)), m), logSum));
        }, "a");
      } else {
        tb.loop(tb.i64(0), A, [&](Value* a) { tb.store(y, at(a), b.CreateFDiv(tb.load(y, at(a)), sum)); }, "a");
      }
    }, "i");
  }, "o");
  Extent work{sp.axis.k * sp.inner * 20, sp.axis.batched};
  tb.finish(sp.outer, work);
  return {};
}

// The index of the first maximum along the axis (NaN counts as the maximum), as i32.
Result<void> emitArgMax(KernelContext& kc) {
  const Node& n = kc.root();
  NodeId x = n.inputs[0], y = kc.kernel.root;
  AxisSplit sp = splitAt(kc.graph().type(x).shape, AxisAttr::of(n).axis);
  TaskBuilder tb(kc.entry, kc.taskName(), kc.buffers());
  auto& b = tb.b();
  llvm::AllocaInst* bestValue = tb.local(b.getFloatTy(), "best");
  llvm::AllocaInst* bestIndex = tb.local(b.getInt64Ty(), "bestIndex");
  Value* A = tb.extent(sp.axis);
  tb.loop(tb.begin(), tb.end(), [&](Value* o) {
    tb.loop(tb.i64(0), tb.i64(sp.inner), [&](Value* i) {
      Value* lineBase = tb.add(tb.mul(tb.mul(o, A), tb.i64(sp.inner)), i);
      auto at = [&](Value* a) { return tb.mulAdd(a, sp.inner, lineBase); };
      b.CreateStore(tb.i64(0), bestIndex);
      bool isFloat = kc.graph().type(x).dtype == DType::F32;
      if (isFloat) {
        b.CreateStore(tb.f32(-INFINITY), bestValue);
      }
      llvm::AllocaInst* bestInt = tb.local(b.getInt32Ty(), "bestInt");
      if (!isFloat) b.CreateStore(b.getInt32(static_cast<uint32_t>(INT32_MIN)), bestInt);
      tb.ifThen(b.CreateICmpSGT(A, tb.i64(0)), [&] {
        // Start from element 0, so ties and all-(-inf) lines give the first index.
        if (isFloat)
          b.CreateStore(tb.load(x, at(tb.i64(0))), bestValue);
        else
          b.CreateStore(tb.load(x, at(tb.i64(0))), bestInt);
      });
      tb.loop(tb.i64(1), A, [&](Value* a) {
        Value* v = tb.load(x, at(a));
        Value* beats;
        if (isFloat) {
          beats = beatsMax(b, v, b.CreateLoad(b.getFloatTy(), bestValue));
          b.CreateStore(b.CreateSelect(beats, v, b.CreateLoad(b.getFloatTy(), bestValue)), bestValue);
        } else {
          Value* cur = b.CreateLoad(b.getInt32Ty(), bestInt);
          beats = b.CreateICmpSGT(v, cur);
          b.CreateStore(b.CreateSelect(beats, v, cur), bestInt);
        }
        b.CreateStore(b.CreateSelect(beats, a, b.CreateLoad(b.getInt64Ty(), bestIndex)), bestIndex);
      }, "a");
      tb.store(y, tb.add(tb.mul(o, tb.i64(sp.inner)), i), b.CreateTrunc(b.CreateLoad(b.getInt64Ty(), bestIndex), b.getInt32Ty()));
    }, "i");
  }, "o");
  tb.finish(sp.outer, Extent{sp.axis.k * sp.inner * 2, sp.axis.batched});
  return {};
}

}  // namespace nnc::codegen
