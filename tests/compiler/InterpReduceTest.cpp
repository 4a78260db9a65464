// Reference interpreter: reductions, argmax, element_count, softmax and log_softmax.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "compiler/ir/ShapeRules.h"
#include "tests/compiler/InterpTestUtil.h"

namespace nnc {
namespace {

using namespace interp_test;

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

Attrs axes(std::vector<int64_t> a, bool keepdims = false) {
  return Attrs{{"axes", std::move(a)}, {"keepdims", int64_t(keepdims)}};
}

// [[1, 2, 3], [4, 5, 6]]
Tensor m23() { return tensor({2, 3}, {1, 2, 3, 4, 5, 6}); }

TEST(InterpReduce, SumOverEachAxis) {
  EXPECT_TRUE(matches(run(OpKind::ReduceSum, {m23()}, axes({0})), {3}, {5, 7, 9}));
  EXPECT_TRUE(matches(run(OpKind::ReduceSum, {m23()}, axes({1})), {2}, {6, 15}));
  EXPECT_TRUE(matches(run(OpKind::ReduceSum, {m23()}, axes({0, 1})), {}, {21}));
  EXPECT_TRUE(matches(run(OpKind::ReduceSum, {m23()}, axes({-1})), {2}, {6, 15}));
}

TEST(InterpReduce, KeepdimsKeepsSizeOneAxes) {
  EXPECT_TRUE(matches(run(OpKind::ReduceSum, {m23()}, axes({0}, true)), {1, 3}, {5, 7, 9}));
  EXPECT_TRUE(matches(run(OpKind::ReduceSum, {m23()}, axes({1}, true)), {2, 1}, {6, 15}));
  EXPECT_TRUE(matches(run(OpKind::ReduceSum, {m23()}, axes({0, 1}, true)), {1, 1}, {21}));
}

// As the shape rule says: an empty axes list reduces nothing (the front end lists every axis
// of `sum(x)` explicitly).
TEST(InterpReduce, EmptyAxesReduceNothing) {
  EXPECT_TRUE(matches(run(OpKind::ReduceSum, {m23()}, axes({})), {2, 3}, m23().data));
  EXPECT_TRUE(matches(run(OpKind::ReduceMean, {m23()}, axes({}, true)), {2, 3}, m23().data));
  EXPECT_TRUE(matches(run(OpKind::ReduceMax, {m23()}, axes({})), {2, 3}, m23().data));
  // A missing list is not an empty one: `axes` is required (compiler/ir/TypedAttrs.h).
  Result<TensorType> missing = inferType(OpKind::ReduceMax, {TensorType{DType::F32, Shape{2, 3}}}, Attrs{});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "reduce_max: lacks the required attribute 'axes'");
  EXPECT_TRUE(matches(run(OpKind::ReduceSum, {tensor({}, {4})}, axes({})), {}, {4}));
}

TEST(InterpReduce, NonAdjacentAxesOfRankThree) {
  // x[i, j, k] = 100 i + 10 j + k, shape [2, 2, 3]; reduce axes 0 and 2.
  Tensor x = tensor({2, 2, 3}, {0, 1, 2, 10, 11, 12, 100, 101, 102, 110, 111, 112});
  EXPECT_TRUE(matches(run(OpKind::ReduceSum, {x}, axes({0, 2})), {2}, {306, 366}));
  EXPECT_TRUE(matches(run(OpKind::ReduceSum, {x}, axes({0, 2}, true)), {1, 2, 1}, {306, 366}));
  EXPECT_TRUE(matches(run(OpKind::ReduceMean, {x}, axes({1})), {2, 3}, {5, 6, 7, 105, 106, 107}));
  EXPECT_TRUE(matches(run(OpKind::ReduceMax, {x}, axes({0, 1})), {3}, {110, 111, 112}));
}

TEST(InterpReduce, MeanAndMax) {
  EXPECT_TRUE(matches(run(OpKind::ReduceMean, {m23()}, axes({0})), {3}, {2.5, 3.5, 4.5}));
  EXPECT_TRUE(matches(run(OpKind::ReduceMean, {m23()}, axes({1}, true)), {2, 1}, {2, 5}));
  Tensor x = tensor({2, 3}, {-5, -1, -3, 2, 9, -kInf});
  EXPECT_TRUE(matches(run(OpKind::ReduceMax, {x}, axes({1})), {2}, {-1, 9}));
  EXPECT_TRUE(matches(run(OpKind::ReduceMax, {x}, axes({0}, true)), {1, 3}, {2, 9, -3}));
  EXPECT_TRUE(matches(run(OpKind::ReduceMax, {tensor({3}, {1, kNaN, 2})}, axes({0})), {}, {kNaN}));
}

TEST(InterpReduce, IntegerSumAndMax) {
  Tensor x = ints({2, 2}, {2147483647.0, 1, -4, 3});
  Tensor s = run(OpKind::ReduceSum, {x}, axes({1}));
  EXPECT_EQ(s.dtype, DType::I32);
  EXPECT_TRUE(matches(s, {2}, {-2147483648.0, -1}));  // wraps
  EXPECT_TRUE(matches(run(OpKind::ReduceMax, {x}, axes({0})), {2}, {2147483647.0, 3}));
}

TEST(InterpReduce, ArgMaxTakesTheFirstMaximum) {
  Tensor x = tensor({2, 4}, {1, 7, 7, 3, 5, 5, 5, 5});
  Tensor a = run(OpKind::ArgMax, {x}, {{"axis", int64_t(-1)}});
  EXPECT_EQ(a.dtype, DType::I32);
  EXPECT_TRUE(matches(a, {2}, {1, 0}));
  EXPECT_TRUE(matches(run(OpKind::ArgMax, {x}, {{"axis", int64_t(0)}}), {4}, {1, 0, 0, 1}));
  // Rank 3, middle axis.
  Tensor y = tensor({2, 3, 2}, {0, 9, 4, 1, 4, 9, 8, 0, 8, 3, 1, 3});
  EXPECT_TRUE(matches(run(OpKind::ArgMax, {y}, {{"axis", int64_t(1)}}), {2, 2}, {1, 0, 0, 1}));
  // NaN counts as the maximum (torch.argmax).
  EXPECT_TRUE(matches(run(OpKind::ArgMax, {tensor({4}, {1, kNaN, 5, kNaN})}, {{"axis", int64_t(0)}}), {}, {1}));
}

TEST(InterpReduce, ElementCountUsesTheConcreteBatch) {
  Graph g;
  NodeId x = g.addLeaf(OpKind::Input, "x", {DType::F32, Shape{kBatch, 3, 5}});
  NodeId all = *g.add(OpKind::ElementCount, {x}, axes({0, 1, 2}));
  NodeId batchOnly = *g.add(OpKind::ElementCount, {x}, axes({0}));
  NodeId inner = *g.add(OpKind::ElementCount, {x}, axes({-1}));
  NodeId empty = *g.add(OpKind::ElementCount, {x}, axes({}));
  LeafValues leaves{{x, Tensor(DType::F32, {4, 3, 5})}};
  auto r = interpret(g, leaves, {all, batchOnly, inner, empty});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(matches((*r)[0], {}, {60}));
  EXPECT_TRUE(matches((*r)[1], {}, {4}));
  EXPECT_TRUE(matches((*r)[2], {}, {5}));
  EXPECT_TRUE(matches((*r)[3], {}, {1}));  // no axes: the empty product
}

TEST(InterpReduce, SoftmaxAlongTheLastAxis) {
  Tensor x = tensor({2, 3}, {0, 0, 0, 1, 2, 3});
  double e = M_E, z = 1 + e + e * e;
  EXPECT_TRUE(matches(run(OpKind::Softmax, {x}, {{"axis", int64_t(-1)}}), {2, 3},
                      {1.0 / 3, 1.0 / 3, 1.0 / 3, 1 / z, e / z, e * e / z}));
  EXPECT_TRUE(matches(run(OpKind::LogSoftmax, {x}, {{"axis", int64_t(1)}}), {2, 3},
                      {-std::log(3.0), -std::log(3.0), -std::log(3.0), -std::log(z), 1 - std::log(z),
                       2 - std::log(z)}));
}

TEST(InterpReduce, SoftmaxAlongTheFirstAxis) {
  Tensor x = tensor({2, 2}, {0, 5, 0, 5});
  EXPECT_TRUE(matches(run(OpKind::Softmax, {x}, {{"axis", int64_t(0)}}), {2, 2}, {0.5, 0.5, 0.5, 0.5}));
  Tensor y = tensor({2, 1}, {std::log(3.0), 0});
  EXPECT_TRUE(matches(run(OpKind::Softmax, {y}, {{"axis", int64_t(0)}}), {2, 1}, {0.75, 0.25}));
}

TEST(InterpReduce, SoftmaxIsStableForHugeLogits) {
  Tensor x = tensor({3}, {1000, 1001, -1000});
  double z = 1 + M_E;
  EXPECT_TRUE(matches(run(OpKind::Softmax, {x}, {{"axis", int64_t(0)}}), {3}, {1 / z, M_E / z, 0}));
  Tensor ls = run(OpKind::LogSoftmax, {x}, {{"axis", int64_t(0)}});
  EXPECT_TRUE(matches(ls, {3}, {-1 - std::log1p(std::exp(-1.0)), -std::log1p(std::exp(-1.0)), -2001 - std::log1p(std::exp(-1.0))}));
}

}  // namespace
}  // namespace nnc
