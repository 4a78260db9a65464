// The planner's tables against the op registry: every leaf op gets a storage, and every op
// FusionRoles.h names has the lowering kind and category its role needs. Also: the planner
// reads its choices from LoweringOptions only, never from the environment.
#include <gtest/gtest.h>

#include <cstdlib>

#include "compiler/lowering/FusionRoles.h"
#include "compiler/lowering/Lowering.h"
#include "tests/codegen/CodegenTestUtil.h"

namespace nnc {
namespace {

using namespace nnc::testing;
using lowering::FusionRole;

TEST(LoweringRegistry, EveryLeafOpHasAStorage) {
  for (int i = 0; i < numOpKinds(); ++i) {
    OpKind k = static_cast<OpKind>(i);
    if (!isLeaf(k)) continue;
    SCOPED_TRACE(opName(k));
    Graph g;
    Attrs attrs;
    if (opInfo(k).attrs == AttrFamily::Value) attrs.set("value", 1.0);
    NodeId leaf = g.addLeaf(k, "leaf", TensorType{DType::F32, Shape{}}, attrs);
    g.outputs.push_back({"y", op(g, OpKind::Neg, {leaf})});
    LoweredGraph lg = lowerOrFail(g);
    ASSERT_EQ(lg.storage.size(), g.size());
    EXPECT_NE(lg.storage[static_cast<size_t>(leaf)].kind, StorageKind::None);
  }
}

TEST(LoweringRegistry, FusionRolesAgreeWithTheRows) {
  int named = 0;
  for (int i = 0; i < numOpKinds(); ++i) {
    OpKind k = static_cast<OpKind>(i);
    SCOPED_TRACE(opName(k));
    const OpInfo& r = opInfo(k);
    switch (lowering::fusionRole(k)) {
      case FusionRole::None:
        continue;
      case FusionRole::EpilogueHost:
        // Products, and maxpool_grad (Opaque: not a product, see RoundProductOperands).
        EXPECT_TRUE(r.category == OpCategory::OutFusable || k == OpKind::MaxPoolGrad);
        EXPECT_EQ(r.lowering, LoweringKind::Custom);
        break;
      case FusionRole::RowNormalization:
        EXPECT_EQ(r.attrs, AttrFamily::Axis);
        EXPECT_EQ(r.lowering, LoweringKind::Custom);
        break;
      case FusionRole::RowIndicator:
        EXPECT_EQ(r.attrs, AttrFamily::Depth);
        EXPECT_EQ(r.lowering, LoweringKind::Custom);
        break;
      case FusionRole::RowSum:
        EXPECT_EQ(r.category, OpCategory::Reduction);
        EXPECT_EQ(r.lowering, LoweringKind::Reduce);
        break;
    }
    ++named;
  }
  EXPECT_EQ(named, 7);
}

TEST(LoweringRegistry, ThePlannerReadsNoEnvironment) {
  // relu(x @ w): the matmul takes the relu as its epilogue. The knob that turns that off is
  // read when CompileOptions are made (GemmEpilogue.TheKnobTurnsItOff), not by lowerGraph.
  Graph g;
  NodeId x = input(g, "x", DType::F32, {kBatch, 8});
  NodeId w = param(g, "w", {8, 4});
  g.outputs.push_back({"y", op(g, OpKind::Relu, {op(g, OpKind::MatMul, {x, w})})});
  setenv("NNC_FUSE_EPILOGUES", "0", 1);
  LoweredGraph lg = lowerOrFail(g);
  unsetenv("NNC_FUSE_EPILOGUES");
  ASSERT_EQ(lg.kernels.size(), 1u) << describeKernels(lg);
  EXPECT_FALSE(lg.kernels[0].epilogue.empty()) << describeKernels(lg);
}

}  // namespace
}  // namespace nnc
