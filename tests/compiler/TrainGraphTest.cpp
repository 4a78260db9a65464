// The training and inference graphs: structure (leaves, outputs, updates, verification),
// weight decay's reach, batch normalisation in both modes, dropout's lowering and masks.
#include <gtest/gtest.h>

#include "compiler/ir/AttrSchema.h"
#include "compiler/train/Initializers.h"
#include "compiler/train/TrainingGraph.h"
#include "tests/compiler/GradTestHelpers.h"

namespace nnc {
namespace {

using testing::ModelBuilder;
using V = std::vector<int64_t>;

Model mlp(const std::string& opt = "adam") {
  ModelBuilder b("mlp");
  NodeId x = b.input("x", TensorType{DType::F32, Shape{kBatch, 4}});
  NodeId labels = b.input("labels", TensorType{DType::I32, Shape{kBatch}});
  NodeId h = b.dense(x, "h1", 5, OpKind::Relu);
  NodeId logits = b.dense(h, "out", 3);
  b.output("probs", b.op(OpKind::Softmax, {logits}, Attrs{{"axis", int64_t(1)}}));
  b.train(b.crossEntropy(logits, labels), opt);
  return std::move(b.m);
}

TEST(TrainGraph, LeavesOutputsAndUpdates) {
  Result<TrainingGraph> tg = buildTrainingStep(mlp());
  ASSERT_TRUE(tg.ok()) << tg.error().message;
  const Graph& g = tg->graph;
  EXPECT_TRUE(verifyGraph(g).ok());
  ASSERT_NE(g.findLeaf(OpKind::Hyper, "lr"), kNoNode);
  ASSERT_NE(g.findLeaf(OpKind::Hyper, "step"), kNoNode);
  EXPECT_EQ(g.type(g.findLeaf(OpKind::Hyper, "lr")), (TensorType{DType::F32, Shape{}}));
  ASSERT_EQ(g.outputs.size(), 2u);
  EXPECT_EQ(g.outputs[0].name, "loss");
  EXPECT_EQ(g.outputs[0].node, g.loss);
  EXPECT_EQ(g.outputs[1].name, "probs");
  EXPECT_EQ(tg->gradients.size(), 4u);
  EXPECT_EQ(g.updates.size(), 4u * 3);  // each param and its adam.m, adam.v
  for (const char* p : {"h1.weight", "h1.bias", "out.weight", "out.bias"}) {
    EXPECT_NE(g.findLeaf(OpKind::State, std::string(p) + "/adam.m"), kNoNode) << p;
    EXPECT_NE(g.findLeaf(OpKind::State, std::string(p) + "/adam.v"), kNoNode) << p;
  }
  Result<Graph> plain = buildTrainingGraph(mlp());
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->size(), g.size());
}

TEST(TrainGraph, NoTrainBlockOrLossIsAnError) {
  Model m = mlp();
  m.train.reset();
  EXPECT_FALSE(buildTrainingGraph(m).ok());
  Model n = mlp();
  n.train->loss = kNoNode;
  n.train->loc = SourceLoc{4, 1};
  Result<Graph> r = buildTrainingGraph(n);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().loc, (SourceLoc{4, 1}));
}

TEST(TrainGraph, WeightDecayReach) {
  auto param = [](const std::string& name, Shape s) {
    Node n;
    n.op = OpKind::Param;
    n.name = name;
    n.type = TensorType{DType::F32, std::move(s)};
    return n;
  };
  EXPECT_TRUE(weightDecayApplies(param("h1.weight", Shape{3, 4})));
  EXPECT_TRUE(weightDecayApplies(param("c.weight", Shape{3, 3, 1, 4})));
  EXPECT_FALSE(weightDecayApplies(param("h1.bias", Shape{4})));
  EXPECT_FALSE(weightDecayApplies(param("r.w_input", Shape{3, 4})));      // a layer's, not `.weight`
  EXPECT_FALSE(weightDecayApplies(param("bn.gamma", Shape{4})));
  EXPECT_TRUE(weightDecayApplies(param("w1", Shape{784, 256})));          // explicit, rank 2
  EXPECT_FALSE(weightDecayApplies(param("b1", Shape{256})));              // explicit, rank 1
  // A layer's parameters are named "<layer>.<suffix>"; no `layer` attribute marks them (a
  // Param's attributes are its initializer's: compiler/ir/TypedAttrs.h).
  EXPECT_FALSE(checkOpAttrs(OpKind::Param, Attrs{{"layer", std::string("dense")}}));
}

TEST(TrainGraph, UnreachedParamIsNotUpdated) {
  ModelBuilder b("unused");
  NodeId x = b.input("x", TensorType{DType::F32, Shape{kBatch, 2}});
  NodeId t = b.input("t", TensorType{DType::F32, Shape{kBatch, 1}});
  NodeId y = b.dense(x, "d", 1);
  b.param("spare", Shape{2, 2});
  b.train(b.mse(y, t), "sgd", {{"momentum", 0.9}});
  Result<TrainingGraph> tg = buildTrainingStep(b.m);
  ASSERT_TRUE(tg.ok()) << tg.error().message;
  EXPECT_EQ(tg->unreachedParams, (std::vector<std::string>{"spare"}));
  NodeId spare = tg->graph.findLeaf(OpKind::Param, "spare");
  for (const Update& u : tg->graph.updates) EXPECT_NE(u.target, spare);
  EXPECT_EQ(tg->graph.findLeaf(OpKind::State, "spare/sgd.momentum"), kNoNode);
}

// ---- batch normalisation -------------------------------------------------------------------
struct BnModel {
  Model m;
  NodeId y;
};
BnModel bnModel(double momentum, double eps) {
  ModelBuilder b("bn");
  NodeId x = b.input("x", TensorType{DType::F32, Shape{kBatch, 2, 3}});
  NodeId y = b.batchnorm(x, "bn", momentum, eps);
  b.output("y", y);
  b.train(b.op(OpKind::ReduceMean, {b.op(OpKind::Square, {y})}, Attrs{{"axes", V{0, 1, 2}}, {"keepdims", int64_t(0)}}));
  return {std::move(b.m), y};
}

TEST(TrainGraph, BatchNormTrainingModeAndRunningStatistics) {
  const double momentum = 0.9, eps = 1e-3;
  BnModel bm = bnModel(momentum, eps);
  Result<TrainingGraph> tg = buildGradientGraph(bm.m);
  ASSERT_TRUE(tg.ok()) << tg.error().message;
  const Graph& g = tg->graph;
  std::mt19937_64 rng(5);
  const int64_t n = 4;
  LeafValues leaves;
  Tensor x = testing::randomTensor(Shape{kBatch, 2, 3}, n, rng, -2, 3);
  Tensor gamma(DType::F32, {3}, {0.5, 1.0, 2.0}), beta(DType::F32, {3}, {0.1, -0.2, 0.3});
  Tensor rm(DType::F32, {3}, {0.1, 0.2, 0.3}), rv(DType::F32, {3}, {1.0, 2.0, 0.5});
  leaves[g.findLeaf(OpKind::Input, "x")] = x;
  leaves[g.findLeaf(OpKind::Param, "bn.gamma")] = gamma;
  leaves[g.findLeaf(OpKind::Param, "bn.beta")] = beta;
  NodeId rmId = g.findLeaf(OpKind::State, "bn.running_mean"), rvId = g.findLeaf(OpKind::State, "bn.running_var");
  leaves[rmId] = rm;
  leaves[rvId] = rv;
  leaves[tg->lr] = Tensor::scalar(0.1);
  leaves[tg->step] = Tensor::scalar(0);
  ASSERT_EQ(g.updates.size(), 2u);
  std::vector<NodeId> wanted{g.outputs[1].node};
  NodeId newMean = kNoNode, newVar = kNoNode;
  for (const Update& u : g.updates) (u.target == rmId ? newMean : newVar) = u.value;
  wanted.push_back(newMean);
  wanted.push_back(newVar);
  auto r = interpret(g, leaves, wanted, Precision::F64);
  ASSERT_TRUE(r.ok()) << r.error().message;

  const int64_t rows = n * 2;  // statistics over batch and the middle axis
  for (int c = 0; c < 3; ++c) {
    double mean = 0, var = 0;
    for (int64_t i = 0; i < rows; ++i) mean += x.data[static_cast<size_t>(i * 3 + c)];
    mean /= rows;
    for (int64_t i = 0; i < rows; ++i) var += std::pow(x.data[static_cast<size_t>(i * 3 + c)] - mean, 2);
    var /= rows;  // biased
    for (int64_t i = 0; i < rows; ++i) {
      double expect = (x.data[static_cast<size_t>(i * 3 + c)] - mean) / std::sqrt(var + eps) * gamma.data[c] + beta.data[c];
      EXPECT_NEAR((*r)[0].data[static_cast<size_t>(i * 3 + c)], expect, 1e-12);
    }
    EXPECT_NEAR((*r)[1].data[c], momentum * rm.data[c] + (1 - momentum) * mean, 1e-12);
    EXPECT_NEAR((*r)[2].data[c], momentum * rv.data[c] + (1 - momentum) * var, 1e-12);
  }

  // Inference: the running statistics, no updates.
  Result<Graph> inf = buildInferenceGraph(bm.m);
  ASSERT_TRUE(inf.ok()) << inf.error().message;
  EXPECT_TRUE(inf->updates.empty());
  EXPECT_EQ(inf->loss, kNoNode);
  LeafValues il;
  il[inf->findLeaf(OpKind::Input, "x")] = x;
  il[inf->findLeaf(OpKind::Param, "bn.gamma")] = gamma;
  il[inf->findLeaf(OpKind::Param, "bn.beta")] = beta;
  il[inf->findLeaf(OpKind::State, "bn.running_mean")] = rm;
  il[inf->findLeaf(OpKind::State, "bn.running_var")] = rv;
  auto ir = interpret(*inf, il, {inf->outputs[0].node}, Precision::F64);
  ASSERT_TRUE(ir.ok()) << ir.error().message;
  for (size_t i = 0; i < x.data.size(); ++i) {
    size_t c = i % 3;
    double expect = (x.data[i] - rm.data[c]) / std::sqrt(rv.data[c] + eps) * gamma.data[c] + beta.data[c];
    EXPECT_NEAR((*ir)[0].data[i], expect, 1e-12);
  }
}

TEST(TrainGraph, InferenceGraphWithLoss) {
  Model m = mlp();
  Result<Graph> without = buildInferenceGraph(m);
  ASSERT_TRUE(without.ok());
  EXPECT_EQ(without->loss, kNoNode);
  ASSERT_EQ(without->outputs.size(), 1u);
  EXPECT_EQ(without->outputs[0].name, "probs");
  // the loss's nodes are not copied without it
  int oneHots = 0;
  for (const Node& n : without->nodes()) oneHots += n.op == OpKind::OneHot;
  EXPECT_EQ(oneHots, 0);
  EXPECT_NE(without->findLeaf(OpKind::Input, "labels"), kNoNode);  // leaves stay
  Result<Graph> with = buildInferenceGraph(m, true);
  ASSERT_TRUE(with.ok());
  EXPECT_NE(with->loss, kNoNode);
  EXPECT_EQ(with->outputs[0].name, "loss");
  EXPECT_TRUE(with->updates.empty());
  EXPECT_EQ(with->findLeaf(OpKind::Hyper, "lr"), kNoNode);
}

// ---- dropout -----------------------------------------------------------------------------
Model dropoutModel(double rate, uint64_t seed) {
  ModelBuilder b("drop");
  NodeId x = b.input("x", TensorType{DType::F32, Shape{kBatch, 50}});
  NodeId d1 = b.op(OpKind::Dropout, {x}, Attrs{{"rate", rate}}, "d1");
  NodeId d2 = b.op(OpKind::Dropout, {x}, Attrs{{"rate", rate}}, "d2");
  b.output("d1", d1);
  b.output("d2", d2);
  NodeId s = b.op(OpKind::Add, {d1, d2});
  b.train(b.op(OpKind::ReduceMean, {s}, Attrs{{"axes", V{0, 1}}, {"keepdims", int64_t(0)}}));
  b.m.train->seed = seed;
  return std::move(b.m);
}

TEST(TrainGraph, DropoutLoweringAndMaskDeterminism) {
  const double rate = 0.3;
  Model m = dropoutModel(rate, 17);
  Result<TrainingGraph> tg = buildGradientGraph(m);
  ASSERT_TRUE(tg.ok()) << tg.error().message;
  const Graph& g = tg->graph;
  std::vector<const Node*> masks;
  for (const Node& n : g.nodes()) {
    EXPECT_NE(n.op, OpKind::Dropout);
    if (n.op == OpKind::DropoutMask) masks.push_back(&n);
  }
  ASSERT_EQ(masks.size(), 2u);
  EXPECT_EQ(masks[0]->attrs.getInt("seed"), 17);
  EXPECT_NE(masks[0]->attrs.getInt("salt"), masks[1]->attrs.getInt("salt"));
  EXPECT_EQ(masks[0]->inputs[1], tg->step);

  std::mt19937_64 rng(1);
  Tensor x = testing::randomTensor(Shape{kBatch, 50}, 2, rng, 1, 2);
  auto run = [&](double step) {
    LeafValues l{{g.findLeaf(OpKind::Input, "x"), x}, {tg->lr, Tensor::scalar(0)}, {tg->step, Tensor::scalar(step)}};
    auto r = interpret(g, l, {g.outputs[1].node, g.outputs[2].node}, Precision::F64);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : std::vector<Tensor>{};
  };
  auto a = run(0), b = run(0), c = run(1);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].data, b[0].data);  // same step: the same mask
  EXPECT_NE(a[0].data, c[0].data);  // another step: another mask
  EXPECT_NE(a[0].data, a[1].data);  // another dropout node: another mask
  int dropped = 0;
  for (size_t i = 0; i < x.data.size(); ++i) {
    double v = a[0].data[i];
    if (v == 0)
      ++dropped;
    else
      EXPECT_NEAR(v, x.data[i] / (1 - rate), 1e-12);
  }
  EXPECT_GT(dropped, 10);
  EXPECT_LT(dropped, 50);

  // Inference: the identity.
  Result<Graph> inf = buildInferenceGraph(m);
  ASSERT_TRUE(inf.ok());
  for (const Node& n : inf->nodes()) EXPECT_TRUE(n.op != OpKind::Dropout && n.op != OpKind::DropoutMask);
  auto ir = interpret(*inf, {{inf->findLeaf(OpKind::Input, "x"), x}}, {inf->outputs[0].node}, Precision::F64);
  ASSERT_TRUE(ir.ok()) << ir.error().message;
  EXPECT_EQ((*ir)[0].data, x.data);
}

TEST(TrainGraph, DropoutRateZeroIsIdentity) {
  Result<TrainingGraph> tg = buildGradientGraph(dropoutModel(0, 0));
  ASSERT_TRUE(tg.ok());
  for (const Node& n : tg->graph.nodes()) EXPECT_NE(n.op, OpKind::DropoutMask);
}

}  // namespace
}  // namespace nnc
