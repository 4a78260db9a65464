// Training through the interpreter: a tiny MLP with Adam learns two Gaussian blobs.
#include <gtest/gtest.h>

#include "compiler/train/Initializers.h"
#include "compiler/train/TrainingGraph.h"
#include "tests/compiler/GradTestHelpers.h"

namespace nnc {
namespace {

using testing::ModelBuilder;

TEST(TrainLearn, TwoBlobsMlpWithAdam) {
  ModelBuilder b("blobs");
  NodeId x = b.input("x", TensorType{DType::F32, Shape{kBatch, 2}});
  NodeId labels = b.input("label", TensorType{DType::I32, Shape{kBatch}});
  NodeId h = b.dense(x, "h", 8, OpKind::Relu);
  NodeId logits = b.dense(h, "out", 2);
  b.train(b.crossEntropy(logits, labels), "adam", {{"lr", 0.01}, {"beta1", 0.9}, {"beta2", 0.999}, {"eps", 1e-7}});
  Result<TrainingGraph> tg = buildTrainingStep(b.m);
  ASSERT_TRUE(tg.ok()) << tg.error().message;
  const Graph& g = tg->graph;

  // 64 points: class 0 around (-1, -1), class 1 around (1, 1).
  const int64_t n = 64;
  std::mt19937_64 rng(11);
  std::normal_distribution<double> noise(0, 0.7);
  Tensor xs(DType::F32, {n, 2}), ys(DType::I32, {n});
  for (int64_t i = 0; i < n; ++i) {
    int cls = static_cast<int>(i % 2);
    double c = cls ? 1.0 : -1.0;
    xs.data[static_cast<size_t>(2 * i)] = double(float(c + noise(rng)));
    xs.data[static_cast<size_t>(2 * i + 1)] = double(float(c + noise(rng)));
    ys.data[static_cast<size_t>(i)] = cls;
  }
  Result<LeafValues> init = initialValues(g, 0);
  ASSERT_TRUE(init.ok());
  LeafValues leaves = std::move(*init);
  leaves[g.findLeaf(OpKind::Input, "x")] = xs;
  leaves[g.findLeaf(OpKind::Input, "label")] = ys;
  leaves[tg->lr] = Tensor::scalar(0.01);

  std::vector<NodeId> wanted{g.loss};
  for (const Update& u : g.updates) wanted.push_back(u.value);
  double first = 0, last = 0;
  for (int step = 0; step < 300; ++step) {
    leaves[tg->step] = Tensor::scalar(step);
    auto r = interpret(g, leaves, wanted, Precision::F32);
    ASSERT_TRUE(r.ok()) << r.error().message;
    if (step == 0) first = (*r)[0].data[0];
    last = (*r)[0].data[0];
    for (size_t i = 0; i < g.updates.size(); ++i) leaves[g.updates[i].target] = (*r)[i + 1];
  }
  EXPECT_GT(first, 0.3);
  EXPECT_LT(last, 0.3 * first) << "first " << first << " last " << last;
}

}  // namespace
}  // namespace nnc
