// DropoutMask: the Philox-4x32-10 stream of support/Philox.h, emitted as IR so that
// compiled masks equal the interpreter's bit for bit. Element i (row-major over the concrete
// tensor) at step s is kept when the top 24 bits of the first output word of
// philox4x32({i, i >> 32, s, s >> 32}, {seed, salt}) reach the rate's threshold. The key
// schedule depends only on attributes, so it is folded here; the rounds are 32x32->64-bit
// multiplies and xors, which vectorise.
#include "compiler/codegen/Emit.h"
#include "compiler/ir/OpAttrs.h"
#include "support/Philox.h"

namespace nnc::codegen {

using llvm::Value;

Value* emitPhiloxCounter(TaskBuilder& tb, NodeId node) {
  // NaN and negatives give 0, values beyond 2^64 saturate: exactly llvm.fptoui.sat.
  auto& b = tb.b();
  return b.CreateIntrinsic(llvm::Intrinsic::fptoui_sat, {b.getInt64Ty(), b.getFloatTy()}, {tb.load(node, tb.i64(0))});
}

Value* emitPhiloxBits(llvm::IRBuilder<>& b, const philox::Key& key, Value* step, Value* index) {
  llvm::Type* i32 = b.getInt32Ty();
  llvm::Type* i64 = b.getInt64Ty();
  Value* c[4] = {b.CreateTrunc(index, i32), b.CreateTrunc(b.CreateLShr(index, 32), i32), b.CreateTrunc(step, i32),
                 b.CreateTrunc(b.CreateLShr(step, 32), i32)};
  philox::Key k = key;
  for (int r = 0; r < philox::kRounds; ++r) {
    if (r > 0) k = philox::Key{k[0] + philox::kWeyl0, k[1] + philox::kWeyl1};
    Value* p0 = b.CreateMul(b.CreateZExt(c[0], i64), b.getInt64(philox::kMul0));
    Value* p1 = b.CreateMul(b.CreateZExt(c[2], i64), b.getInt64(philox::kMul1));
    Value* hi0 = b.CreateTrunc(b.CreateLShr(p0, 32), i32);
    Value* lo0 = b.CreateTrunc(p0, i32);
    Value* hi1 = b.CreateTrunc(b.CreateLShr(p1, 32), i32);
    Value* lo1 = b.CreateTrunc(p1, i32);
    Value* n0 = b.CreateXor(b.CreateXor(hi1, c[1]), b.getInt32(k[0]));
    Value* n2 = b.CreateXor(b.CreateXor(hi0, c[3]), b.getInt32(k[1]));
    c[0] = n0;
    c[1] = lo1;
    c[2] = n2;
    c[3] = lo0;
  }
  return b.CreateLShr(c[0], 8);
}

Result<void> emitDropoutMask(KernelContext& kc) {
  const Node& n = kc.root();
  NodeId Y = kc.kernel.root, stepNode = n.inputs[1];
  const DropoutMaskOperands operands = dropoutMaskOperands(n);
  double rate = operands.rate < 0 ? DropoutMaskAttr::of(n).rate.value_or(0.0) : 0.0;
  philox::Key key = philox::makeKey(DropoutMaskAttr::of(n).seed.value, DropoutMaskAttr::of(n).salt.value);

  TaskBuilder tb(kc.entry, kc.taskName(), kc.buffers());
  auto& b = tb.b();
  llvm::Type* i32 = b.getInt32Ty();
  Value* threshold = b.getInt32(philox::dropoutThreshold(rate));
  Value* scale = tb.f32(static_cast<float>(1.0 / (1.0 - rate)));
  if (operands.rate >= 0) {
    // The rate is a run-time f32 scalar (Model::runtimeDropoutRates): dropoutThreshold and
    // the scale computed as the interpreter does, in double. For a rate in (0, 1) the
    // threshold is ceil(rate * 2^24); a rate <= 0 (or NaN) keeps everything.
    Value* r = b.CreateFPExt(tb.load(n.inputs[operands.rate], tb.i64(0)), b.getDoubleTy());
    Value* scaled = b.CreateFMul(r, llvm::ConstantFP::get(b.getDoubleTy(), 16777216.0));
    Value* ceiled = b.CreateUnaryIntrinsic(llvm::Intrinsic::ceil, scaled);
    Value* clamped = b.CreateIntrinsic(llvm::Intrinsic::fptoui_sat, {i32, b.getDoubleTy()}, {ceiled});
    Value* positive = b.CreateFCmpOGT(r, llvm::ConstantFP::get(b.getDoubleTy(), 0.0));
    Value* atLeastOne = b.CreateFCmpOGE(r, llvm::ConstantFP::get(b.getDoubleTy(), 1.0));
    threshold = b.CreateSelect(positive, b.CreateSelect(atLeastOne, b.getInt32(1u << 24), clamped), b.getInt32(0));
    Value* one = llvm::ConstantFP::get(b.getDoubleTy(), 1.0);
    scale = b.CreateFPTrunc(b.CreateFDiv(one, b.CreateFSub(one, r)), b.getFloatTy());
  }
  // The step: an f32 scalar made an integer as philox::stepFromFloat does.
  Value* step = emitPhiloxCounter(tb, stepNode);
  // With first_row, x is rows [first_row, ...) of a larger batch (one process's share
  // under MPI), so element i draws the number of element i + first_row * rowElements.
  Value* offset = tb.i64(0);
  if (operands.firstRow >= 0 && n.type.shape.isBatched())
    offset = b.CreateMul(emitPhiloxCounter(tb, n.inputs[operands.firstRow]), tb.i64(n.type.shape.numElementsPerBatchRow()));
  tb.loop(tb.begin(), tb.end(), [&](Value* iLocal) {
    Value* bits = emitPhiloxBits(b, key, step, b.CreateAdd(iLocal, offset));
    Value* keep = b.CreateICmpUGE(bits, threshold);
    tb.store(Y, iLocal, b.CreateSelect(keep, scale, tb.f32(0.0)));
  }, "e");
  tb.finish(elementsOf(n.type.shape), Extent{60, false});
  return {};
}

}  // namespace nnc::codegen
