// The differentiation driver and the rule table: coverage of Ops.def, errors for ops
// without a rule on the path to the loss, zero gradients for parameters the loss ignores.
#include <gtest/gtest.h>

#include <set>

#include "compiler/autodiff/GradRules.h"
#include "tests/compiler/GradTestHelpers.h"

namespace nnc {
namespace {

using V = std::vector<int64_t>;

TEST(GradRules, TableHasOneEntryPerOpInOpsDefOrder) {
  const auto& table = gradRuleTable();
  ASSERT_EQ(static_cast<int>(table.size()), numOpKinds());
  for (int i = 0; i < numOpKinds(); ++i) {
    EXPECT_EQ(static_cast<int>(table[static_cast<size_t>(i)].op), i) << opName(static_cast<OpKind>(i));
    const GradRule& r = table[static_cast<size_t>(i)];
    if (r.kind == GradKind::Rule)
      EXPECT_NE(r.fn, nullptr) << opName(r.op);
    else
      EXPECT_NE(std::string(r.why), "") << opName(r.op);
  }
}

TEST(GradRules, GradientOnlyOpsSaySo) {
  // (conv2d_grad_input has a rule: it is conv2d_transpose's forward.)
  for (OpKind k : {OpKind::Conv2DGradFilter, OpKind::MaxPoolGrad, OpKind::AvgPoolGrad, OpKind::UpsampleGrad,
                   OpKind::PadGrad}) {
    EXPECT_EQ(gradRule(k).kind, GradKind::None);
    EXPECT_EQ(std::string(gradRule(k).why), "no rule: only appears in gradients");
  }
}

Attrs sumAll(size_t rank) {
  V axes;
  for (size_t i = 0; i < rank; ++i) axes.push_back(static_cast<int64_t>(i));
  return Attrs{{"axes", axes}, {"keepdims", int64_t(0)}};
}

TEST(GradDriver, ArgMaxOnThePathIsALocatedError) {
  Graph g;
  NodeId x = g.addLeaf(OpKind::Input, "x", TensorType{DType::F32, Shape{kBatch, 3}});
  NodeId w = g.addLeaf(OpKind::Param, "w", TensorType{DType::F32, Shape{3, 4}});
  NodeId y = testing::must(g.add(OpKind::MatMul, {x, w}, Attrs{{"transpose_a", int64_t(0)}, {"transpose_b", int64_t(0)}}));
  NodeId am = testing::must(g.add(OpKind::ArgMax, {y}, Attrs{{"axis", int64_t(-1)}}, SourceLoc{7, 12}));
  NodeId c = testing::must(g.add(OpKind::Cast, {am}, Attrs{{"dtype", std::string("f32")}}));
  NodeId loss = testing::must(g.add(OpKind::ReduceMean, {c}, sumAll(1)));
  Result<Gradients> r = differentiate(g, loss, {w});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("cannot differentiate 'argmax' on the path to the loss"), std::string::npos)
      << r.error().message;
  EXPECT_EQ(r.error().loc, (SourceLoc{7, 12}));
}

TEST(GradDriver, ArgMaxBesideThePathIsFine) {
  // An accuracy-like argmax that does not feed the loss is not differentiated.
  Graph g;
  NodeId w = g.addLeaf(OpKind::Param, "w", TensorType{DType::F32, Shape{2, 3}});
  testing::must(g.add(OpKind::ArgMax, {w}, Attrs{{"axis", int64_t(1)}}));
  NodeId loss = testing::must(g.add(OpKind::ReduceSum, {testing::must(g.add(OpKind::Square, {w}))}, sumAll(2)));
  EXPECT_TRUE(differentiate(g, loss, {w}).ok());
}

TEST(GradDriver, UnreachedParamsGetZeroAndAreListed) {
  Graph g;
  NodeId a = g.addLeaf(OpKind::Param, "a", TensorType{DType::F32, Shape{2}});
  NodeId b = g.addLeaf(OpKind::Param, "b", TensorType{DType::F32, Shape{2, 2}});
  // b only decides a select's condition: no gradient flows into it.
  NodeId cond = testing::must(g.add(OpKind::Greater, {b, g.addScalar(0)}));
  NodeId s = testing::must(g.add(OpKind::Select, {cond, a, g.addScalar(1)}));
  NodeId loss = testing::must(g.add(OpKind::ReduceSum, {s}, sumAll(2)));
  Result<Gradients> r = differentiate(g, loss, {a, b});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->unreached, (std::vector<NodeId>{b}));
  EXPECT_EQ(g.type(r->grads[1]), g.type(b));
  ASSERT_TRUE(verifyGraph(g).ok());
  auto v = interpret(g, {{a, Tensor(DType::F32, {2}, {1, 2})}, {b, Tensor(DType::F32, {2, 2}, {1, -1, -1, 1})}}, r->grads);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ((*v)[0].data, (std::vector<double>{1, 1}));   // a[j] is selected where b[i][j] > 0: once per column
  EXPECT_EQ((*v)[1].data, (std::vector<double>{0, 0, 0, 0}));
}

TEST(GradDriver, NonScalarLossIsAnError) {
  Graph g;
  NodeId w = g.addLeaf(OpKind::Param, "w", TensorType{DType::F32, Shape{2}});
  NodeId y = testing::must(g.add(OpKind::Exp, {w}, {}, SourceLoc{3, 4}));
  Result<Gradients> r = differentiate(g, y, {w});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("scalar"), std::string::npos);
  EXPECT_EQ(r.error().loc, (SourceLoc{3, 4}));
}

TEST(GradDriver, UnloweredDropoutIsRefused) {
  Graph g;
  NodeId w = g.addLeaf(OpKind::Param, "w", TensorType{DType::F32, Shape{2}});
  NodeId d = testing::must(g.add(OpKind::Dropout, {w}, Attrs{{"rate", 0.5}}));
  NodeId loss = testing::must(g.add(OpKind::ReduceSum, {d}, sumAll(1)));
  Result<Gradients> r = differentiate(g, loss, {w});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("cannot differentiate 'dropout'"), std::string::npos);
}

TEST(GradDriver, OnlyRequestedOperandsGetGradientNodes) {
  // x is data: no conv2d_grad_input for it, only the filter's gradient.
  Graph g;
  NodeId x = g.addLeaf(OpKind::Input, "x", TensorType{DType::F32, Shape{kBatch, 4, 4, 1}});
  NodeId w = g.addLeaf(OpKind::Param, "w", TensorType{DType::F32, Shape{3, 3, 1, 2}});
  NodeId c = testing::must(g.add(OpKind::Conv2D, {x, w}, Attrs{{"strides", V{1, 1}}, {"pads", V{1, 1, 1, 1}}}));
  NodeId loss = testing::must(g.add(OpKind::ReduceMean, {c}, sumAll(4)));
  ASSERT_TRUE(differentiate(g, loss, {w}).ok());
  int gradInput = 0, gradFilter = 0;
  for (const Node& n : g.nodes()) {
    gradInput += n.op == OpKind::Conv2DGradInput;
    gradFilter += n.op == OpKind::Conv2DGradFilter;
  }
  EXPECT_EQ(gradInput, 0);
  EXPECT_EQ(gradFilter, 1);
  EXPECT_TRUE(verifyGraph(g).ok());
}

TEST(GradDriver, IntegerWrtIsAnError) {
  Graph g;
  NodeId l = g.addLeaf(OpKind::Input, "labels", TensorType{DType::I32, Shape{kBatch}});
  NodeId oh = testing::must(g.add(OpKind::OneHot, {l}, Attrs{{"depth", int64_t(3)}}));
  NodeId loss = testing::must(g.add(OpKind::ReduceSum, {oh}, sumAll(2)));
  EXPECT_FALSE(differentiate(g, loss, {l}).ok());
}

}  // namespace
}  // namespace nnc
