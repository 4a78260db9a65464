// Initializers: Keras fans and formulas, determinism from (seed, name), defaults.
#include <gtest/gtest.h>

#include <cmath>

#include "compiler/train/Initializers.h"

namespace nnc {
namespace {

Node leaf(OpKind op, const std::string& name, Shape s, const std::string& init = "", std::vector<double> args = {}) {
  Node n;
  n.op = op;
  n.name = name;
  n.type = TensorType{DType::F32, std::move(s)};
  if (!init.empty()) n.attrs.set("init", init);
  if (!args.empty()) n.attrs.set("init_args", args);
  return n;
}

Tensor value(const Node& n, uint64_t seed = 0) {
  Result<Tensor> t = initialValue(n, seed);
  EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error().message);
  return t.ok() ? *t : Tensor{};
}

double mean(const Tensor& t) {
  double s = 0;
  for (double v : t.data) s += v;
  return s / double(t.size());
}
double stddev(const Tensor& t) {
  double m = mean(t), s = 0;
  for (double v : t.data) s += (v - m) * (v - m);
  return std::sqrt(s / double(t.size()));
}

TEST(TrainInitializers, KerasFans) {
  Fans dense = computeFans(Shape{784, 256});
  EXPECT_EQ(dense.in, 784);
  EXPECT_EQ(dense.out, 256);
  Fans conv = computeFans(Shape{3, 5, 8, 16});
  EXPECT_EQ(conv.in, 3 * 5 * 8);
  EXPECT_EQ(conv.out, 3 * 5 * 16);
  Fans vec = computeFans(Shape{10});
  EXPECT_EQ(vec.in, 10);
  EXPECT_EQ(vec.out, 10);
  EXPECT_EQ(computeFans(Shape{}).in, 1);
}

TEST(TrainInitializers, Constants) {
  EXPECT_EQ(value(leaf(OpKind::Param, "a", Shape{3}, "zeros")).data, (std::vector<double>{0, 0, 0}));
  EXPECT_EQ(value(leaf(OpKind::Param, "a", Shape{2}, "ones")).data, (std::vector<double>{1, 1}));
  EXPECT_EQ(value(leaf(OpKind::Param, "a", Shape{2}, "constant", {0.5})).data, (std::vector<double>{0.5, 0.5}));
  // defaults
  EXPECT_EQ(value(leaf(OpKind::Param, "b", Shape{2})).data, (std::vector<double>{0, 0}));
  EXPECT_EQ(value(leaf(OpKind::State, "bn.running_var", Shape{2})).data, (std::vector<double>{1, 1}));
  EXPECT_EQ(value(leaf(OpKind::State, "bn.running_mean", Shape{2})).data, (std::vector<double>{0, 0}));
  Tensor glorot = value(leaf(OpKind::Param, "w", Shape{20, 30}));  // rank 2: glorot_uniform
  EXPECT_GT(stddev(glorot), 0.1);
}

TEST(TrainInitializers, UniformFamilies) {
  Tensor u = value(leaf(OpKind::Param, "u", Shape{100, 100}, "uniform", {-0.3, 0.7}));
  for (double v : u.data) EXPECT_TRUE(v >= -0.3 - 1e-7 && v < 0.7 + 1e-7);
  EXPECT_NEAR(mean(u), 0.2, 0.01);
  Tensor g = value(leaf(OpKind::Param, "g", Shape{200, 100}, "glorot_uniform"));
  double limit = std::sqrt(6.0 / 300);
  for (double v : g.data) EXPECT_LE(std::fabs(v), limit + 1e-7);
  EXPECT_NEAR(stddev(g), limit / std::sqrt(3.0), 0.005);
  Tensor h = value(leaf(OpKind::Param, "h", Shape{3, 3, 8, 32}, "he_uniform"));
  double hl = std::sqrt(6.0 / 72);
  for (double v : h.data) EXPECT_LE(std::fabs(v), hl + 1e-7);
}

TEST(TrainInitializers, NormalFamilies) {
  Tensor n = value(leaf(OpKind::Param, "n", Shape{200, 200}, "normal", {1.0, 0.5}));
  EXPECT_NEAR(mean(n), 1.0, 0.01);
  EXPECT_NEAR(stddev(n), 0.5, 0.01);
  // Truncated at 2 std of the underlying normal, scaled so the result has the target std.
  Tensor g = value(leaf(OpKind::Param, "g", Shape{300, 100}, "glorot_normal"));
  double target = std::sqrt(2.0 / 400);
  double under = target / .87962566103423978;
  for (double v : g.data) EXPECT_LE(std::fabs(v), 2 * under + 1e-7);
  EXPECT_NEAR(stddev(g), target, 0.03 * target);
  EXPECT_NEAR(mean(g), 0, 0.01 * target * 10);
  Tensor h = value(leaf(OpKind::Param, "h", Shape{3, 3, 16, 64}, "he_normal"));
  double ht = std::sqrt(2.0 / 144);
  EXPECT_NEAR(stddev(h), ht, 0.03 * ht);
}

TEST(TrainInitializers, DeterministicBySeedAndName) {
  Node a = leaf(OpKind::Param, "h1.weight", Shape{4, 5}, "glorot_normal");
  Node b = leaf(OpKind::Param, "h2.weight", Shape{4, 5}, "glorot_normal");
  EXPECT_EQ(value(a, 3).data, value(a, 3).data);
  EXPECT_NE(value(a, 3).data, value(a, 4).data);
  EXPECT_NE(value(a, 3).data, value(b, 3).data);
  // f32 leaves hold f32 values
  for (double v : value(a, 3).data) EXPECT_EQ(v, double(float(v)));
  EXPECT_EQ(fnv1a64(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cull);
}

TEST(TrainInitializers, Errors) {
  EXPECT_FALSE(initialValue(leaf(OpKind::Param, "a", Shape{2}, "xavier"), 0).ok());
  EXPECT_FALSE(initialValue(leaf(OpKind::Param, "a", Shape{2}, "uniform", {1}), 0).ok());
  EXPECT_FALSE(initialValue(leaf(OpKind::Param, "a", Shape{kBatch, 2}, "zeros"), 0).ok());
}

TEST(TrainInitializers, WholeGraph) {
  Graph g;
  NodeId p = g.addLeaf(OpKind::Param, "w", TensorType{DType::F32, Shape{2, 3}});
  NodeId s = g.addLeaf(OpKind::State, "w/adagrad.sum", TensorType{DType::F32, Shape{2, 3}},
                       Attrs{{"init", std::string("constant")}, {"init_args", std::vector<double>{0.1}}});
  g.addLeaf(OpKind::Input, "x", TensorType{DType::F32, Shape{kBatch, 2}});
  Result<LeafValues> v = initialValues(g, 0);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->size(), 2u);
  EXPECT_EQ(v->at(p).shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(v->at(s).data[0], double(0.1f));
}

}  // namespace
}  // namespace nnc
