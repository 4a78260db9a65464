#pragma once
// The one loop-building helper under every emitter: TaskBuilder (Emit.h) and the GEMM
// emitter's Ir are built on it, and the convolution kernels use its signed index
// arithmetic. Counted loops, conditionals and entry-block stack slots, emitted through an
// IRBuilder into the function its insertion point is in.
#include <functional>
#include <string>

#include <llvm/IR/IRBuilder.h>

namespace nnc::codegen {

class LoopBuilder {
 public:
  explicit LoopBuilder(llvm::IRBuilder<>& b) : b_(b) {}

  llvm::Value* i64(int64_t v) { return b_.getInt64(static_cast<uint64_t>(v)); }
  // Index arithmetic: offsets are non-negative and far below 2^63, so no wrap is possible.
  llvm::Value* add(llvm::Value* x, llvm::Value* y) { return b_.CreateAdd(x, y, "", true, true); }
  llvm::Value* mul(llvm::Value* x, llvm::Value* y) { return b_.CreateMul(x, y, "", true, true); }
  llvm::Value* smin(llvm::Value* x, llvm::Value* y) { return b_.CreateBinaryIntrinsic(llvm::Intrinsic::smin, x, y); }
  llvm::Value* smax(llvm::Value* x, llvm::Value* y) { return b_.CreateBinaryIntrinsic(llvm::Intrinsic::smax, x, y); }

  // for (iv = lo; iv < hi; ++iv) body(iv)
  void loop(llvm::Value* lo, llvm::Value* hi, const std::function<void(llvm::Value*)>& body, const char* name = "i") {
    llvm::Function* fn = b_.GetInsertBlock()->getParent();
    llvm::BasicBlock* pre = b_.GetInsertBlock();
    auto* header = llvm::BasicBlock::Create(b_.getContext(), std::string(name) + ".head", fn);
    auto* bodyBlock = llvm::BasicBlock::Create(b_.getContext(), std::string(name) + ".body", fn);
    auto* exit = llvm::BasicBlock::Create(b_.getContext(), std::string(name) + ".exit", fn);
    b_.CreateBr(header);
    b_.SetInsertPoint(header);
    llvm::PHINode* iv = b_.CreatePHI(b_.getInt64Ty(), 2, name);
    iv->addIncoming(lo, pre);
    b_.CreateCondBr(b_.CreateICmpSLT(iv, hi), bodyBlock, exit);
    b_.SetInsertPoint(bodyBlock);
    body(iv);
    llvm::Value* next = b_.CreateAdd(iv, i64(1), std::string(name) + ".next", true, true);
    iv->addIncoming(next, b_.GetInsertBlock());
    b_.CreateBr(header);
    b_.SetInsertPoint(exit);
  }

  // if (cond) then()
  void ifThen(llvm::Value* cond, const std::function<void()>& then) {
    llvm::Function* fn = b_.GetInsertBlock()->getParent();
    auto* thenBlock = llvm::BasicBlock::Create(b_.getContext(), "then", fn);
    auto* merge = llvm::BasicBlock::Create(b_.getContext(), "endif", fn);
    b_.CreateCondBr(cond, thenBlock, merge);
    b_.SetInsertPoint(thenBlock);
    then();
    b_.CreateBr(merge);
    b_.SetInsertPoint(merge);
  }

  // if (cond) then() else otherwise()
  void ifElse(llvm::Value* cond, const std::function<void()>& then, const std::function<void()>& otherwise) {
    llvm::Function* fn = b_.GetInsertBlock()->getParent();
    auto* thenBlock = llvm::BasicBlock::Create(b_.getContext(), "then", fn);
    auto* elseBlock = llvm::BasicBlock::Create(b_.getContext(), "else", fn);
    auto* merge = llvm::BasicBlock::Create(b_.getContext(), "endif", fn);
    b_.CreateCondBr(cond, thenBlock, elseBlock);
    b_.SetInsertPoint(thenBlock);
    then();
    b_.CreateBr(merge);
    b_.SetInsertPoint(elseBlock);
    otherwise();
    b_.CreateBr(merge);
    b_.SetInsertPoint(merge);
  }

  // A stack slot at the start of the function's entry block (promoted to a register by the
  // optimizer when it can be); `align` 0: the type's.
  llvm::AllocaInst* local(llvm::Type* t, const char* name, unsigned align = 0) {
    llvm::BasicBlock& entry = b_.GetInsertBlock()->getParent()->getEntryBlock();
    llvm::IRBuilder<> eb(&entry, entry.begin());
    llvm::AllocaInst* a = eb.CreateAlloca(t, nullptr, name);
    if (align) a->setAlignment(llvm::Align(align));
    return a;
  }

 private:
  llvm::IRBuilder<>& b_;
};

// Signed index arithmetic (nsw only): window positions may be negative before they are
// clamped.
inline llvm::Value* sAdd(llvm::IRBuilder<>& b, llvm::Value* x, llvm::Value* y) { return b.CreateNSWAdd(x, y); }
inline llvm::Value* sAdd(llvm::IRBuilder<>& b, llvm::Value* x, int64_t k) {
  return k == 0 ? x : b.CreateNSWAdd(x, b.getInt64(static_cast<uint64_t>(k)));
}
inline llvm::Value* sMul(llvm::IRBuilder<>& b, llvm::Value* x, int64_t k) {
  return k == 1 ? x : b.CreateNSWMul(x, b.getInt64(static_cast<uint64_t>(k)));
}

}  // namespace nnc::codegen
