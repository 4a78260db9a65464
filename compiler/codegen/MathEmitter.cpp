#include "compiler/codegen/MathEmitter.h"

#include <algorithm>
#include <cmath>
#include <string>

#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/Module.h>

#include "compiler/codegen/TargetCpu.h"

namespace nnc::codegen {

using llvm::Value;

namespace {

// Constants and integer types shaped like x (a float or a vector of floats): the same code
// builds the scalar polynomials and their vector variants.
Value* c(Value* x, double v) { return llvm::ConstantFP::get(x->getType(), v); }
llvm::Type* intLike(llvm::IRBuilder<>& b, Value* x) { return x->getType()->getWithNewType(b.getInt32Ty()); }
Value* ci(llvm::IRBuilder<>& b, Value* x, int32_t v) {
  return llvm::ConstantInt::get(intLike(b, x), static_cast<uint64_t>(static_cast<uint32_t>(v)));
}

// Horner's rule: ((k0 * x + k1) * x + k2) ...
Value* poly(llvm::IRBuilder<>& b, Value* x, std::initializer_list<double> coeffs) {
  Value* y = nullptr;
  for (double k : coeffs) y = y ? b.CreateFAdd(b.CreateFMul(y, x), c(x, k)) : c(x, k);
  return y;
}

Value* intrinsic(llvm::IRBuilder<>& b, llvm::Intrinsic::ID id, Value* x) {
  return b.CreateUnaryIntrinsic(id, x);
}

// 2^n for an i32 n in [-126, 127], built from its exponent bits (n: i32 or a vector of i32).
Value* pow2i(llvm::IRBuilder<>& b, Value* n, llvm::Type* floatType) {
  Value* bits = b.CreateShl(b.CreateAdd(n, llvm::ConstantInt::get(n->getType(), 127)), 23);
  return b.CreateBitCast(bits, floatType);
}

Value* expPolynomial(llvm::IRBuilder<>& b, Value* x) {
  llvm::Type* ft = x->getType();
  Value* nan = b.CreateFCmpUNO(x, x);
  // Clamp: beyond 88.8 the result overflows to inf, below -104 it underflows to 0, and the
  // two-step scaling below stays within the exponent range. NaN is replaced, then restored.
  Value* xc = b.CreateSelect(nan, c(x, 0), x);
  xc = b.CreateSelect(b.CreateFCmpOLT(xc, c(x, -104.0)), c(x, -104.0), xc);
  xc = b.CreateSelect(b.CreateFCmpOGT(xc, c(x, 88.8)), c(x, 88.8), xc);
  // x = n ln2 + r, |r| <= ln2 / 2, with ln2 split in two for an exact product.
  Value* fx = intrinsic(b, llvm::Intrinsic::floor, b.CreateFAdd(b.CreateFMul(xc, c(x, 1.44269504088896341)), c(x, 0.5)));
  Value* r = b.CreateFSub(xc, b.CreateFMul(fx, c(x, 0.693359375)));
  r = b.CreateFSub(r, b.CreateFMul(fx, c(x, -2.12194440e-4)));
  Value* z = b.CreateFMul(r, r);
  Value* p = poly(b, r, {1.9875691500E-4, 1.3981999507E-3, 8.3334519073E-3, 4.1665795894E-2, 1.6666665459E-1,
                         5.0000001201E-1});
  Value* y = b.CreateFAdd(b.CreateFAdd(b.CreateFMul(p, z), r), c(x, 1.0));
  // y * 2^n as y * 2^(n/2) * 2^(n - n/2): each factor is a normal float for n in [-150, 128].
  Value* n = b.CreateFPToSI(fx, intLike(b, x));
  Value* n1 = b.CreateAShr(n, 1);
  Value* n2 = b.CreateSub(n, n1);
  Value* result = b.CreateFMul(b.CreateFMul(y, pow2i(b, n1, ft)), pow2i(b, n2, ft));
  return b.CreateSelect(nan, x, result);
}

Value* logPolynomial(llvm::IRBuilder<>& b, Value* x) {
  llvm::Type* i32 = intLike(b, x);
  // Subnormals: scale into the normal range first.
  Value* tiny = b.CreateFCmpOLT(x, c(x, 1.17549435e-38));
  Value* xs = b.CreateSelect(tiny, b.CreateFMul(x, c(x, 8388608.0)), x);  // 2^23
  Value* bits = b.CreateBitCast(xs, i32);
  Value* e = b.CreateSub(b.CreateAnd(b.CreateLShr(bits, 23), ci(b, x, 0xff)), ci(b, x, 126));
  e = b.CreateSelect(tiny, b.CreateSub(e, ci(b, x, 23)), e);
  // Mantissa in [0.5, 1).
  Value* m = b.CreateBitCast(b.CreateOr(b.CreateAnd(bits, ci(b, x, static_cast<int32_t>(0x807fffff))), ci(b, x, 0x3f000000)),
                             x->getType());
  Value* small = b.CreateFCmpOLT(m, c(x, 0.707106781186547524));
  e = b.CreateSelect(small, b.CreateSub(e, ci(b, x, 1)), e);
  m = b.CreateSelect(small, b.CreateFSub(b.CreateFAdd(m, m), c(x, 1.0)), b.CreateFSub(m, c(x, 1.0)));
  Value* z = b.CreateFMul(m, m);
  Value* p = poly(b, m, {7.0376836292E-2, -1.1514610310E-1, 1.1676998740E-1, -1.2420140846E-1, 1.4249322787E-1,
                         -1.6668057665E-1, 2.0000714765E-1, -2.4999993993E-1, 3.3333331174E-1});
  Value* y = b.CreateFMul(b.CreateFMul(p, m), z);
  Value* fe = b.CreateSIToFP(e, x->getType());
  y = b.CreateFAdd(y, b.CreateFMul(fe, c(x, -2.12194440e-4)));
  y = b.CreateFAdd(y, b.CreateFMul(z, c(x, -0.5)));
  Value* r = b.CreateFAdd(m, y);
  r = b.CreateFAdd(r, b.CreateFMul(fe, c(x, 0.693359375)));
  // Special values: log(0) = -inf, log(inf) = inf, log(negative or NaN) = NaN.
  r = b.CreateSelect(b.CreateFCmpOEQ(x, c(x, 0.0)), c(x, -INFINITY), r);
  r = b.CreateSelect(b.CreateFCmpOEQ(x, c(x, INFINITY)), x, r);
  r = b.CreateSelect(b.CreateFCmpULT(x, c(x, 0.0)), c(x, NAN), r);
  return r;
}

// The "vector-function-abi-variant" name of the `lanes`-wide variant of scalar `name`.
std::string vectorVariant(const std::string& name, int lanes) {
  return "_ZGV_LLVM_N" + std::to_string(lanes) + "v_" + name + "(" + name + "_v" + std::to_string(lanes) + ")";
}

}  // namespace

Value* MathEmitter::expBody(llvm::IRBuilder<>& b, Value* x) { return expPolynomial(b, x); }
Value* MathEmitter::logBody(llvm::IRBuilder<>& b, Value* x) { return logPolynomial(b, x); }

Value* MathEmitter::shareable(llvm::IRBuilder<>& b, const Shared& fn, Value* x) {
  const llvm::Function* f = b.GetInsertBlock() ? b.GetInsertBlock()->getParent() : nullptr;
  int& used = inlined_[f];
  if (used + fn.polynomials <= kInlinePolynomialsPerFunction) {
    used += fn.polynomials;
    return (this->*fn.body)(b, x);
  }
  llvm::Function* callee = sharedFunction(fn, x->getType());
  llvm::CallInst* call = b.CreateCall(callee, {x});
  if (x->getType()->isVectorTy()) return call;
  // Vector variants at every width the target's vectoriser may choose.
  std::string variants;
  for (int lanes = 4; lanes <= std::max(4, emissionTargetCpu().lanes); lanes *= 2) {
    if (!variants.empty()) variants += ',';
    variants += vectorVariant(callee->getName().str(), lanes);
    sharedFunction(fn, llvm::FixedVectorType::get(x->getType(), static_cast<unsigned>(lanes)));
  }
  call->addFnAttr(llvm::Attribute::get(m_.getContext(), "vector-function-abi-variant", variants));
  return call;
}

// The shared function for `type` (float or <N x float>), defined once per module.
llvm::Function* MathEmitter::sharedFunction(const Shared& fn, llvm::Type* type) {
  std::string name = std::string("nnc_math_") + fn.name;
  if (auto* v = llvm::dyn_cast<llvm::FixedVectorType>(type)) name += "_v" + std::to_string(v->getNumElements());
  if (llvm::Function* f = m_.getFunction(name)) return f;
  auto* f = llvm::Function::Create(llvm::FunctionType::get(type, {type}, false), llvm::GlobalValue::InternalLinkage,
                                   name, m_);
  f->setDoesNotThrow();
  f->setWillReturn();
  f->setDoesNotAccessMemory();
  f->addFnAttr(llvm::Attribute::NoInline);  // shared is the point, whatever pipeline runs
  f->addFnAttr(llvm::Attribute::NoFree);
  f->addFnAttr(llvm::Attribute::NoSync);
  if (auto* v = llvm::dyn_cast<llvm::FixedVectorType>(type))
    f->addFnAttr("min-legal-vector-width", std::to_string(v->getNumElements() * 32));
  llvm::IRBuilder<> fb(llvm::BasicBlock::Create(m_.getContext(), "entry", f));
  fb.CreateRet((this->*fn.body)(fb, f->getArg(0)));
  return f;
}

// Polynomials each inlines: its cost against the budget.
Value* MathEmitter::exp(llvm::IRBuilder<>& b, Value* x) { return shareable(b, {"exp", 1, &MathEmitter::expBody}, x); }
Value* MathEmitter::log(llvm::IRBuilder<>& b, Value* x) { return shareable(b, {"log", 1, &MathEmitter::logBody}, x); }
Value* MathEmitter::expm1(llvm::IRBuilder<>& b, Value* x) {
  return shareable(b, {"expm1", 2, &MathEmitter::expm1Body}, x);
}
Value* MathEmitter::log1p(llvm::IRBuilder<>& b, Value* x) {
  return shareable(b, {"log1p", 1, &MathEmitter::log1pBody}, x);
}
Value* MathEmitter::tanh(llvm::IRBuilder<>& b, Value* x) { return shareable(b, {"tanh", 1, &MathEmitter::tanhBody}, x); }
Value* MathEmitter::sigmoid(llvm::IRBuilder<>& b, Value* x) {
  return shareable(b, {"sigmoid", 1, &MathEmitter::sigmoidBody}, x);
}
Value* MathEmitter::softplus(llvm::IRBuilder<>& b, Value* x) {
  return shareable(b, {"softplus", 2, &MathEmitter::softplusBody}, x);
}

Value* MathEmitter::isNaN(llvm::IRBuilder<>& b, Value* x) { return b.CreateFCmpUNO(x, x); }

Value* MathEmitter::fabs(llvm::IRBuilder<>& b, Value* x) { return intrinsic(b, llvm::Intrinsic::fabs, x); }

Value* MathEmitter::sqrt(llvm::IRBuilder<>& b, Value* x) { return intrinsic(b, llvm::Intrinsic::sqrt, x); }

Value* MathEmitter::expm1Body(llvm::IRBuilder<>& b, Value* x) {
  // Kahan: with u = fl(exp(x)), (u - 1) * x / log(u) is exp(x) - 1 to a few ulps.
  Value* u = exp(b, x);
  Value* um1 = b.CreateFSub(u, c(x, 1.0));
  Value* r = b.CreateFDiv(b.CreateFMul(um1, x), log(b, u));
  r = b.CreateSelect(b.CreateFCmpOEQ(um1, c(x, -1.0)), c(x, -1.0), r);
  r = b.CreateSelect(b.CreateFCmpOEQ(u, c(x, 1.0)), x, r);
  r = b.CreateSelect(b.CreateFCmpOEQ(u, c(x, INFINITY)), u, r);
  return r;
}

Value* MathEmitter::log1pBody(llvm::IRBuilder<>& b, Value* x) {
  // With u = fl(1 + x): log(u) * x / (u - 1), exact enough near 0.
  Value* u = b.CreateFAdd(x, c(x, 1.0));
  Value* um1 = b.CreateFSub(u, c(x, 1.0));
  Value* r = b.CreateFDiv(b.CreateFMul(log(b, u), x), um1);
  r = b.CreateSelect(b.CreateFCmpOEQ(um1, c(x, 0.0)), x, r);
  r = b.CreateSelect(b.CreateFCmpOEQ(u, c(x, INFINITY)), u, r);
  return r;
}

Value* MathEmitter::tanhBody(llvm::IRBuilder<>& b, Value* x) {
  Value* ax = fabs(b, x);
  // |x| >= 0.625: 1 - 2 / (exp(2|x|) + 1), sign restored.
  Value* e = exp(b, b.CreateFMul(ax, c(x, 2.0)));
  Value* big = b.CreateFSub(c(x, 1.0), b.CreateFDiv(c(x, 2.0), b.CreateFAdd(e, c(x, 1.0))));
  big = b.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, big, x);
  // |x| < 0.625: odd polynomial (Cephes tanhf).
  Value* z = b.CreateFMul(x, x);
  Value* p = poly(b, z, {-5.70498872745E-3, 2.06390887954E-2, -5.37397155531E-2, 1.33314422036E-1, -3.33332819422E-1});
  Value* small = b.CreateFAdd(b.CreateFMul(b.CreateFMul(p, z), x), x);
  return b.CreateSelect(b.CreateFCmpOGE(ax, c(x, 0.625)), big, small);
}

Value* MathEmitter::sigmoidBody(llvm::IRBuilder<>& b, Value* x) {
  // e = exp(-|x|) never overflows: 1 / (1 + e) for x >= 0, e / (1 + e) below.
  Value* e = exp(b, b.CreateFNeg(fabs(b, x)));
  Value* den = b.CreateFAdd(c(x, 1.0), e);
  return b.CreateSelect(b.CreateFCmpOGE(x, c(x, 0.0)), b.CreateFDiv(c(x, 1.0), den), b.CreateFDiv(e, den));
}

Value* MathEmitter::softplusBody(llvm::IRBuilder<>& b, Value* x) {
  // log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)); NaN stays NaN.
  Value* t = log1p(b, exp(b, b.CreateFNeg(fabs(b, x))));
  Value* pos = b.CreateSelect(b.CreateFCmpOGT(x, c(x, 0.0)), x, c(x, 0.0));
  return b.CreateSelect(isNaN(b, x), x, b.CreateFAdd(t, pos));
}

Value* MathEmitter::libmCall(llvm::IRBuilder<>& b, const char* name, Value* x) {
  llvm::FunctionType* ft = llvm::FunctionType::get(b.getFloatTy(), {b.getFloatTy()}, false);
  llvm::FunctionCallee f = m_.getOrInsertFunction(name, ft);
  if (auto* fn = llvm::dyn_cast<llvm::Function>(f.getCallee())) {
    fn->setDoesNotThrow();
    fn->setWillReturn();
    fn->setDoesNotAccessMemory();  // f32 erf/erfc: pure (errno aside, which nnc never reads)
  }
  return b.CreateCall(f, {x});
}

Value* MathEmitter::erf(llvm::IRBuilder<>& b, Value* x) { return libmCall(b, "erff", x); }

Value* MathEmitter::erfc(llvm::IRBuilder<>& b, Value* x) { return libmCall(b, "erfcf", x); }

Value* MathEmitter::pow(llvm::IRBuilder<>& b, Value* x, Value* y) {
  return b.CreateBinaryIntrinsic(llvm::Intrinsic::pow, x, y);
}

}  // namespace nnc::codegen
