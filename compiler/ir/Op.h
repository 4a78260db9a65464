#pragma once
// Operation kinds and their registry rows (OpInfo), generated from Ops.def. Every table that
// dispatches on ops reads an OpInfo, or switches over OpKind without a `default:` so that
// -Werror=switch names an op a table forgot.
#include <cstdint>

namespace nnc {

enum class OpKind {
#define NNC_OP(Kind, ...) Kind,
#define NNC_UNARY(Kind, ...) Kind,
#define NNC_BINARY(Kind, ...) Kind,
#include "compiler/ir/Ops.def"
};

enum class OpCategory { Leaf, Elementwise, Broadcast, Injective, Reduction, OutFusable, Opaque };

// How code generation treats an op.
enum class LoweringKind {
  Leaf,     // no code: a value from outside (input, parameter, constant)
  Fused,    // one scalar function per element, fused into the loop of its consumer
  Reduce,   // a reduction loop nest whose operand's producers fuse in
  Uniform,  // one scalar for the whole tensor, computed where it is used
  View,     // the operand's buffer, reinterpreted (reshape, inference dropout)
  Custom,   // a kernel emitter of its own (matmul, convolution, pooling, ...)
};

// Whether an op has a gradient (autodiff/GradRules.h says what the driver does with each).
enum class GradKind {
  Rule,      // differentiable: GradRules.cpp has its rule
  Constant,  // locally constant: no gradient flows back through it
  None,      // not differentiable, or never in a graph being differentiated
};

// The family of an op's attributes: one struct each in compiler/ir/TypedAttrs.h, which the
// verifier checks every node against (AttrSchema.h).
enum class AttrFamily {
  None, Alpha, Init, Value, DType, Shape, Axes, Axis, Perm, Slice, Depth, MatMulTranspose, Conv, Window, Rate,
  BatchNorm,
  Recurrent,  // recurrence, recurrence_grad: cell, units, reverse, activation
  Resample, Pad,  // upsample, pad
  Attention,  // attention_softmax: scale, causal
  Augment,  // random_flip, random_translation, augment_images
  // The gradient and training forms whose attributes extend their forward op's (TypedAttrs.h).
  ConvGradInput, ConvGradFilter, WindowGrad, ResampleGrad, PadGrad, DropoutMask, Flip, Translation,
};

// How the `.nn` language names an op (dsl/sema generates these callables from the rows).
enum class DslForm { Internal, Activation, Math };

inline constexpr int kVariadic = -1;

// The reference scalar functions of elementwise ops, in double. `alpha` is the op's Alpha
// attribute (its default when absent); the i32 forms wrap to 32 bits as compiled code does.
using UnaryFn = double (*)(double x, double alpha);
using UnaryI32Fn = double (*)(int64_t x);
using BinaryFn = double (*)(double a, double b);

struct OpInfo {
  OpKind kind;
  const char* name;
  OpCategory category;
  int arity;  // or kVariadic
  LoweringKind lowering;
  double cost;  // one element's work, in simple-arithmetic units
  GradKind grad;
  const char* noGradWhy;  // GradKind::Constant / None: why (shown in errors)
  AttrFamily attrs;
  double alphaDefault;  // AttrFamily::Alpha: the default of `alpha`
  DslForm dsl;
  UnaryFn unary = nullptr;         // NNC_UNARY rows
  UnaryI32Fn unaryI32 = nullptr;   // NNC_UNARY rows that accept i32
  BinaryFn binary = nullptr;       // NNC_BINARY rows
  BinaryFn binaryI32 = nullptr;    // NNC_BINARY rows that accept i32
  bool maskResult = false;         // NNC_BINARY comparisons: f32 1 or 0 whatever the operands
};

const OpInfo& opInfo(OpKind k);
int numOpKinds();
// A second `.nn` name of an op (silu's `swish`), or none.
struct OpAlias {
  const char* name;
  OpKind kind;
};
const OpAlias* opAliasesBegin();
const OpAlias* opAliasesEnd();

inline const char* opName(OpKind k) { return opInfo(k).name; }
inline OpCategory opCategory(OpKind k) { return opInfo(k).category; }
inline LoweringKind loweringKind(OpKind k) { return opInfo(k).lowering; }
inline bool isLeaf(OpKind k) { return opCategory(k) == OpCategory::Leaf; }
// Elementwise or broadcasting: one loop over the output, no data movement.
inline bool isElementwiseLike(OpKind k) {
  return opCategory(k) == OpCategory::Elementwise || opCategory(k) == OpCategory::Broadcast;
}

}  // namespace nnc
