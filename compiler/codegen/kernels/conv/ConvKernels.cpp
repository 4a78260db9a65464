#include "compiler/codegen/kernels/conv/ConvKernels.h"

#include <algorithm>
#include <optional>

#include <llvm/IR/Intrinsics.h>

#include "compiler/codegen/TargetCpu.h"

namespace nnc::codegen {

using llvm::Value;

namespace {

std::optional<VectorUnit>& unitOverride() {
  static std::optional<VectorUnit> unit;
  return unit;
}

}  // namespace

VectorUnit convVectorUnit() {
  if (unitOverride()) return *unitOverride();
  const TargetCpu& cpu = emissionTargetCpu();
  return VectorUnit{cpu.lanes, cpu.registers};
}
void overrideConvVectorUnit(VectorUnit unit) { unitOverride() = unit; }
void clearConvVectorUnitOverride() { unitOverride().reset(); }

int64_t pickBlock(int64_t n, int64_t target) {
  target = std::max<int64_t>(1, std::min(target, n));
  for (int64_t d = target; d * 4 >= target * 3; --d)
    if (n % d == 0) return d;
  return target;
}

ConvVectors::ConvVectors(TaskBuilder& tb) : tb_(tb), lanes_(convVectorUnit().lanes) {
  type_ = llvm::FixedVectorType::get(tb.b().getFloatTy(), static_cast<unsigned>(lanes_));
  // Keep whole-width vectors legal where the CPU's tuning prefers narrower ones.
  tb.function()->addFnAttr("min-legal-vector-width", std::to_string(lanes_ * 32));
}

Value* ConvVectors::zero() { return llvm::Constant::getNullValue(type_); }

Value* ConvVectors::splat(Value* scalar) { return tb_.b().CreateVectorSplat(static_cast<unsigned>(lanes_), scalar); }

Value* ConvVectors::mask(int64_t active) {
  std::vector<llvm::Constant*> bits;
  for (int i = 0; i < lanes_; ++i) bits.push_back(tb_.b().getInt1(i < active));
  return llvm::ConstantVector::get(bits);
}

Value* ConvVectors::load(NodeId node, Value* index, int64_t active) {
  auto& b = tb_.b();
  Value* p = tb_.address(node, index);
  if (!p) return zero();  // unreachable: callers pass their kernel's buffers
  llvm::Instruction* v;
  if (active >= lanes_)
    v = b.CreateAlignedLoad(type_, p, llvm::Align(4));
  else
    v = b.CreateMaskedLoad(type_, p, llvm::Align(4), mask(active), zero());
  tb_.markAccess(v, node);
  return v;
}

Value* ConvVectors::loadAt(Value* address, int64_t active) {
  auto& b = tb_.b();
  if (active >= lanes_) return b.CreateAlignedLoad(type_, address, llvm::Align(4));
  return b.CreateMaskedLoad(type_, address, llvm::Align(4), mask(active), zero());
}

void ConvVectors::store(NodeId node, Value* index, Value* value, int64_t active) {
  auto& b = tb_.b();
  Value* p = tb_.address(node, index);
  if (!p) return;
  llvm::Instruction* s;
  if (active >= lanes_)
    s = b.CreateAlignedStore(value, p, llvm::Align(4));
  else
    s = b.CreateMaskedStore(value, p, llvm::Align(4), mask(active));
  tb_.markAccess(s, node);
}

Value* ConvVectors::fma(Value* a, Value* b, Value* acc) {
  return tb_.b().CreateIntrinsic(llvm::Intrinsic::fmuladd, {type_}, {a, b, acc});
}

Value* ConvVectors::sum(Value* v) {
  auto& b = tb_.b();
  auto* s = b.CreateFAddReduce(llvm::ConstantFP::getNegativeZero(b.getFloatTy()), v);
  s->setHasAllowReassoc(true);  // a tree, not lane by lane: deterministic per target
  return s;
}

std::vector<llvm::AllocaInst*> ConvVectors::accumulators(size_t count) {
  std::vector<llvm::AllocaInst*> a;
  for (size_t i = 0; i < count; ++i) a.push_back(tb_.local(type_, "acc"));
  return a;
}

Value* ConvVectors::get(llvm::AllocaInst* acc) { return tb_.b().CreateLoad(type_, acc); }
void ConvVectors::set(llvm::AllocaInst* acc, Value* v) { tb_.b().CreateStore(v, acc); }

PixelPlan planPixels(int64_t n, int64_t interiorLo, int64_t interiorHi, int64_t pixels) {
  PixelPlan plan;
  pixels = std::max<int64_t>(pixels, 1);
  auto even = [&](int64_t lo, int64_t hi) {
    int64_t count = (hi - lo + pixels - 1) / pixels;
    for (int64_t i = 0; i < count; ++i) {
      int64_t a = lo + (hi - lo) * i / count, b = lo + (hi - lo) * (i + 1) / count;
      plan.fixed.push_back({a, b - a});
    }
  };
  // Short rows (and their code size) are fully unrolled; long ones loop over the interior.
  int64_t lo = std::min(n, (interiorLo + pixels - 1) / pixels * pixels);
  int64_t hi = lo + std::max<int64_t>(0, interiorHi - lo) / pixels * pixels;
  if (n <= 6 * pixels || hi - lo < 2 * pixels) {
    even(0, n);
    return plan;
  }
  even(0, lo);
  plan.loopLo = lo;
  plan.loopHi = hi;
  even(hi, n);
  return plan;
}

Value* firstValidOutput(TaskBuilder& tb, Value* k, int64_t pad, int64_t s) {
  auto& b = tb.b();
  Value* need = tb.smax(b.CreateNSWSub(tb.i64(pad), k), tb.i64(0));
  return b.CreateUDiv(sAdd(b, need, s - 1), tb.i64(s));
}

Value* endValidOutput(TaskBuilder& tb, Value* k, int64_t pad, int64_t s, int64_t size, int64_t outSize) {
  auto& b = tb.b();
  Value* room = b.CreateNSWSub(tb.i64(size - 1 + pad), k);
  Value* end = tb.smin(sAdd(b, b.CreateSDiv(tb.smax(room, tb.i64(0)), tb.i64(s)), 1), tb.i64(outSize));
  return b.CreateSelect(b.CreateICmpSLT(room, tb.i64(0)), tb.i64(0), end);
}

void forBlocks(TaskBuilder& tb, int64_t lo, int64_t hi, int64_t block,
               const std::function<void(Value* start, int64_t width)>& body, const char* name) {
  if (hi <= lo) return;
  block = std::max<int64_t>(block, 1);
  int64_t whole = (hi - lo) / block, rest = (hi - lo) % block;
  if (whole == 1)
    body(tb.i64(lo), block);
  else if (whole > 1)
    tb.loop(tb.i64(0), tb.i64(whole), [&](Value* i) { body(tb.mulAdd(i, block, tb.i64(lo)), block); }, name);
  if (rest) body(tb.i64(lo + whole * block), rest);
}

}  // namespace nnc::codegen
