// gru, `bidirectional = true` on rnn, lstm and gru, and the recurrent layers' errors: shapes,
// parameter names and shapes (LANGUAGE.md's layer table), and the loop ops they lower to.
#include <gtest/gtest.h>

#include "tests/dsl/SemaTestHelpers.h"

namespace nnc {
namespace {

using namespace nnc::testing;

std::vector<const Node*> recurrentLoops(const Model& m) {
  std::vector<const Node*> out;
  for (const Node& n : m.graph.nodes())
    if (n.op == OpKind::Recurrence) out.push_back(&n);
  return out;
}

Shape recurrentParamShape(const Model& m, const std::string& name) {
  NodeId id = leaf(m, OpKind::Param, name);
  EXPECT_NE(id, kNoNode) << name;
  return id == kNoNode ? Shape{} : m.graph.type(id).shape;
}

TEST(SemaRecurrent, GruParametersAndShapes) {
  Model m = compileOk("model t\ninput x: f32[batch, 7, 5]\nh = gru(x, 6)\nhs = gru(x, 4, sequences = true)\n");
  EXPECT_EQ(typeOf(m, "h"), (TensorType{DType::F32, Shape{kBatch, 6}}));
  EXPECT_EQ(typeOf(m, "hs"), (TensorType{DType::F32, Shape{kBatch, 7, 4}}));
  EXPECT_EQ(recurrentParamShape(m, "h.w_input"), (Shape{5, 18}));
  EXPECT_EQ(recurrentParamShape(m, "h.w_recurrent"), (Shape{6, 18}));
  EXPECT_EQ(recurrentParamShape(m, "h.bias"), (Shape{18}));
  EXPECT_EQ(recurrentParamShape(m, "h.recurrent_bias"), (Shape{18}));
  EXPECT_EQ(m.graph.node(leaf(m, OpKind::Param, "h.recurrent_bias")).attrs.getString("init"), "zeros");
  auto loops = recurrentLoops(m);
  ASSERT_EQ(loops.size(), 2u);
  EXPECT_EQ(loops[0]->attrs.getString("cell"), "gru");
  EXPECT_EQ(loops[0]->inputs.size(), 3u);  // xp, w_recurrent, recurrent_bias
  EXPECT_EQ(m.layers[1].kind, "GRU");
  EXPECT_EQ(m.layers[1].trainableParams, 5 * 18 + 6 * 18 + 18 + 18);
}

TEST(SemaRecurrent, BidirectionalEveryCell) {
  for (const char* cell : {"rnn", "lstm", "gru"}) {
    SCOPED_TRACE(cell);
    std::string c = cell;
    int64_t gates = c == "rnn" ? 1 : c == "lstm" ? 4 : 3;
    Model m = compileOk("model t\ninput x: f32[batch, 6, 3]\nlast = " + c + "(x, 5, bidirectional = true)\nall = " + c +
                        "(x, 2, sequences = true, bidirectional = true)\n");
    EXPECT_EQ(typeOf(m, "last"), (TensorType{DType::F32, Shape{kBatch, 10}}));
    EXPECT_EQ(typeOf(m, "all"), (TensorType{DType::F32, Shape{kBatch, 6, 4}}));
    for (const char* suffix : {"", "_reverse"}) {
      std::string s = suffix;
      EXPECT_EQ(recurrentParamShape(m, "last.w_input" + s), (Shape{3, 5 * gates}));
      EXPECT_EQ(recurrentParamShape(m, "last.w_recurrent" + s), (Shape{5, 5 * gates}));
      EXPECT_EQ(recurrentParamShape(m, "last.bias" + s), (Shape{5 * gates}));
      EXPECT_EQ(leaf(m, OpKind::Param, "last.recurrent_bias" + s) != kNoNode, c == "gru");
    }
    auto loops = recurrentLoops(m);
    ASSERT_EQ(loops.size(), 4u);
    EXPECT_EQ(loops[0]->attrs.getInt("reverse"), 0);
    EXPECT_EQ(loops[1]->attrs.getInt("reverse"), 1);
  }
}

TEST(SemaRecurrent, BackwardLastStateIsTheFirstStep) {
  // Without sequences the backward direction's state after its last step is at time 0.
  Model m = compileOk("model t\ninput x: f32[batch, 6, 3]\nh = lstm(x, 5, bidirectional = true)\n");
  std::vector<int64_t> steps;
  for (const Node& n : m.graph.nodes())
    if (n.op == OpKind::Slice && n.attrs.getInt("axis") == 1) steps.push_back(n.attrs.getInt("begin"));
  EXPECT_EQ(steps, (std::vector<int64_t>{5, 0}));
}

TEST(SemaRecurrent, GraphDoesNotGrowWithTime) {
  Model shortSeq = compileOk("model t\ninput x: f32[batch, 3, 8]\nh = lstm(x, 32, bidirectional = true)\n");
  Model longSeq = compileOk("model t\ninput x: f32[batch, 4096, 8]\nh = lstm(x, 32, bidirectional = true)\n");
  EXPECT_EQ(shortSeq.graph.size(), longSeq.graph.size());
}

TEST(SemaRecurrent, Errors) {
  EXPECT_NE(errorMessages("model t\ninput x: f32[batch, 6]\nh = gru(x, 4)\n").find("gru"), std::string::npos);
  std::string notElementwise = compileErrors("model t\ninput x: f32[batch, 6, 3]\nh = rnn(x, 4, activation = softmax)\n");
  EXPECT_NE(notElementwise.find("test.nn:3:5: error: rnn: activation 'softmax' is not elementwise"), std::string::npos)
      << notElementwise;
  EXPECT_NE(errorMessages("model t\ninput x: f32[batch, 6, 3]\nh = gru(x, 4, bidirectional = 2)\n").find("bidirectional"),
            std::string::npos);
  EXPECT_NE(errorMessages("model t\ninput x: f32[batch, 6, 3]\nh = lstm(x, 0)\n").find("units"), std::string::npos);
}

}  // namespace
}  // namespace nnc
