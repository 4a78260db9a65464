// The registry's rows: Ops.def expanded into OpInfo, with each elementwise op's scalar
// function as a lambda over its expression.
#include "compiler/ir/Op.h"

#include <cmath>
#include <cstddef>
#include <iterator>

#include "compiler/ir/ScalarMath.h"

namespace nnc {

namespace {

// Shared reasons of ops without a gradient.
constexpr const char* kLeafWhy = "a leaf: the driver stops at it";
constexpr const char* kGradOnlyWhy = "no rule: only appears in gradients";
constexpr const char* kLoweredWhy = "replaced by mode lowering before differentiation";
constexpr const char* kMaskWhy = "locally constant (a comparison or mask): no gradient";
constexpr const char* kStepWhy = "piecewise constant: zero gradient";

inline double wrap(int64_t v) { return scalar::wrapI32(v); }

// The columns of Ops.def, spelled as OpInfo fields.
#define Diff GradKind::Rule, ""
#define Zero(why) GradKind::Constant, why
#define NoGrad(why) GradKind::None, why
#define NoAttrs AttrFamily::None, 0.0
#define Alpha(d) AttrFamily::Alpha, d
#define Attr(family) AttrFamily::family, 0.0
#define Variadic kVariadic

// Unary i32 forms (argument x: int64_t) and binary ones (x, y: the operands as int64_t).
#define UNARY_I32_F32Only nullptr
#define UNARY_I32_I32(e) [](int64_t x) -> double { return wrap(e); }
struct SameAsF64Tag {};
constexpr BinaryFn pickI32(BinaryFn, std::nullptr_t) { return nullptr; }
constexpr BinaryFn pickI32(BinaryFn f64, SameAsF64Tag) { return f64; }
constexpr BinaryFn pickI32(BinaryFn, BinaryFn i32) { return i32; }
#define BINARY_I32_F32Only nullptr
#define BINARY_I32_SameAsF64 SameAsF64Tag{}
#define BINARY_I32_I32(e)                                             \
  +[](double a, double b) -> double {                                 \
    int64_t x = static_cast<int64_t>(a), y = static_cast<int64_t>(b); \
    return wrap(e);                                                   \
  }
#define RESULT_Same false
#define RESULT_F32Mask true

constexpr OpInfo kOps[] = {
#define NNC_OP(Kind, name, Cat, arity, Lower, cost, Grad, Attrs, Dsl) \
  {OpKind::Kind, name, OpCategory::Cat, arity, LoweringKind::Lower, cost, Grad, Attrs, DslForm::Dsl},
#define NNC_UNARY(Kind, name, cost, Grad, Attrs, Dsl, I32Form, expr)                                             \
  {OpKind::Kind, name, OpCategory::Elementwise, 1, LoweringKind::Fused, cost, Grad, Attrs, DslForm::Dsl,         \
   [](double x, [[maybe_unused]] double alpha) -> double { return expr; }, UNARY_I32_##I32Form, nullptr, nullptr, \
   false},
#define NNC_BINARY(Kind, name, cost, Grad, Result, I32Form, expr)                                              \
  {OpKind::Kind, name, OpCategory::Broadcast, 2, LoweringKind::Fused, cost, Grad, NoAttrs, DslForm::Internal,  \
   nullptr, nullptr, [](double a, double b) -> double { return expr; },                                        \
   pickI32([](double a, double b) -> double { return expr; }, BINARY_I32_##I32Form), RESULT_##Result},
#define NNC_ALIAS(name, Kind)
#include "compiler/ir/Ops.def"
};

// The aliases, and a last row that ends the list (there may be no other).
constexpr OpAlias kAliases[] = {
#define NNC_OP(...)
#define NNC_UNARY(...)
#define NNC_BINARY(...)
#define NNC_ALIAS(name, Kind) {name, OpKind::Kind},
#include "compiler/ir/Ops.def"
    {nullptr, OpKind::Input},
};

// Rows are in enum order, so that opInfo is an index.
constexpr bool inEnumOrder() {
  for (size_t i = 0; i < std::size(kOps); ++i)
    if (static_cast<size_t>(kOps[i].kind) != i) return false;
  return true;
}
static_assert(inEnumOrder());

}  // namespace

const OpInfo& opInfo(OpKind k) { return kOps[static_cast<int>(k)]; }

int numOpKinds() { return static_cast<int>(std::size(kOps)); }

const OpAlias* opAliasesBegin() { return std::begin(kAliases); }
const OpAlias* opAliasesEnd() { return std::end(kAliases) - 1; }

}  // namespace nnc
