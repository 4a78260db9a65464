#pragma once
// Internal: f32 transcendental functions emitted inline as LLVM IR. exp and log are the
// Cephes single-precision algorithms (range reduction plus a minimax polynomial, about 1 ulp),
// written with selects instead of branches so the loop vectoriser widens them like any other
// arithmetic: a softmax or sigmoid loop runs at vector speed without a vector math library.
// Scalar and vector code compute the same operations, so a result does not depend on which
// elements a chunk boundary sends through the vector body and which through the remainder.
// erf and erfc call libm (resolved in the process at JIT link time).
//
// Code size: the first few exp and log polynomials of a kernel are inlined; beyond that
// budget each function (exp, log, expm1, tanh, softplus, ...) is a call to one shared
// function per module (nnc_math_expm1), which carries vector variants (nnc_math_expm1_v4,
// _v8, _v16, for the target's widths) that the loop vectoriser substitutes through the
// "vector-function-abi-variant" attribute. A
// chain of 250 selu then stays a vectorised loop of calls instead of 500 inlined polynomials
// that LLVM takes seconds to compile. The shared functions compute exactly the inlined
// arithmetic, so where a polynomial lands never changes a result.
#include <map>

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

  // exp and log polynomials inlined into one function before calls take over.
  static constexpr int kInlinePolynomialsPerFunction = 16;

 private:
  // A function that is inlined while the calling function's budget lasts, else called.
  struct Shared {
    const char* name;  // nnc_math_NAME, and nnc_math_NAME_vN for its vector variants
    int polynomials;   // exp and log polynomials it inlines
    llvm::Value* (MathEmitter::*body)(llvm::IRBuilder<>&, llvm::Value*);
  };
  llvm::Value* shareable(llvm::IRBuilder<>& b, const Shared& fn, llvm::Value* x);
  llvm::Function* sharedFunction(const Shared& fn, llvm::Type* type);
  // The arithmetic, for a float or a vector of floats.
  llvm::Value* expBody(llvm::IRBuilder<>& b, llvm::Value* x);
  llvm::Value* logBody(llvm::IRBuilder<>& b, llvm::Value* x);
  llvm::Value* expm1Body(llvm::IRBuilder<>& b, llvm::Value* x);
  llvm::Value* log1pBody(llvm::IRBuilder<>& b, llvm::Value* x);
  llvm::Value* tanhBody(llvm::IRBuilder<>& b, llvm::Value* x);
  llvm::Value* sigmoidBody(llvm::IRBuilder<>& b, llvm::Value* x);
  llvm::Value* softplusBody(llvm::IRBuilder<>& b, llvm::Value* x);
  llvm::Value* libmCall(llvm::IRBuilder<>& b, const char* name, llvm::Value* x);
  llvm::Module& m_;
  std::map<const llvm::Function*, int> inlined_;
};

}  // namespace nnc::codegen
