// The split training step's sufficient factors (train/SplitStep.h, docs/distributed.md): a
// dense weight gradient whose factors for the global batch are fewer floats than the gradient
// travels as the factors (gradient graph outputs, update graph Inputs, the product computed
// by the update graph); a narrow layer's, or every one with the option off, stays a
// "<param>/grad" slot reduced whole.
#include <gtest/gtest.h>

#include <algorithm>

#include "compiler/train/SplitStep.h"
#include "tests/compiler/GradTestHelpers.h"

namespace nnc {
namespace {

using testing::ModelBuilder;

// x [batch, 40] -> dense 30 (1,200 weights) -> dense 3 (90 weights).
Model wideThenNarrow() {
  ModelBuilder b("factors");
  NodeId x = b.input("x", TensorType{DType::F32, Shape{kBatch, 40}});
  NodeId labels = b.input("labels", TensorType{DType::I32, Shape{kBatch}});
  NodeId h = b.dense(x, "h1", 30, OpKind::Relu);
  NodeId logits = b.dense(h, "out", 3);
  b.train(b.crossEntropy(logits, labels), "adam");
  return std::move(b.m);
}

bool has(const std::vector<std::string>& names, const std::string& n) {
  return std::find(names.begin(), names.end(), n) != names.end();
}

TEST(SplitStepFactors, AWideDenseWeightTravelsAsItsFactors) {
  SplitStepOptions options;
  options.batch = 8;  // h1: 8 * (40 + 30) = 560 floats of factors < 1,200; out: 8 * 33 > 90
  Result<SplitTrainingStep> s = buildSplitTrainingStep(wideThenNarrow(), options);
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_EQ(s->factors.size(), 1u);
  const GradientFactors& f = s->factors[0];
  EXPECT_EQ(f.param, "h1.weight");
  EXPECT_EQ(f.aColumns, 40);
  EXPECT_EQ(f.bColumns, 30);
  EXPECT_FALSE(has(s->gradientStates, "h1.weight/grad"));
  for (const char* n : {"h1.bias/grad", "out.weight/grad", "out.bias/grad"}) EXPECT_TRUE(has(s->gradientStates, n)) << n;

  // The gradient graph hands out both operands of the product, batched; nothing writes a slot.
  const Graph& g = s->gradient.graph;
  EXPECT_EQ(g.findLeaf(OpKind::State, "h1.weight/grad"), kNoNode);
  int found = 0;
  for (const Output& o : g.outputs)
    if (o.name == f.a || o.name == f.b) {
      ++found;
      EXPECT_EQ(g.type(o.node), (TensorType{DType::F32, Shape{kBatch, o.name == f.a ? 40 : 30}})) << o.name;
    }
  EXPECT_EQ(found, 2);

  // The update graph multiplies its Inputs of those names into the weight's update.
  const Graph& up = s->update;
  NodeId a = up.findLeaf(OpKind::Input, f.a), b = up.findLeaf(OpKind::Input, f.b);
  ASSERT_NE(a, kNoNode);
  ASSERT_NE(b, kNoNode);
  bool product = false;
  for (size_t i = 0; i < up.size(); ++i) {
    const Node& n = up.node(NodeId(i));
    if (n.op == OpKind::MatMul && n.inputs == std::vector<NodeId>{a, b}) {
      product = true;
      EXPECT_EQ(up.type(NodeId(i)), (TensorType{DType::F32, Shape{40, 30}}));
    }
  }
  EXPECT_TRUE(product);
  EXPECT_EQ(up.findLeaf(OpKind::State, "h1.weight/grad"), kNoNode);
}

TEST(SplitStepFactors, ALargeBatchOrTheOptionOffReducesEveryGradientWhole) {
  for (bool large : {true, false}) {
    SCOPED_TRACE(large ? "batch 18: 18 * 70 > 1,200" : "gradientFactors = false");
    SplitStepOptions options;
    options.batch = large ? 18 : 8;
    options.gradientFactors = !large ? false : true;
    Result<SplitTrainingStep> s = buildSplitTrainingStep(wideThenNarrow(), options);
    ASSERT_TRUE(s.ok()) << s.error().message;
    EXPECT_TRUE(s->factors.empty());
    EXPECT_EQ(s->gradientStates.size(), 4u);
    EXPECT_TRUE(has(s->gradientStates, "h1.weight/grad"));
    EXPECT_TRUE(s->update.leaves(OpKind::Input).empty());
  }
}

}  // namespace
}  // namespace nnc
