// The LLVM emitters of the ops: for Fused ops (Ops.def's Lowering column) the scalar function
// of one element, for Custom ops the kernel emitter. The switch in loweringFor has no
// `default:`, so an op added to Ops.def without a line here does not build (-Werror=switch),
// and LoweringTest checks each row's emitter against its LoweringKind.
#include <cmath>

#include "compiler/codegen/Emit.h"
#include "compiler/codegen/MathEmitter.h"
#include "compiler/codegen/OpLoweringTable.h"
#include "compiler/ir/OpAttrs.h"
#include "compiler/ir/ScalarMath.h"

namespace nnc::codegen {

namespace {

using llvm::Value;

using scalar::kSeluAlpha;
using scalar::kSeluScale;

llvm::IRBuilder<>& B(ScalarContext& s) { return s.tb.b(); }
MathEmitter& M(ScalarContext& s) { return s.tb.math(); }
Value* x0(ScalarContext& s) { return s.args[0]; }
Value* x1(ScalarContext& s) { return s.args[1]; }
bool isInt(ScalarContext& s) { return s.operandType(0) == DType::I32; }
Value* f(ScalarContext& s, double v) { return s.tb.f32(v); }
Value* boolToF32(ScalarContext& s, Value* cond) { return B(s).CreateSelect(cond, f(s, 1.0), f(s, 0.0)); }
double alpha(ScalarContext& s) { return alphaAttr(s.node); }

// ---- unary --------------------------------------------------------------------------------
Value* neg(ScalarContext& s) { return isInt(s) ? B(s).CreateSub(B(s).getInt32(0), x0(s)) : B(s).CreateFNeg(x0(s)); }
Value* exp(ScalarContext& s) { return M(s).exp(B(s), x0(s)); }
Value* log(ScalarContext& s) { return M(s).log(B(s), x0(s)); }
Value* sqrt(ScalarContext& s) { return M(s).sqrt(B(s), x0(s)); }
Value* abs(ScalarContext& s) {
  if (isInt(s)) return B(s).CreateBinaryIntrinsic(llvm::Intrinsic::abs, x0(s), B(s).getFalse());  // INT_MIN wraps
  return M(s).fabs(B(s), x0(s));
}
Value* square(ScalarContext& s) { return isInt(s) ? B(s).CreateMul(x0(s), x0(s)) : B(s).CreateFMul(x0(s), x0(s)); }
Value* sign(ScalarContext& s) {
  Value* x = x0(s);
  if (isInt(s)) {
    Value* pos = B(s).CreateZExt(B(s).CreateICmpSGT(x, B(s).getInt32(0)), B(s).getInt32Ty());
    Value* negv = B(s).CreateZExt(B(s).CreateICmpSLT(x, B(s).getInt32(0)), B(s).getInt32Ty());
    return B(s).CreateSub(pos, negv);
  }
  Value* r = B(s).CreateSelect(B(s).CreateFCmpOGT(x, f(s, 0)), f(s, 1.0),
                               B(s).CreateSelect(B(s).CreateFCmpOLT(x, f(s, 0)), f(s, -1.0), f(s, 0.0)));
  return B(s).CreateSelect(M(s).isNaN(B(s), x), x, r);
}
Value* erf(ScalarContext& s) { return M(s).erf(B(s), x0(s)); }
Value* relu(ScalarContext& s) {
  // NaN propagates: x > 0 ? x : (x is NaN ? x : 0).
  Value* x = x0(s);
  return B(s).CreateSelect(B(s).CreateFCmpULE(x, f(s, 0.0)), B(s).CreateSelect(M(s).isNaN(B(s), x), x, f(s, 0.0)), x);
}
Value* leakyRelu(ScalarContext& s) {
  Value* x = x0(s);
  return B(s).CreateSelect(B(s).CreateFCmpOGT(x, f(s, 0.0)), x, B(s).CreateFMul(x, f(s, alpha(s))));
}
Value* eluWith(ScalarContext& s, Value* x, double alpha) {
  Value* neg = B(s).CreateFMul(f(s, alpha), M(s).expm1(B(s), x));
  return B(s).CreateSelect(B(s).CreateFCmpOGT(x, f(s, 0.0)), x, neg);
}
Value* elu(ScalarContext& s) { return eluWith(s, x0(s), alpha(s)); }
Value* selu(ScalarContext& s) { return B(s).CreateFMul(f(s, kSeluScale), eluWith(s, x0(s), kSeluAlpha)); }
Value* gelu(ScalarContext& s) {
  // 0.5 * x * erfc(-x / sqrt 2), as the interpreter writes it (no cancellation for x << 0).
  Value* x = x0(s);
  Value* t = M(s).erfc(B(s), B(s).CreateFMul(x, f(s, -0.70710678118654752440)));
  return B(s).CreateFMul(B(s).CreateFMul(f(s, 0.5), x), t);
}
Value* sigmoid(ScalarContext& s) { return M(s).sigmoid(B(s), x0(s)); }
Value* tanh(ScalarContext& s) { return M(s).tanh(B(s), x0(s)); }
Value* softplus(ScalarContext& s) { return M(s).softplus(B(s), x0(s)); }
// min(max(x, lo), hi) by ordered compares, so that NaN falls through both and propagates.
Value* clamp(ScalarContext& s, Value* x, double lo, double hi) {
  Value* y = B(s).CreateSelect(B(s).CreateFCmpOLT(x, f(s, lo)), f(s, lo), x);
  return B(s).CreateSelect(B(s).CreateFCmpOGT(y, f(s, hi)), f(s, hi), y);
}
Value* relu6(ScalarContext& s) { return clamp(s, x0(s), 0.0, 6.0); }
Value* silu(ScalarContext& s) { return B(s).CreateFMul(x0(s), M(s).sigmoid(B(s), x0(s))); }
Value* hardSigmoid(ScalarContext& s) {  // relu6(x + 3) / 6, as torch computes it
  return B(s).CreateFDiv(clamp(s, B(s).CreateFAdd(x0(s), f(s, 3.0)), 0.0, 6.0), f(s, 6.0));
}
Value* hardSwish(ScalarContext& s) {  // x * relu6(x + 3) / 6
  Value* r = clamp(s, B(s).CreateFAdd(x0(s), f(s, 3.0)), 0.0, 6.0);
  return B(s).CreateFDiv(B(s).CreateFMul(x0(s), r), f(s, 6.0));
}
Value* softsign(ScalarContext& s) {
  return B(s).CreateFDiv(x0(s), B(s).CreateFAdd(f(s, 1.0), M(s).fabs(B(s), x0(s))));
}
Value* mish(ScalarContext& s) { return B(s).CreateFMul(x0(s), M(s).tanh(B(s), M(s).softplus(B(s), x0(s)))); }
// sin and cos call libm (sinf, cosf), as erf does; floor, ceil and round are one vector
// instruction each (round: to nearest, ties to even).
Value* sin(ScalarContext& s) { return B(s).CreateUnaryIntrinsic(llvm::Intrinsic::sin, x0(s)); }
Value* cos(ScalarContext& s) { return B(s).CreateUnaryIntrinsic(llvm::Intrinsic::cos, x0(s)); }
Value* floor(ScalarContext& s) { return B(s).CreateUnaryIntrinsic(llvm::Intrinsic::floor, x0(s)); }
Value* ceil(ScalarContext& s) { return B(s).CreateUnaryIntrinsic(llvm::Intrinsic::ceil, x0(s)); }
Value* round(ScalarContext& s) { return B(s).CreateUnaryIntrinsic(llvm::Intrinsic::roundeven, x0(s)); }
// bf16 mixed precision: scalar::roundToBf16's integer form, as selects so loops vectorise:
// bits + 0x7FFF + (bit 16) cut to the top half; a NaN quieted, then cut.
Value* roundBf16(ScalarContext& s) {
  llvm::Type* i32 = B(s).getInt32Ty();
  Value* bits = B(s).CreateBitCast(x0(s), i32);
  Value* odd = B(s).CreateAnd(B(s).CreateLShr(bits, 16), B(s).getInt32(1));
  Value* rounded = B(s).CreateAdd(bits, B(s).CreateAdd(B(s).getInt32(0x7FFF), odd));
  Value* quietNaN = B(s).CreateOr(bits, B(s).getInt32(0x00400000));
  Value* pick = B(s).CreateSelect(M(s).isNaN(B(s), x0(s)), quietNaN, rounded);
  return B(s).CreateBitCast(B(s).CreateAnd(pick, B(s).getInt32(static_cast<int32_t>(0xFFFF0000u))), B(s).getFloatTy());
}
Value* cast(ScalarContext& s) {
  DType to = s.node.type.dtype, from = s.operandType(0);
  if (to == from) return x0(s);
  if (to == DType::F32) return B(s).CreateSIToFP(x0(s), B(s).getFloatTy());
  // Truncation toward zero, saturating, NaN -> 0 (the interpreter's castToI32).
  return B(s).CreateIntrinsic(llvm::Intrinsic::fptosi_sat, {B(s).getInt32Ty(), B(s).getFloatTy()}, {x0(s)});
}

// ---- binary (operands already broadcast) ------------------------------------------------
Value* add(ScalarContext& s) { return isInt(s) ? B(s).CreateAdd(x0(s), x1(s)) : B(s).CreateFAdd(x0(s), x1(s)); }
Value* sub(ScalarContext& s) { return isInt(s) ? B(s).CreateSub(x0(s), x1(s)) : B(s).CreateFSub(x0(s), x1(s)); }
Value* mul(ScalarContext& s) { return isInt(s) ? B(s).CreateMul(x0(s), x1(s)) : B(s).CreateFMul(x0(s), x1(s)); }
Value* div(ScalarContext& s) { return B(s).CreateFDiv(x0(s), x1(s)); }
Value* pow(ScalarContext& s) { return M(s).pow(B(s), x0(s), x1(s)); }
Value* maxMin(ScalarContext& s, bool isMax) {
  Value *a = x0(s), *c = x1(s);
  if (isInt(s)) return B(s).CreateBinaryIntrinsic(isMax ? llvm::Intrinsic::smax : llvm::Intrinsic::smin, a, c);
  // NaN if either is NaN (torch.maximum / minimum).
  Value* pick = B(s).CreateSelect(isMax ? B(s).CreateFCmpOGT(a, c) : B(s).CreateFCmpOLT(a, c), a, c);
  return B(s).CreateSelect(B(s).CreateFCmpUNO(a, c), f(s, NAN), pick);
}
Value* maximum(ScalarContext& s) { return maxMin(s, true); }
Value* minimum(ScalarContext& s) { return maxMin(s, false); }
Value* greater(ScalarContext& s) {
  return boolToF32(s, isInt(s) ? B(s).CreateICmpSGT(x0(s), x1(s)) : B(s).CreateFCmpOGT(x0(s), x1(s)));
}
Value* greaterEqual(ScalarContext& s) {
  return boolToF32(s, isInt(s) ? B(s).CreateICmpSGE(x0(s), x1(s)) : B(s).CreateFCmpOGE(x0(s), x1(s)));
}
Value* equal(ScalarContext& s) {
  return boolToF32(s, isInt(s) ? B(s).CreateICmpEQ(x0(s), x1(s)) : B(s).CreateFCmpOEQ(x0(s), x1(s)));
}
Value* select(ScalarContext& s) {
  // cond != 0 picks a; a NaN condition is != 0.
  Value* cond = s.operandType(0) == DType::I32 ? B(s).CreateICmpNE(s.args[0], B(s).getInt32(0))
                                                : B(s).CreateFCmpUNE(s.args[0], f(s, 0.0));
  return B(s).CreateSelect(cond, s.args[1], s.args[2]);
}
// Data movement inside a fused loop: the operand's access already does the remapping.
Value* identity(ScalarContext& s) { return x0(s); }
// Inference batch normalisation: (x - mean) / sqrt(var + eps) * gamma + beta, operands
// (x, gamma, beta, running_mean, running_var) broadcast along the last axis.
Value* batchNorm(ScalarContext& s) {
  double eps = BatchNormAttr::of(s.node).eps;
  Value* d = B(s).CreateFSub(s.args[0], s.args[3]);
  Value* sd = M(s).sqrt(B(s), B(s).CreateFAdd(s.args[4], f(s, eps)));
  return B(s).CreateFAdd(B(s).CreateFMul(B(s).CreateFDiv(d, sd), s.args[1]), s.args[2]);
}

OpLowering none() { return {nullptr, nullptr}; }  // Leaf, Reduce, Uniform and View ops: no emitter of their own
OpLowering fused(ScalarFn fn) { return {fn, nullptr}; }
OpLowering custom(KernelFn fn) { return {nullptr, fn}; }

OpLowering loweringFor(OpKind op) {
  switch (op) {
    case OpKind::Input: case OpKind::Param: case OpKind::State: case OpKind::Hyper: case OpKind::Constant:
      return none();
    case OpKind::Neg: return fused(neg);
    case OpKind::Exp: return fused(exp);
    case OpKind::Log: return fused(log);
    case OpKind::Sqrt: return fused(sqrt);
    case OpKind::Abs: return fused(abs);
    case OpKind::Square: return fused(square);
    case OpKind::Sign: return fused(sign);
    case OpKind::Erf: return fused(erf);
    case OpKind::Relu: return fused(relu);
    case OpKind::LeakyRelu: return fused(leakyRelu);
    case OpKind::Elu: return fused(elu);
    case OpKind::Selu: return fused(selu);
    case OpKind::Gelu: return fused(gelu);
    case OpKind::Sigmoid: return fused(sigmoid);
    case OpKind::Tanh: return fused(tanh);
    case OpKind::Softplus: return fused(softplus);
    case OpKind::Relu6: return fused(relu6);
    case OpKind::Silu: return fused(silu);
    case OpKind::HardSigmoid: return fused(hardSigmoid);
    case OpKind::HardSwish: return fused(hardSwish);
    case OpKind::Softsign: return fused(softsign);
    case OpKind::Mish: return fused(mish);
    case OpKind::Sin: return fused(sin);
    case OpKind::Cos: return fused(cos);
    case OpKind::Floor: return fused(floor);
    case OpKind::Ceil: return fused(ceil);
    case OpKind::Round: return fused(round);
    case OpKind::RoundBf16: return fused(roundBf16);  // bf16 mixed precision
    case OpKind::Cast: return fused(cast);
    case OpKind::Add: return fused(add);
    case OpKind::Sub: return fused(sub);
    case OpKind::Mul: return fused(mul);
    case OpKind::Div: return fused(div);
    case OpKind::Pow: return fused(pow);
    case OpKind::Maximum: return fused(maximum);
    case OpKind::Minimum: return fused(minimum);
    case OpKind::Greater: return fused(greater);
    case OpKind::GreaterEqual: return fused(greaterEqual);
    case OpKind::Equal: return fused(equal);
    case OpKind::Select: return fused(select);
    case OpKind::BroadcastTo: return fused(identity);
    case OpKind::Transpose: return fused(identity);
    case OpKind::Slice: return fused(identity);
    case OpKind::ReduceSum: case OpKind::ReduceMean: case OpKind::ReduceMax:
      return none();
    case OpKind::ArgMax: return custom(emitArgMax);
    case OpKind::ElementCount: return none();
    case OpKind::Reshape: return none();
    case OpKind::Concat: return custom(emitConcat);
    case OpKind::OneHot: return custom(emitOneHot);
    case OpKind::MatMul: return custom(emitMatMul);
    case OpKind::Conv2D: return custom(emitConv2D);
    case OpKind::Conv2DGradInput: return custom(emitConv2DGradInput);
    case OpKind::Conv2DGradFilter: return custom(emitConv2DGradFilter);
    case OpKind::Recurrence: return custom(emitRecurrence);
    case OpKind::RecurrenceGrad: return custom(emitRecurrenceGrad);
    case OpKind::MaxPool: return custom(emitMaxPool);
    case OpKind::MaxPoolGrad: return custom(emitMaxPoolGrad);
    case OpKind::AvgPool: return custom(emitAvgPool);
    case OpKind::AvgPoolGrad: return custom(emitAvgPoolGrad);
    case OpKind::Upsample: return custom(emitUpsample);
    case OpKind::UpsampleGrad: return custom(emitUpsampleGrad);
    case OpKind::Pad: return custom(emitPad);
    case OpKind::PadGrad: return custom(emitPadGrad);
    case OpKind::Softmax: case OpKind::LogSoftmax: return custom(emitSoftmax);
    case OpKind::AttentionSoftmax: return custom(emitAttentionSoftmax);
    case OpKind::AttentionSoftmaxGrad: return custom(emitAttentionSoftmaxGrad);
    // Inference semantics, as the interpreter: dropout is the identity, batchnorm uses its
    // running statistics. Training graphs never contain them (the builder lowers both).
    case OpKind::Dropout: return none();
    case OpKind::DropoutMask: return custom(emitDropoutMask);
    case OpKind::BatchNorm: return fused(batchNorm);
    case OpKind::Embedding: return custom(emitEmbedding);
    case OpKind::EmbeddingGrad: return custom(emitEmbeddingGrad);
    case OpKind::EmbeddingSgdUpdate: return custom(emitEmbeddingSgdUpdate);
    case OpKind::EmbeddingGradAccumulate: return custom(emitEmbeddingGradAccumulate);
    case OpKind::EmbeddingGradClear: return custom(emitEmbeddingGradClear);
    // Augmentation: the identity (a view) outside training, like dropout; AugmentImages in
    // training graphs.
    case OpKind::RandomFlip: case OpKind::RandomTranslation: return none();
    case OpKind::AugmentImages: return custom(emitAugmentImages);
  }
  return none();  // not reached: the switch names every op
}

struct Table {
  std::vector<OpLowering> rows;
  Table() {
    for (int i = 0; i < numOpKinds(); ++i) rows.push_back(loweringFor(static_cast<OpKind>(i)));
  }
};

const Table& table() {
  static const Table t;
  return t;
}

}  // namespace

const OpLowering& opLowering(OpKind op) { return table().rows[static_cast<size_t>(op)]; }
bool hasScalarEmitter(OpKind op) { return opLowering(op).scalar != nullptr; }
bool hasKernelEmitter(OpKind op) { return opLowering(op).kernel != nullptr; }

}  // namespace nnc::codegen
