// The train block: every key and its default, the optimizer hyperparameters, class weights,
// and what accuracy means for the loss.
#include <gtest/gtest.h>

#include "tests/dsl/SemaTestHelpers.h"

namespace nnc::testing {
namespace {

std::map<std::string, double> hyperMap(const OptimizerConfig& o) {
  std::map<std::string, double> out;
  o.forEach([&](std::string_view name, double value) { out[std::string(name)] = value; });
  return out;
}

using Schedule = training::LearningRateSchedule;

std::string mlp(const std::string& train) {
  return withImages("flat = flatten(image)\nlogits = dense(flat, 10)\noutput probs = softmax(logits)\n" + train);
}

TEST(SemaTrain, Defaults) {
  Model m = compileOk(mlp("train { loss = cross_entropy(logits, label) }\n"));
  ASSERT_TRUE(m.train);
  const TrainConfig& t = *m.train;
  EXPECT_EQ(t.optimizer.kind(), OptimizerKind::Sgd);
  EXPECT_EQ(hyperMap(t.optimizer), (std::map<std::string, double>{{"lr", 0.01}, {"momentum", 0}, {"nesterov", 0}}));
  EXPECT_EQ(t.weightDecay, 0);
  EXPECT_EQ(t.batch, 32);
  EXPECT_EQ(t.epochs, 1);
  EXPECT_EQ(t.validation, 0);
  EXPECT_TRUE(t.shuffle);
  EXPECT_EQ(t.seed, 0u);
  EXPECT_EQ(t.normalize, NormalizeKind::None);
  EXPECT_EQ(t.schedule.kind, Schedule::Kind::Constant);
  EXPECT_FALSE(t.earlyStopPatience);
  EXPECT_EQ(t.classWeights, ClassWeightsKind::None);
  EXPECT_EQ(t.classWeightsState, kNoNode);
  EXPECT_EQ(t.sampling, SamplingKind::None);
  EXPECT_EQ(t.loss, m.graph.loss);
  EXPECT_EQ(m.graph.type(t.loss), (TensorType{DType::F32, Shape{}}));
  EXPECT_EQ(t.accuracy, AccuracyKind::Categorical);
  EXPECT_EQ(m.graph.node(t.accuracyLogits).name, "logits");
  EXPECT_EQ(m.graph.node(t.accuracyLabels).name, "label");
}

TEST(SemaTrain, EveryKey) {
  Model m = compileOk(mlp(
      "train {\n"
      "  loss = cross_entropy(logits, label)\n"
      "  optimizer = adam(lr = 3e-4, beta2 = 0.99)\n"
      "  weight_decay = 1e-4\n"
      "  batch = 128\n  epochs = 7\n  validation = 0.2\n  shuffle = false\n  seed = 42\n"
      "  normalize = scale(1 / 255)\n"
      "  schedule = step(every = 2, factor = 0.5)\n"
      "  early_stop = 3\n"
      "  class_weights = balanced\n"
      "  sampling = oversample\n"
      "}\n"));
  ASSERT_TRUE(m.train);
  const TrainConfig& t = *m.train;
  EXPECT_EQ(t.optimizer.kind(), OptimizerKind::Adam);
  EXPECT_EQ(hyperMap(t.optimizer),
            (std::map<std::string, double>{{"lr", 3e-4}, {"beta1", 0.9}, {"beta2", 0.99}, {"eps", 1e-7}}));
  EXPECT_DOUBLE_EQ(t.optimizer.lr(), 3e-4);
  EXPECT_DOUBLE_EQ(t.weightDecay, 1e-4);
  EXPECT_EQ(t.batch, 128);
  EXPECT_EQ(t.epochs, 7);
  EXPECT_DOUBLE_EQ(t.validation, 0.2);
  EXPECT_FALSE(t.shuffle);
  EXPECT_EQ(t.seed, 42u);
  EXPECT_EQ(t.normalize, NormalizeKind::Scale);
  EXPECT_DOUBLE_EQ(t.normalizeScale, 1.0 / 255);
  EXPECT_EQ(t.schedule.kind, Schedule::Kind::Step);
  EXPECT_EQ(t.schedule.every, 2);
  EXPECT_EQ(t.schedule.factor, 0.5);
  EXPECT_EQ(t.earlyStopPatience, 3);
  EXPECT_EQ(t.classWeights, ClassWeightsKind::Balanced);
  EXPECT_EQ(t.sampling, SamplingKind::Oversample);
  ASSERT_NE(t.classWeightsState, kNoNode);
  const Node& cw = m.graph.node(t.classWeightsState);
  EXPECT_EQ(cw.op, OpKind::State);
  EXPECT_EQ(cw.name, "class_weights");
  EXPECT_EQ(cw.type, (TensorType{DType::F32, Shape{10}}));
  EXPECT_EQ(cw.attrs.getString("init"), "class_weights");
}

TEST(SemaTrain, OptimizerDefaults) {
  struct Case {
    const char* call;
    std::map<std::string, double> hyper;
  };
  const Case cases[] = {
      {"sgd(momentum = 0.9, nesterov = true)", {{"lr", 0.01}, {"momentum", 0.9}, {"nesterov", 1}}},
      {"adam", {{"lr", 1e-3}, {"beta1", 0.9}, {"beta2", 0.999}, {"eps", 1e-7}}},
      {"adadelta()", {{"lr", 1.0}, {"rho", 0.95}, {"eps", 1e-7}}},
      {"rmsprop(lr = 0.01)", {{"lr", 0.01}, {"rho", 0.9}, {"momentum", 0}, {"eps", 1e-7}}},
      {"adagrad", {{"lr", 1e-3}, {"initial", 0.1}, {"eps", 1e-7}}},
  };
  for (const Case& c : cases) {
    Model m = compileOk(mlp(std::string("train { loss = cross_entropy(logits, label) optimizer = ") + c.call + " }\n"));
    ASSERT_TRUE(m.train) << c.call;
    EXPECT_EQ(hyperMap(m.train->optimizer), c.hyper) << c.call;
  }
}

TEST(SemaTrain, Schedules) {
  struct Case {
    const char* value;
    Schedule expected;
  };
  const Case cases[] = {
      {"constant", Schedule{}},
      {"exponential(rate = 0.96, every = 100)", Schedule{Schedule::Kind::Exponential, 100, 1, 0.96, 1}},
      {"cosine(epochs = 10)", Schedule{Schedule::Kind::Cosine, 1, 1, 1, 10}},
      {"step(every = 3, factor = 0.1)", Schedule{Schedule::Kind::Step, 3, 0.1, 1, 1}},
  };
  for (const Case& c : cases) {
    Model m = compileOk(mlp(std::string("train { loss = cross_entropy(logits, label) schedule = ") + c.value + " }\n"));
    ASSERT_TRUE(m.train);
    const Schedule& got = m.train->schedule;
    EXPECT_EQ(got.kind, c.expected.kind) << c.value;
    EXPECT_EQ(got.every, c.expected.every) << c.value;
    EXPECT_EQ(got.factor, c.expected.factor) << c.value;
    EXPECT_EQ(got.rate, c.expected.rate) << c.value;
    EXPECT_EQ(got.epochs, c.expected.epochs) << c.value;
  }
}

TEST(SemaTrain, NormalizeStandardize) {
  Model m = compileOk(mlp("train { loss = cross_entropy(logits, label) normalize = standardize }\n"));
  EXPECT_EQ(m.train->normalize, NormalizeKind::Standardize);
}

TEST(SemaTrain, ClassWeightListFeedsCrossEntropy) {
  Model m = compileOk(mlp(
      "train { loss = cross_entropy(logits, label) class_weights = [1, 1, 1, 1, 1, 1, 1, 1, 1, 5] }\n"));
  EXPECT_EQ(m.train->classWeights, ClassWeightsKind::List);
  EXPECT_EQ(m.train->classWeightList.size(), 10u);
  NodeId state = m.train->classWeightsState;
  ASSERT_NE(state, kNoNode);
  bool used = false;
  for (const Node& n : m.graph.nodes())
    for (NodeId in : n.inputs) used = used || in == state;
  EXPECT_TRUE(used);
}

TEST(SemaTrain, CrossEntropyWithItsOwnWeightsIgnoresNoState) {
  Model m = compileOk(mlp("l = cross_entropy(logits, label, class_weights = [1,2,3,4,5,6,7,8,9,10])\n"
                          "train { loss = l }\n"));
  EXPECT_EQ(m.train->classWeightsState, kNoNode);
  EXPECT_EQ(m.graph.findLeaf(OpKind::State, "class_weights"), kNoNode);
}

TEST(SemaTrain, AccuracyFollowsTheLoss) {
  Model bce = compileOk(
      "model t\ninput x: f32[batch, 4]\ninput y: f32[batch, 1]\nz = dense(x, 1)\n"
      "train { loss = binary_cross_entropy(z, y) }\n");
  EXPECT_EQ(bce.train->accuracy, AccuracyKind::Binary);
  EXPECT_EQ(bce.graph.node(bce.train->accuracyLogits).name, "z");
  Model reg = compileOk(
      "model t\ninput x: f32[batch, 4]\ninput y: f32[batch, 1]\nz = dense(x, 1)\ntrain { loss = mse(z, y) }\n");
  EXPECT_EQ(reg.train->accuracy, AccuracyKind::None);
  // A loss computed in the model and named in the train block.
  Model named = compileOk(mlp("l = cross_entropy(logits, label)\ntrain { loss = l * 2 }\n"));
  EXPECT_EQ(named.train->accuracy, AccuracyKind::Categorical);
}

// Issue 17 item 4: the Keras idiom, a sigmoid (softmax) output given to a loss that applies
// sigmoid (softmax) itself, compiles with a located warning, and accuracy thresholds what the
// model decides: p > 0.5 is the sigmoid's input > 0, not p > 0 (always true).
TEST(SemaTrain, SquashedLossInputWarnsAndAccuracyFollowsTheDecision) {
  const std::string bce =
      "model t\ninput x: f32[batch, 4]\ninput y: f32[batch, 1]\nh = dense(x, 8, activation = relu)\n"
      "output p = dense(h, 1, activation = sigmoid)\ntrain { loss = binary_cross_entropy(p, y) }\n";
  DiagnosticEngine diags("test.nn", bce);
  std::optional<Model> m = compileModel(bce, diags);
  ASSERT_TRUE(m.has_value()) << diags.renderToString();
  EXPECT_FALSE(diags.hasErrors());
  EXPECT_EQ(diags.renderToString(),
            "test.nn:6:37: warning: binary_cross_entropy applies sigmoid itself and expects logits, but 'p' is "
            "already a sigmoid output: give the loss the values before the sigmoid (e.g. dense(h, units) without "
            "activation) and apply sigmoid only to the output\n"
            "train { loss = binary_cross_entropy(p, y) }\n"
            "                                    ^\n");
  const Node& decided = m->graph.node(m->train->accuracyLogits);
  EXPECT_EQ(decided.op, OpKind::Add) << "the dense layer's pre-activation, not the sigmoid";
  EXPECT_EQ(m->train->accuracy, AccuracyKind::Binary);

  const std::string ce = mlp("train { loss = cross_entropy(probs, label) }\n");
  DiagnosticEngine ceDiags("test.nn", ce);
  std::optional<Model> cm = compileModel(ce, ceDiags);
  ASSERT_TRUE(cm.has_value());
  EXPECT_NE(ceDiags.renderToString().find("warning: cross_entropy applies softmax itself and expects logits, but "
                                          "'probs' is already a softmax output"),
            std::string::npos)
      << ceDiags.renderToString();
  // Logits, the documented use, warn about nothing.
  const std::string good = mlp("train { loss = cross_entropy(logits, label) }\n");
  DiagnosticEngine goodDiags("test.nn", good);
  ASSERT_TRUE(compileModel(good, goodDiags).has_value());
  EXPECT_TRUE(goodDiags.diagnostics().empty());
}

TEST(SemaTrain, LossWithPenaltyOnExplicitParam) {
  Model m = compileOk(
      "model t\ninput x: f32[batch, 4]\ninput y: i32[batch]\nparam w: f32[4, 3]\n"
      "z = x @ w\ntrain { loss = cross_entropy(z, y) + 1e-3 * sum(square(w)) }\n");
  EXPECT_EQ(m.train->accuracy, AccuracyKind::Categorical);
  EXPECT_EQ(m.graph.node(m.train->accuracyLogits).name, "z");
}

}  // namespace
}  // namespace nnc::testing

namespace nnc::testing {
namespace {

TEST(SemaTrain, NoTrainBlock) {
  Model m = compileOk("model t\ninput x: f32[batch, 4]\noutput y = relu(x)\n");
  EXPECT_FALSE(m.train.has_value());
  EXPECT_EQ(m.graph.loss, kNoNode);
}

TEST(SemaTrain, LayerNamedInsideTheLossIsCounted) {
  Model m = compileOk(
      "model t\ninput x: f32[batch, 4]\ninput y: f32[batch, 1]\n"
      "train { loss = mse(dense(x, 1, name = \"head\"), y) }\n");
  EXPECT_NE(m.graph.findLeaf(OpKind::Param, "head.weight"), kNoNode);
  EXPECT_EQ(totalParams(m), 5);
}

}  // namespace
}  // namespace nnc::testing
