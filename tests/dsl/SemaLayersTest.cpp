// Layers: the parameters they create (names, shapes, init), the ops they expand into, and the
// type of their result.
#include <gtest/gtest.h>

#include "compiler/ir/TypedAttrs.h"
#include "tests/dsl/SemaTestHelpers.h"

namespace nnc::testing {
namespace {

int countOps(const Model& m, OpKind op) {
  int n = 0;
  for (const Node& node : m.graph.nodes()) n += node.op == op;
  return n;
}

TEST(SemaLayers, DenseCreatesWeightAndBiasNamedAfterTheAssignment) {
  Model m = compileOk(withImages("flat = flatten(image)\nh1 = dense(flat, 256, activation = relu)\n"));
  NodeId w = leaf(m, OpKind::Param, "h1.weight"), b = leaf(m, OpKind::Param, "h1.bias");
  ASSERT_NE(w, kNoNode);
  ASSERT_NE(b, kNoNode);
  EXPECT_EQ(m.graph.type(w), (TensorType{DType::F32, Shape{784, 256}}));
  EXPECT_EQ(m.graph.type(b), (TensorType{DType::F32, Shape{256}}));
  EXPECT_EQ(m.graph.node(w).attrs.getString("init"), "glorot_uniform");
  EXPECT_EQ(m.graph.node(b).attrs.getString("init"), "zeros");
  EXPECT_EQ(typeOf(m, "h1"), (TensorType{DType::F32, Shape{kBatch, 256}}));
  EXPECT_EQ(countOps(m, OpKind::MatMul), 1);
  EXPECT_EQ(countOps(m, OpKind::Relu), 1);
  // The assignment's node is the activation, carrying the assigned name.
  const Node* h1 = nullptr;
  for (const Node& n : m.graph.nodes())
    if (n.name == "h1") h1 = &n;
  ASSERT_NE(h1, nullptr);
  EXPECT_EQ(h1->op, OpKind::Relu);
}

TEST(SemaLayers, DenseOptions) {
  Model m = compileOk(withImages(
      "flat = flatten(image)\nh = dense(flat, 10, bias = false, init = uniform(-0.1, 0.2), activation = leaky_relu)\n"));
  EXPECT_EQ(leaf(m, OpKind::Param, "h.bias"), kNoNode);
  NodeId w = leaf(m, OpKind::Param, "h.weight");
  ASSERT_NE(w, kNoNode);
  EXPECT_EQ(m.graph.node(w).attrs.getString("init"), "uniform");
  EXPECT_EQ(m.graph.node(w).attrs.getFloats("init_args"), (std::vector<double>{-0.1, 0.2}));
  EXPECT_EQ(countOps(m, OpKind::LeakyRelu), 1);
  EXPECT_EQ(countOps(m, OpKind::Add), 0);
  for (const Node& n : m.graph.nodes()) {
    if (n.op == OpKind::LeakyRelu) {
      EXPECT_DOUBLE_EQ(n.attrs.getFloat("alpha"), 0.01);
    }
  }
}

TEST(SemaLayers, DenseActsOnTheLastAxisOfHigherRanks) {
  Model m = compileOk("model t\ninput x: f32[batch, 5, 7]\ny = dense(x, 3)\n");
  EXPECT_EQ(typeOf(m, "y"), (TensorType{DType::F32, Shape{kBatch, 5, 3}}));
  EXPECT_EQ(m.graph.type(leaf(m, OpKind::Param, "y.weight")).shape, (Shape{7, 3}));
}

TEST(SemaLayers, NameArgumentNamesParameters) {
  Model m = compileOk(withImages("flat = flatten(image)\ny = relu(dense(flat, 8, name = \"fc\")) + 1\n"));
  EXPECT_NE(leaf(m, OpKind::Param, "fc.weight"), kNoNode);
  EXPECT_NE(leaf(m, OpKind::Param, "fc.bias"), kNoNode);
  EXPECT_EQ(leaf(m, OpKind::Param, "y.weight"), kNoNode);
  // At the top of an assignment, name = wins over the assigned name.
  Model m2 = compileOk(withImages("flat = flatten(image)\ny = dense(flat, 8, name = \"fc\")\n"));
  EXPECT_NE(leaf(m2, OpKind::Param, "fc.weight"), kNoNode);
  // The row still counts them.
  ASSERT_FALSE(m.layers.empty());
  EXPECT_EQ(m.layers.back().trainableParams, 784 * 8 + 8);
}

TEST(SemaLayers, Conv2DSameAndValid) {
  Model m = compileOk(
      "model t\ninput x: f32[batch, 28, 28, 3]\n"
      "a = conv2d(x, 16, kernel = 5)\n"
      "b = conv2d(x, 8, kernel = [3, 5], stride = 2, padding = valid, activation = relu, bias = false)\n");
  EXPECT_EQ(typeOf(m, "a"), (TensorType{DType::F32, Shape{kBatch, 28, 28, 16}}));
  EXPECT_EQ(typeOf(m, "b"), (TensorType{DType::F32, Shape{kBatch, 13, 12, 8}}));
  EXPECT_EQ(m.graph.type(leaf(m, OpKind::Param, "a.weight")).shape, (Shape{5, 5, 3, 16}));
  EXPECT_EQ(m.graph.type(leaf(m, OpKind::Param, "a.bias")).shape, (Shape{16}));
  EXPECT_EQ(m.graph.type(leaf(m, OpKind::Param, "b.weight")).shape, (Shape{3, 5, 3, 8}));
  EXPECT_EQ(leaf(m, OpKind::Param, "b.bias"), kNoNode);
  std::vector<const Node*> convs;
  for (const Node& n : m.graph.nodes())
    if (n.op == OpKind::Conv2D) convs.push_back(&n);
  ASSERT_EQ(convs.size(), 2u);
  EXPECT_EQ(convs[0]->attrs.getInts("pads"), (std::vector<int64_t>{2, 2, 2, 2}));
  EXPECT_EQ(convs[0]->attrs.getInts("strides"), (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(convs[1]->attrs.getInts("pads"), (std::vector<int64_t>{0, 0, 0, 0}));
  EXPECT_EQ(convs[1]->attrs.getInts("strides"), (std::vector<int64_t>{2, 2}));
}

TEST(SemaLayers, MaxoutIsDenseThenMaxOverRuns) {
  Model m = compileOk(withImages("flat = flatten(image)\nm = maxout(flat, 64, pieces = 3)\n"));
  EXPECT_EQ(m.graph.type(leaf(m, OpKind::Param, "m.weight")).shape, (Shape{784, 192}));
  EXPECT_EQ(m.graph.type(leaf(m, OpKind::Param, "m.bias")).shape, (Shape{192}));
  EXPECT_EQ(typeOf(m, "m"), (TensorType{DType::F32, Shape{kBatch, 64}}));
  bool sawRuns = false;
  for (const Node& n : m.graph.nodes())
    if (n.op == OpKind::Reshape && n.type.shape == Shape{kBatch, 64, 3}) sawRuns = true;
  EXPECT_TRUE(sawRuns);
  EXPECT_EQ(countOps(m, OpKind::ReduceMax), 1);
  EXPECT_EQ(m.layers.back().kind, "Maxout");
}

TEST(SemaLayers, BatchNormParamsAndState) {
  Model m = compileOk("model t\ninput x: f32[batch, 12]\nbn = batchnorm(x, momentum = 0.9, eps = 1e-5)\n");
  for (const char* p : {"bn.gamma", "bn.beta"}) {
    NodeId id = leaf(m, OpKind::Param, p);
    ASSERT_NE(id, kNoNode) << p;
    EXPECT_EQ(m.graph.type(id).shape, (Shape{12}));
  }
  for (const char* p : {"bn.running_mean", "bn.running_var"}) {
    NodeId id = leaf(m, OpKind::State, p);
    ASSERT_NE(id, kNoNode) << p;
    EXPECT_EQ(m.graph.type(id).shape, (Shape{12}));
  }
  EXPECT_EQ(m.graph.node(leaf(m, OpKind::Param, "bn.gamma")).attrs.getString("init"), "ones");
  EXPECT_EQ(m.graph.node(leaf(m, OpKind::State, "bn.running_var")).attrs.getString("init"), "ones");
  EXPECT_EQ(m.graph.node(leaf(m, OpKind::State, "bn.running_mean")).attrs.getString("init"), "zeros");
  const LayerRow& row = m.layers.back();
  EXPECT_EQ(row.kind, "BatchNormalization");
  EXPECT_EQ(row.trainableParams, 24);
  EXPECT_EQ(row.nonTrainableParams, 24);
  const Node* bn = nullptr;
  for (const Node& n : m.graph.nodes())
    if (n.op == OpKind::BatchNorm) bn = &n;
  ASSERT_NE(bn, nullptr);
  EXPECT_DOUBLE_EQ(bn->attrs.getFloat("momentum"), 0.9);
  EXPECT_DOUBLE_EQ(bn->attrs.getFloat("eps"), 1e-5);
}

TEST(SemaLayers, RnnLastStateAndSequences) {
  Model m = compileOk(
      "model t\ninput x: f32[batch, 6, 4]\n"
      "last = rnn(x, 10)\nall = rnn(x, 3, activation = relu, sequences = true)\n");
  EXPECT_EQ(typeOf(m, "last"), (TensorType{DType::F32, Shape{kBatch, 10}}));
  EXPECT_EQ(typeOf(m, "all"), (TensorType{DType::F32, Shape{kBatch, 6, 3}}));
  EXPECT_EQ(m.graph.type(leaf(m, OpKind::Param, "last.w_input")).shape, (Shape{4, 10}));
  EXPECT_EQ(m.graph.type(leaf(m, OpKind::Param, "last.w_recurrent")).shape, (Shape{10, 10}));
  EXPECT_EQ(m.graph.type(leaf(m, OpKind::Param, "last.bias")).shape, (Shape{10}));
  // One loop per layer, whatever the number of steps; the activation is its attribute.
  EXPECT_EQ(countOps(m, OpKind::Recurrence), 2);
  EXPECT_EQ(countOps(m, OpKind::Tanh), 0);
  std::vector<std::string> acts;
  for (const Node& n : m.graph.nodes())
    if (n.op == OpKind::Recurrence) acts.push_back(RecurrentAttr::of(n).activation);
  EXPECT_EQ(acts, (std::vector<std::string>{"tanh", "relu"}));
  EXPECT_EQ(m.layers.back().kind, "SimpleRNN");
  EXPECT_EQ(m.layers.back().trainableParams, 4 * 3 + 3 * 3 + 3);
}

TEST(SemaLayers, LstmGatesAndShapes) {
  Model m = compileOk(
      "model t\ninput x: f32[batch, 5, 8]\nh = lstm(x, 16)\nhs = lstm(x, 4, sequences = true)\n");
  EXPECT_EQ(typeOf(m, "h"), (TensorType{DType::F32, Shape{kBatch, 16}}));
  EXPECT_EQ(typeOf(m, "hs"), (TensorType{DType::F32, Shape{kBatch, 5, 4}}));
  EXPECT_EQ(m.graph.type(leaf(m, OpKind::Param, "h.w_input")).shape, (Shape{8, 64}));
  EXPECT_EQ(m.graph.type(leaf(m, OpKind::Param, "h.w_recurrent")).shape, (Shape{16, 64}));
  EXPECT_EQ(m.graph.type(leaf(m, OpKind::Param, "h.bias")).shape, (Shape{64}));
  EXPECT_EQ(m.graph.node(leaf(m, OpKind::Param, "h.bias")).attrs.getString("init"), "zeros");
  // One loop per layer over the whole sequence; its input projection is one product.
  EXPECT_EQ(countOps(m, OpKind::Recurrence), 2);
  EXPECT_EQ(countOps(m, OpKind::MatMul), 2);
  for (const Node& n : m.graph.nodes())
    if (n.op == OpKind::Recurrence) {
      EXPECT_EQ(n.attrs.getString("cell"), "lstm");
      EXPECT_EQ(n.attrs.getInt("reverse"), 0);
      EXPECT_EQ(n.type.shape, (Shape{kBatch, 5, 6 * n.attrs.getInt("units")}));  // h, c and 4 gates saved
    }
  EXPECT_EQ(m.layers[1].kind, "LSTM");
  EXPECT_EQ(m.layers[1].trainableParams, 8 * 64 + 16 * 64 + 64);
}

TEST(SemaLayers, DropoutIsTheModeDependentOp) {
  Model m = compileOk("model t\ninput x: f32[batch, 12]\nd = dropout(x, 0.25)\n");
  ASSERT_EQ(countOps(m, OpKind::Dropout), 1);
  for (const Node& n : m.graph.nodes()) {
    if (n.op == OpKind::Dropout) {
      EXPECT_DOUBLE_EQ(n.attrs.getFloat("rate"), 0.25);
    }
  }
  EXPECT_EQ(m.layers.back().kind, "Dropout");
  EXPECT_EQ(m.layers.back().trainableParams, 0);
}

TEST(SemaLayers, ExplicitParams) {
  Model m = compileOk(
      "model t\n"
      "param a: f32[3, 4]\nparam b: f32[4]\nparam c: f32[2] = constant(0.5)\n"
      "param d: f32[2] = normal(1, 2)\nparam e: f32[2] = he_uniform\nparam f: f32[2] = uniform\n");
  auto init = [&](const char* n) { return m.graph.node(leaf(m, OpKind::Param, n)).attrs; };
  EXPECT_EQ(init("a").getString("init"), "glorot_uniform");
  EXPECT_EQ(init("b").getString("init"), "zeros");
  EXPECT_EQ(init("c").getString("init"), "constant");
  EXPECT_EQ(init("c").getFloats("init_args"), (std::vector<double>{0.5}));
  EXPECT_EQ(init("d").getFloats("init_args"), (std::vector<double>{1, 2}));
  EXPECT_EQ(init("e").getString("init"), "he_uniform");
  EXPECT_EQ(init("f").getFloats("init_args"), (std::vector<double>{-0.05, 0.05}));
  ASSERT_EQ(m.layers.size(), 6u);
  EXPECT_EQ(m.layers[0].kind, "Parameter");
  EXPECT_EQ(m.layers[0].trainableParams, 12);
}

TEST(SemaLayers, LayerRowsForEveryDeclaration) {
  Model m = compileOk(withImages(
      "flat = flatten(image)\nh = dense(flat, 4)\ny = h * 2\noutput p = softmax(y)\n"));
  std::vector<std::string> kinds;
  for (const LayerRow& r : m.layers) kinds.push_back(r.name + ":" + r.kind);
  EXPECT_EQ(kinds, (std::vector<std::string>{"image:InputLayer", "label:InputLayer", "flat:Flatten", "h:Dense",
                                             "y:Lambda", "p:Activation"}));
  EXPECT_EQ(m.layers[3].outputShape, (Shape{kBatch, 4}));
  EXPECT_EQ(m.layers[3].trainableParams, 784 * 4 + 4);
  ASSERT_EQ(m.graph.outputs.size(), 1u);
  EXPECT_EQ(m.graph.outputs[0].name, "p");
}

}  // namespace
}  // namespace nnc::testing
