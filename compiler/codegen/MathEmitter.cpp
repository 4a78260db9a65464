#include "compiler/codegen/MathEmitter.h"

#include <cmath>

#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/Module.h>

namespace nnc::codegen {

using llvm::Value;

namespace {

Value* c(llvm::IRBuilder<>& b, double v) { return llvm::ConstantFP::get(b.getFloatTy(), v); }

// Horner's rule: ((k0 * x + k1) * x + k2) ...
Value* poly(llvm::IRBuilder<>& b, Value* x, std::initializer_list<double> coeffs) {
  Value* y = nullptr;
  for (double k : coeffs) y = y ? b.CreateFAdd(b.CreateFMul(y, x), c(b, k)) : c(b, k);
  return y;
}

Value* intrinsic(llvm::IRBuilder<>& b, llvm::Intrinsic::ID id, Value* x) {
  return b.CreateUnaryIntrinsic(id, x);
}

// 2^n for an i32 n in [-126, 127], built from its exponent bits.
Value* pow2i(llvm::IRBuilder<>& b, Value* n) {
  Value* bits = b.CreateShl(b.CreateAdd(n, b.getInt32(127)), 23);
  return b.CreateBitCast(bits, b.getFloatTy());
}

}  // namespace

Value* MathEmitter::isNaN(llvm::IRBuilder<>& b, Value* x) { return b.CreateFCmpUNO(x, x); }

Value* MathEmitter::fabs(llvm::IRBuilder<>& b, Value* x) { return intrinsic(b, llvm::Intrinsic::fabs, x); }

Value* MathEmitter::sqrt(llvm::IRBuilder<>& b, Value* x) { return intrinsic(b, llvm::Intrinsic::sqrt, x); }

Value* MathEmitter::exp(llvm::IRBuilder<>& b, Value* x) {
  Value* nan = isNaN(b, x);
  // Clamp: beyond 88.8 the result overflows to inf, below -104 it underflows to 0, and the
  // two-step scaling below stays within the exponent range. NaN is replaced, then restored.
  Value* xc = b.CreateSelect(nan, c(b, 0), x);
  xc = b.CreateSelect(b.CreateFCmpOLT(xc, c(b, -104.0)), c(b, -104.0), xc);
  xc = b.CreateSelect(b.CreateFCmpOGT(xc, c(b, 88.8)), c(b, 88.8), xc);
  // x = n ln2 + r, |r| <= ln2 / 2, with ln2 split in two for an exact product.
  Value* fx = intrinsic(b, llvm::Intrinsic::floor, b.CreateFAdd(b.CreateFMul(xc, c(b, 1.44269504088896341)), c(b, 0.5)));
  Value* r = b.CreateFSub(xc, b.CreateFMul(fx, c(b, 0.693359375)));
  r = b.CreateFSub(r, b.CreateFMul(fx, c(b, -2.12194440e-4)));
  Value* z = b.CreateFMul(r, r);
  Value* p = poly(b, r, {1.9875691500E-4, 1.3981999507E-3, 8.3334519073E-3, 4.1665795894E-2, 1.6666665459E-1,
                         5.0000001201E-1});
  Value* y = b.CreateFAdd(b.CreateFAdd(b.CreateFMul(p, z), r), c(b, 1.0));
  // y * 2^n as y * 2^(n/2) * 2^(n - n/2): each factor is a normal float for n in [-150, 128].
  Value* n = b.CreateFPToSI(fx, b.getInt32Ty());
  Value* n1 = b.CreateAShr(n, 1);
  Value* n2 = b.CreateSub(n, n1);
  Value* result = b.CreateFMul(b.CreateFMul(y, pow2i(b, n1)), pow2i(b, n2));
  return b.CreateSelect(nan, x, result);
}

Value* MathEmitter::log(llvm::IRBuilder<>& b, Value* x) {
  llvm::Type* i32 = b.getInt32Ty();
  // Subnormals: scale into the normal range first.
  Value* tiny = b.CreateFCmpOLT(x, c(b, 1.17549435e-38));
  Value* xs = b.CreateSelect(tiny, b.CreateFMul(x, c(b, 8388608.0)), x);  // 2^23
  Value* bits = b.CreateBitCast(xs, i32);
  Value* e = b.CreateSub(b.CreateAnd(b.CreateLShr(bits, 23), b.getInt32(0xff)), b.getInt32(126));
  e = b.CreateSelect(tiny, b.CreateSub(e, b.getInt32(23)), e);
  // Mantissa in [0.5, 1).
  Value* m = b.CreateBitCast(b.CreateOr(b.CreateAnd(bits, b.getInt32(static_cast<int32_t>(0x807fffff))), b.getInt32(0x3f000000)),
                             b.getFloatTy());
  Value* small = b.CreateFCmpOLT(m, c(b, 0.707106781186547524));
  e = b.CreateSelect(small, b.CreateSub(e, b.getInt32(1)), e);
  m = b.CreateSelect(small, b.CreateFSub(b.CreateFAdd(m, m), c(b, 1.0)), b.CreateFSub(m, c(b, 1.0)));
  Value* z = b.CreateFMul(m, m);
  Value* p = poly(b, m, {7.0376836292E-2, -1.1514610310E-1, 1.1676998740E-1, -1.2420140846E-1, 1.4249322787E-1,
                         -1.6668057665E-1, 2.0000714765E-1, -2.4999993993E-1, 3.3333331174E-1});
  Value* y = b.CreateFMul(b.CreateFMul(p, m), z);
  Value* fe = b.CreateSIToFP(e, b.getFloatTy());
  y = b.CreateFAdd(y, b.CreateFMul(fe, c(b, -2.12194440e-4)));
  y = b.CreateFAdd(y, b.CreateFMul(z, c(b, -0.5)));
  Value* r = b.CreateFAdd(m, y);
  r = b.CreateFAdd(r, b.CreateFMul(fe, c(b, 0.693359375)));
  // Special values: log(0) = -inf, log(inf) = inf, log(negative or NaN) = NaN.
  r = b.CreateSelect(b.CreateFCmpOEQ(x, c(b, 0.0)), c(b, -INFINITY), r);
  r = b.CreateSelect(b.CreateFCmpOEQ(x, c(b, INFINITY)), x, r);
  r = b.CreateSelect(b.CreateFCmpULT(x, c(b, 0.0)), c(b, NAN), r);
  return r;
}

Value* MathEmitter::expm1(llvm::IRBuilder<>& b, Value* x) {
  // Kahan: with u = fl(exp(x)), (u - 1) * x / log(u) is exp(x) - 1 to a few ulps.
  Value* u = exp(b, x);
  Value* um1 = b.CreateFSub(u, c(b, 1.0));
  Value* r = b.CreateFDiv(b.CreateFMul(um1, x), log(b, u));
  r = b.CreateSelect(b.CreateFCmpOEQ(um1, c(b, -1.0)), c(b, -1.0), r);
  r = b.CreateSelect(b.CreateFCmpOEQ(u, c(b, 1.0)), x, r);
  r = b.CreateSelect(b.CreateFCmpOEQ(u, c(b, INFINITY)), u, r);
  return r;
}

Value* MathEmitter::log1p(llvm::IRBuilder<>& b, Value* x) {
  // With u = fl(1 + x): log(u) * x / (u - 1), exact enough near 0.
  Value* u = b.CreateFAdd(x, c(b, 1.0));
  Value* um1 = b.CreateFSub(u, c(b, 1.0));
  Value* r = b.CreateFDiv(b.CreateFMul(log(b, u), x), um1);
  r = b.CreateSelect(b.CreateFCmpOEQ(um1, c(b, 0.0)), x, r);
  r = b.CreateSelect(b.CreateFCmpOEQ(u, c(b, INFINITY)), u, r);
  return r;
}

Value* MathEmitter::tanh(llvm::IRBuilder<>& b, Value* x) {
  Value* ax = fabs(b, x);
  // |x| >= 0.625: 1 - 2 / (exp(2|x|) + 1), sign restored.
  Value* e = exp(b, b.CreateFMul(ax, c(b, 2.0)));
  Value* big = b.CreateFSub(c(b, 1.0), b.CreateFDiv(c(b, 2.0), b.CreateFAdd(e, c(b, 1.0))));
  big = b.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, big, x);
  // |x| < 0.625: odd polynomial (Cephes tanhf).
  Value* z = b.CreateFMul(x, x);
  Value* p = poly(b, z, {-5.70498872745E-3, 2.06390887954E-2, -5.37397155531E-2, 1.33314422036E-1, -3.33332819422E-1});
  Value* small = b.CreateFAdd(b.CreateFMul(b.CreateFMul(p, z), x), x);
  return b.CreateSelect(b.CreateFCmpOGE(ax, c(b, 0.625)), big, small);
}

Value* MathEmitter::sigmoid(llvm::IRBuilder<>& b, Value* x) {
  // e = exp(-|x|) never overflows: 1 / (1 + e) for x >= 0, e / (1 + e) below.
  Value* e = exp(b, b.CreateFNeg(fabs(b, x)));
  Value* den = b.CreateFAdd(c(b, 1.0), e);
  return b.CreateSelect(b.CreateFCmpOGE(x, c(b, 0.0)), b.CreateFDiv(c(b, 1.0), den), b.CreateFDiv(e, den));
}

Value* MathEmitter::softplus(llvm::IRBuilder<>& b, Value* x) {
  // log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)); NaN stays NaN.
  Value* t = log1p(b, exp(b, b.CreateFNeg(fabs(b, x))));
  Value* pos = b.CreateSelect(b.CreateFCmpOGT(x, c(b, 0.0)), x, c(b, 0.0));
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
