#pragma once
// Internal: f32 transcendental functions emitted inline as LLVM IR. exp and log are the
// Cephes single-precision algorithms (range reduction plus a minimax polynomial, about 1 ulp),
// written with selects instead of branches so the loop vectoriser widens them like any other
// arithmetic: a softmax or sigmoid loop runs at vector speed without a vector math library.
// Scalar and vector code compute the same operations, so a result does not depend on which
// elements a chunk boundary sends through the vector body and which through the remainder.
// erf and erfc call libm (resolved in the process at JIT link time).
#include <llvm/IR/IRBuilder.h>

namespace nnc::codegen {

class MathEmitter {
 public:
  explicit MathEmitter(llvm::Module& m) : m_(m) {}

  llvm::Value* exp(llvm::IRBuilder<>& b, llvm::Value* x);
  llvm::Value* log(llvm::IRBuilder<>& b, llvm::Value* x);
  llvm::Value* expm1(llvm::IRBuilder<>& b, llvm::Value* x);  // exp(x) - 1, accurate near 0
  llvm::Value* log1p(llvm::IRBuilder<>& b, llvm::Value* x);  // log(1 + x), accurate near 0
  llvm::Value* tanh(llvm::IRBuilder<>& b, llvm::Value* x);
  llvm::Value* sigmoid(llvm::IRBuilder<>& b, llvm::Value* x);
  llvm::Value* softplus(llvm::IRBuilder<>& b, llvm::Value* x);
  llvm::Value* erf(llvm::IRBuilder<>& b, llvm::Value* x);
  llvm::Value* erfc(llvm::IRBuilder<>& b, llvm::Value* x);
  llvm::Value* pow(llvm::IRBuilder<>& b, llvm::Value* x, llvm::Value* y);
  llvm::Value* sqrt(llvm::IRBuilder<>& b, llvm::Value* x);
  llvm::Value* fabs(llvm::IRBuilder<>& b, llvm::Value* x);
  llvm::Value* isNaN(llvm::IRBuilder<>& b, llvm::Value* x);

 private:
  llvm::Value* libmCall(llvm::IRBuilder<>& b, const char* name, llvm::Value* x);
  llvm::Module& m_;
};

}  // namespace nnc::codegen
