// ONNX LSTM / GRU / RNN on nnc's recurrence op, PyTorch's batch_first chains, the
// ai.onnx.preview.training Gradient op and Gather by run-time indices (nn.Embedding): results
// computed by the compiled model, and located errors for what the recurrence cannot express.
#include <gtest/gtest.h>

#include <cmath>

#include "compiler/onnx/OnnxImport.h"
#include "compiler/session/ForwardRunner.h"
#include "tests/onnx/OnnxTestModels.h"

namespace nnc::onnxtest {
namespace {

using onnximport::importOnnxBytes;

void addRecurrentStringAttr(onnx::NodeProto* n, const std::string& name, const std::string& v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(v);
}

void addRecurrentStringsAttr(onnx::NodeProto* n, const std::string& name, std::vector<std::string> v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRINGS);
  for (auto& s : v) a->add_strings(s);
}

// X [T = 2, B = 1, I = 1] -> Y_h [1, 1, H = 1] through one op_type node with the given weights.
onnx::ModelProto recurrentModel(const std::string& op, int64_t gates, std::vector<double> w, std::vector<double> r,
                                std::vector<double> b) {
  onnx::ModelProto m = newModel();
  addValueInfo(m.mutable_graph()->add_input(), "X", 1, {2, 1, 1});
  addValueInfo(m.mutable_graph()->add_output(), "Y_h", 1, {1, 1, 1});
  addInitializer(m, "W", 1, {1, gates, 1}, w);
  addInitializer(m, "R", 1, {1, gates, 1}, r);
  addInitializer(m, "B", 1, {1, 2 * gates}, b);
  addIntAttr(addNode(m, op, {"X", "W", "R", "B"}, {"", "Y_h"}, "cell"), "hidden_size", 1);
  return m;
}

float runRecurrentModel(const onnx::ModelProto& m, std::vector<float> x) {
  auto r = importOnnxBytes(bytes(m), "m.onnx");
  EXPECT_TRUE(r.ok()) << r.error().message;
  if (!r.ok()) return NAN;
  auto runner = ForwardRunner::create(r->model);
  EXPECT_TRUE(runner.ok()) << runner.error().message;
  if (!runner.ok()) return NAN;
  float y = 0;
  const void* in[] = {x.data()};
  void* out[] = {&y};
  EXPECT_TRUE((*runner)->run(in, out, 1).ok());
  return y;
}

std::string recurrentErrorOf(const onnx::ModelProto& m) {
  auto r = importOnnxBytes(bytes(m), "m.onnx");
  EXPECT_FALSE(r.ok());
  return r.ok() ? std::string() : r.error().message;
}

double recurrentSigmoid(double v) { return 1 / (1 + std::exp(-v)); }

TEST(OnnxRecurrent, RnnWithReluActivationComputes) {
  onnx::ModelProto m = recurrentModel("RNN", 1, {2}, {0.5}, {0.25, 0.25});
  addRecurrentStringsAttr(m.mutable_graph()->mutable_node(0), "activations", {"Relu"});
  // h1 = relu(2 * 1 + 0.5) = 2.5; h2 = relu(2 * 3 + 0.5 * 2.5 + 0.5) = 7.75
  EXPECT_FLOAT_EQ(runRecurrentModel(m, {1, 3}), 7.75f);
}

TEST(OnnxRecurrent, LstmGateOrderIsOnnxs) {
  // ONNX's gate blocks are i, o, f, c: give each its own input weight.
  const double wi = 0.1, wo = 0.2, wf = 0.3, wc = 0.4;
  onnx::ModelProto m = recurrentModel("LSTM", 4, {wi, wo, wf, wc}, {0, 0, 0, 0}, std::vector<double>(8, 0.0));
  const double x0 = 1, x1 = 2;
  double c = recurrentSigmoid(wi * x0) * std::tanh(wc * x0);
  c = recurrentSigmoid(wf * x1) * c + recurrentSigmoid(wi * x1) * std::tanh(wc * x1);
  EXPECT_NEAR(runRecurrentModel(m, {float(x0), float(x1)}), recurrentSigmoid(wo * x1) * std::tanh(c), 1e-6);
}

TEST(OnnxRecurrent, GruGateOrderAndRecurrentBiasAreOnnxs) {
  // ONNX's gate blocks are z, r, h; linear_before_reset = 1 puts Rb_h inside r * (...).
  const double wz = 0.5, wr = -0.5, wh = 1.5, rz = 0.25, rr = 0.75, rh = -1, rbh = 0.3;
  onnx::ModelProto m = recurrentModel("GRU", 3, {wz, wr, wh}, {rz, rr, rh}, {0, 0, 0, 0, 0, rbh});
  addIntAttr(m.mutable_graph()->mutable_node(0), "linear_before_reset", 1);
  double h = 0;
  for (double x : {1.0, -2.0}) {
    double z = recurrentSigmoid(wz * x + rz * h), r = recurrentSigmoid(wr * x + rr * h);
    double n = std::tanh(wh * x + r * (rh * h + rbh));
    h = (1 - z) * n + z * h;
  }
  EXPECT_NEAR(runRecurrentModel(m, {1, -2}), h, 1e-6);
}

TEST(OnnxRecurrent, BidirectionalOutputsInLayoutZero) {
  // Y [steps, dirs, batch, H] and Y_h [dirs, batch, H]; the reverse direction starts at the
  // last step and its Y_h is the state at the first.
  onnx::ModelProto m = newModel();
  addValueInfo(m.mutable_graph()->add_input(), "X", 1, {2, 1, 1});
  addValueInfo(m.mutable_graph()->add_output(), "Y", 1, {2, 2, 1, 1});
  addValueInfo(m.mutable_graph()->add_output(), "Y_h", 1, {2, 1, 1});
  addInitializer(m, "W", 1, {2, 1, 1}, {1, 2});
  addInitializer(m, "R", 1, {2, 1, 1}, {0.5, 0.25});
  auto* n = addNode(m, "RNN", {"X", "W", "R"}, {"Y", "Y_h"}, "bi");
  addIntAttr(n, "hidden_size", 1);
  addRecurrentStringAttr(n, "direction", "bidirectional");
  addRecurrentStringsAttr(n, "activations", {"Relu", "Relu"});
  auto r = importOnnxBytes(bytes(m), "m.onnx");
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto runner = ForwardRunner::create(r->model);
  ASSERT_TRUE(runner.ok()) << runner.error().message;
  std::vector<float> x = {1, 3}, y(4), yh(2);
  const void* in[] = {x.data()};
  void* out[] = {y.data(), yh.data()};
  ASSERT_TRUE((*runner)->run(in, out, 1).ok());
  // forward: relu(1) = 1, relu(3 + 0.5 * 1) = 3.5; reverse: relu(2 * 3) = 6, relu(2 * 1 + 0.25 * 6) = 3.5
  EXPECT_EQ(y, (std::vector<float>{1, 3.5, 3.5, 6}));
  EXPECT_EQ(yh, (std::vector<float>{3.5, 3.5}));
}

TEST(OnnxRecurrent, UnsupportedAttributesNameTheNode) {
  onnx::ModelProto gru = recurrentModel("GRU", 3, {1, 1, 1}, {1, 1, 1}, std::vector<double>(6, 0.0));
  EXPECT_NE(recurrentErrorOf(gru).find("m.onnx: node 'cell' (GRU): linear_before_reset = 0 is not supported"), std::string::npos);

  onnx::ModelProto clip = recurrentModel("LSTM", 4, {1, 1, 1, 1}, {1, 1, 1, 1}, std::vector<double>(8, 0.0));
  auto* a = clip.mutable_graph()->mutable_node(0)->add_attribute();
  a->set_name("clip");
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(3);
  EXPECT_NE(recurrentErrorOf(clip).find("node 'cell' (LSTM): clip is not supported"), std::string::npos);

  onnx::ModelProto act = recurrentModel("LSTM", 4, {1, 1, 1, 1}, {1, 1, 1, 1}, std::vector<double>(8, 0.0));
  addRecurrentStringsAttr(act.mutable_graph()->mutable_node(0), "activations", {"Sigmoid", "Relu", "Tanh"});
  EXPECT_NE(recurrentErrorOf(act).find("node 'cell' (LSTM): activation Relu is not supported"), std::string::npos);

  onnx::ModelProto lens = recurrentModel("RNN", 1, {1}, {1}, {0, 0});
  addInitializer(lens, "lens", 6, {1}, {1});
  lens.mutable_graph()->mutable_initializer(3)->clear_int64_data();
  lens.mutable_graph()->mutable_initializer(3)->add_int32_data(1);
  lens.mutable_graph()->mutable_node(0)->add_input("lens");
  EXPECT_NE(recurrentErrorOf(lens).find("node 'cell' (RNN): sequence_lens must be known at import and equal to the 2 steps"),
            std::string::npos);

  onnx::ModelProto init = recurrentModel("RNN", 1, {1}, {1}, {0, 0});
  addValueInfo(init.mutable_graph()->add_input(), "h0", 1, {1, 1, 1});
  init.mutable_graph()->mutable_node(0)->add_input("");
  init.mutable_graph()->mutable_node(0)->add_input("h0");
  EXPECT_NE(recurrentErrorOf(init).find("node 'cell' (RNN): a nonzero initial_h is not supported"), std::string::npos);
}

TEST(OnnxRecurrent, BatchFirstChainsKeepTheBatchFirst) {
  // PyTorch's nn.LSTM(batch_first = True) with a dynamic batch: Transpose, LSTM with a
  // ConstantOfShape zero state, Squeeze, Transpose; h_n.squeeze(0) as a second output.
  onnx::ModelProto m = newModel();
  addValueInfo(m.mutable_graph()->add_input(), "x", 1, {-1, 3, 1});
  addValueInfo(m.mutable_graph()->add_output(), "y", 1, {-1, 3, 1});
  addValueInfo(m.mutable_graph()->add_output(), "hn", 1, {-1, 1});
  addInitializer(m, "W", 1, {1, 4, 1}, {1, 1, 1, 1});
  addInitializer(m, "R", 1, {1, 4, 1}, {0, 0, 0, 0});
  addInitializer(m, "one", 7, {1}, {1});
  addInitializer(m, "zero", 7, {1}, {0});
  addNode(m, "Shape", {"x"}, {"s"});
  addIntAttr(addNode(m, "Gather", {"s", "zero"}, {"n"}), "axis", 0);
  addIntAttr(addNode(m, "Concat", {"one", "n", "one"}, {"hs"}), "axis", 0);
  addNode(m, "ConstantOfShape", {"hs"}, {"h0"});
  addIntsAttr(addNode(m, "Transpose", {"x"}, {"xt"}), "perm", {1, 0, 2});
  addIntAttr(addNode(m, "LSTM", {"xt", "W", "R", "", "", "h0", "h0"}, {"Y", "Y_h", "Y_c"}, "lstm"), "hidden_size", 1);
  addNode(m, "Squeeze", {"Y", "one"}, {"ys"});
  addIntsAttr(addNode(m, "Transpose", {"ys"}, {"y"}), "perm", {1, 0, 2});
  addNode(m, "Squeeze", {"Y_h", "zero"}, {"hn"});
  auto r = importOnnxBytes(bytes(m), "m.onnx");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const Graph& g = r->model.graph;
  EXPECT_EQ(g.type(g.outputs[0].node).str(), "f32[batch, 3, 1]");
  auto runner = ForwardRunner::create(r->model);
  ASSERT_TRUE(runner.ok()) << runner.error().message;
  std::vector<float> x = {1, 2, 3, 0, 0, 0}, y(6), hn(2);
  const void* in[] = {x.data()};
  void* out[] = {y.data(), hn.data()};
  ASSERT_TRUE((*runner)->run(in, out, 2).ok());
  double c = 0;
  for (int t = 0; t < 3; ++t) {
    double v = x[size_t(t)];
    c = recurrentSigmoid(v) * c + recurrentSigmoid(v) * std::tanh(v);
    EXPECT_NEAR(y[size_t(t)], recurrentSigmoid(v) * std::tanh(c), 1e-6) << "step " << t;
  }
  EXPECT_NEAR(y[3], 0.5 * std::tanh(0.0), 1e-6);  // the second sequence: zeros throughout
  EXPECT_EQ(hn[0], y[2]);
  EXPECT_EQ(hn[1], y[5]);
}

TEST(OnnxRecurrent, GradientOpIsAnsweredByAutodiff) {
  // d = (a + b) * a over vectors: dd/da = 2a + b, dd/db = a (summed y seeds every element with 1).
  onnx::ModelProto m = newModel();
  auto* training = m.add_opset_import();
  training->set_domain("ai.onnx.preview.training");
  training->set_version(1);
  addValueInfo(m.mutable_graph()->add_input(), "a", 1, {2});
  addValueInfo(m.mutable_graph()->add_input(), "b", 1, {2});
  for (const char* out : {"da", "db"}) addValueInfo(m.mutable_graph()->add_output(), out, 1, {2});
  addNode(m, "Add", {"a", "b"}, {"c"});
  addNode(m, "Mul", {"c", "a"}, {"d"});
  auto* grad = addNode(m, "Gradient", {"a", "b"}, {"da", "db"}, "grad");
  grad->set_domain("ai.onnx.preview.training");
  addRecurrentStringsAttr(grad, "xs", {"a", "b"});
  addRecurrentStringAttr(grad, "y", "d");
  auto r = importOnnxBytes(bytes(m), "m.onnx");
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto runner = ForwardRunner::create(r->model);
  ASSERT_TRUE(runner.ok()) << runner.error().message;
  std::vector<float> a = {1, 2}, b = {3, -4}, da(2), db(2);
  const void* in[] = {a.data(), b.data()};
  void* out[] = {da.data(), db.data()};
  ASSERT_TRUE((*runner)->run(in, out, 1).ok());
  EXPECT_EQ(da, (std::vector<float>{5, 0}));
  EXPECT_EQ(db, a);

  (*m.mutable_graph()->mutable_node(2)->mutable_attribute(1)).set_s("nowhere");
  auto bad = importOnnxBytes(bytes(m), "m.onnx");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("node 'grad' (Gradient): y 'nowhere' is not defined before the node"), std::string::npos)
      << bad.error().message;
}

TEST(OnnxEmbeddingGather, RunTimeIndicesReadRowsAndCountNegativesFromTheEnd) {
  onnx::ModelProto m = newModel();
  addValueInfo(m.mutable_graph()->add_input(), "ids", 7, {-1, 2});
  addValueInfo(m.mutable_graph()->add_output(), "rows", 1, {-1, 2, 2});
  addInitializer(m, "table", 1, {3, 2}, {1, 2, 3, 4, 5, 6});
  addNode(m, "Gather", {"table", "ids"}, {"rows"}, "emb");
  auto r = importOnnxBytes(bytes(m), "m.onnx");
  ASSERT_TRUE(r.ok()) << r.error().message;
  bool embedding = false;
  for (const Node& n : r->model.graph.nodes()) embedding = embedding || n.op == OpKind::Embedding;
  EXPECT_TRUE(embedding);
  auto runner = ForwardRunner::create(r->model);
  ASSERT_TRUE(runner.ok()) << runner.error().message;
  std::vector<int32_t> ids = {0, -1, 1, -3};
  std::vector<float> rows(8);
  const void* in[] = {ids.data()};
  void* out[] = {rows.data()};
  ASSERT_TRUE((*runner)->run(in, out, 2).ok());
  EXPECT_EQ(rows, (std::vector<float>{1, 2, 5, 6, 3, 4, 1, 2}));
}

}  // namespace
}  // namespace nnc::onnxtest
