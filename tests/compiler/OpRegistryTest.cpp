// The op registry (Ops.def) against every table that dispatches on ops: each op has its
// entry in each, and the entries agree with the row (arity, grad kind, scalar functions).
// Code generation's table is checked in tests/codegen/LoweringTest.cpp, the planner's in
// tests/codegen/LoweringRegistryTest.cpp, the DSL's names in tests/dsl/SemaOpsTest.cpp.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "compiler/autodiff/GradRules.h"
#include "compiler/interp/Kernels.h"
#include "compiler/ir/Op.h"
#include "compiler/ir/ShapeRules.h"

namespace nnc {
namespace {

std::vector<OpKind> allOps() {
  std::vector<OpKind> ops;
  for (int i = 0; i < numOpKinds(); ++i) ops.push_back(static_cast<OpKind>(i));
  return ops;
}

TEST(OpRegistry, RowsAreInEnumOrderWithUniqueNames) {
  std::set<std::string> names;
  for (OpKind k : allOps()) {
    EXPECT_EQ(opInfo(k).kind, k);
    EXPECT_TRUE(names.insert(opName(k)).second) << opName(k);
  }
  for (const OpAlias* a = opAliasesBegin(); a != opAliasesEnd(); ++a) EXPECT_TRUE(names.insert(a->name).second) << a->name;
}

TEST(OpRegistry, EveryNonLeafHasAReferenceKernelAndAShapeRule) {
  for (OpKind k : allOps()) {
    SCOPED_TRACE(opName(k));
    EXPECT_EQ(isLeaf(k), opInfo(k).lowering == LoweringKind::Leaf);
    EXPECT_EQ(isLeaf(k), interp::kernelFor(k) == nullptr);
    // A shape rule that reports a wrong operand count (or, for leaves, that they have none)
    // rather than falling back to another op's rule.
    std::vector<TensorType> tooMany(7, TensorType{DType::F32, Shape{2}});
    Result<TensorType> t = inferType(k, tooMany, {});
    if (opInfo(k).arity != kVariadic) {
      EXPECT_FALSE(t) << "7 operands accepted";
    }
  }
}

TEST(OpRegistry, EveryShapeRuleRejectsMissingOperands) {
  // Variadic ops too: no rule falls back to a shape when it has nothing to infer it from.
  for (OpKind k : allOps()) {
    if (isLeaf(k)) continue;
    SCOPED_TRACE(opName(k));
    EXPECT_FALSE(inferType(k, {}, {})) << "no operands accepted";
  }
}

TEST(OpRegistry, ElementwiseRowsHaveTheirScalarFunctions) {
  for (OpKind k : allOps()) {
    SCOPED_TRACE(opName(k));
    const OpInfo& r = opInfo(k);
    if (r.unary) {
      EXPECT_EQ(r.category, OpCategory::Elementwise);
      EXPECT_EQ(r.arity, 1);
      EXPECT_EQ(r.lowering, LoweringKind::Fused);
      EXPECT_EQ(inferType(k, {TensorType{DType::I32, Shape{3}}}, {}).ok(), r.unaryI32 != nullptr);
    }
    if (r.binary) {
      EXPECT_EQ(r.category, OpCategory::Broadcast);
      EXPECT_EQ(r.arity, 2);
      EXPECT_EQ(r.lowering, LoweringKind::Fused);
      TensorType i32{DType::I32, Shape{3}};
      EXPECT_EQ(inferType(k, {i32, i32}, {}).ok(), r.binaryI32 != nullptr);
    }
    EXPECT_FALSE(r.unaryI32 && !r.unary);
    EXPECT_FALSE(r.binaryI32 && !r.binary);
    if (r.dsl == DslForm::Math) {
      EXPECT_NE(r.unary, nullptr) << "a Math name needs a one-operand scalar row";
    }
    if (r.attrs == AttrFamily::Alpha) {
      EXPECT_GT(r.alphaDefault, 0);
    }
  }
}

TEST(OpRegistry, ScalarFunctionsOfSomeRows) {
  EXPECT_EQ(opInfo(OpKind::Relu).unary(-2, 0), 0);
  EXPECT_EQ(opInfo(OpKind::LeakyRelu).unary(-2, opInfo(OpKind::LeakyRelu).alphaDefault), -0.02);
  EXPECT_EQ(opInfo(OpKind::Abs).unaryI32(-2147483648LL), -2147483648.0);  // wraps
  EXPECT_EQ(opInfo(OpKind::Mul).binaryI32(65536, 65536), 0);                // wraps
  EXPECT_EQ(opInfo(OpKind::Maximum).binaryI32(3, -4), 3);
  EXPECT_EQ(opInfo(OpKind::Greater).binary(3, -4), 1);
}

TEST(OpRegistry, GradKindsComeFromTheRows) {
  for (OpKind k : allOps()) {
    SCOPED_TRACE(opName(k));
    const GradRule& g = gradRule(k);
    EXPECT_EQ(g.kind, opInfo(k).grad);
    if (g.kind == GradKind::Rule) {
      EXPECT_NE(g.fn, nullptr) << "Diff in Ops.def but no rule in GradRules.cpp";
    } else {
      EXPECT_EQ(g.fn, nullptr) << "a rule in GradRules.cpp for an op whose row has no gradient";
      EXPECT_NE(std::string(g.why), "");
    }
  }
}

TEST(OpRegistry, CostsArePositive) {
  for (OpKind k : allOps()) EXPECT_GE(opInfo(k).cost, 1) << opName(k);
}

}  // namespace
}  // namespace nnc
