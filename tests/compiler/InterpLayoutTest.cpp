// Reference interpreter: reshape, transpose, concat, slice, one_hot and matmul.
#include <gtest/gtest.h>

#include "tests/compiler/InterpTestUtil.h"

namespace nnc {
namespace {

using namespace interp_test;

using Ints = std::vector<int64_t>;

TEST(InterpLayout, ReshapeKeepsRowMajorOrder) {
  EXPECT_TRUE(matches(run(OpKind::Reshape, {tensor({2, 3}, {1, 2, 3, 4, 5, 6})}, {{"shape", Ints{3, 2}}}), {3, 2},
                      {1, 2, 3, 4, 5, 6}));
  EXPECT_TRUE(matches(run(OpKind::Reshape, {tensor({2, 2}, {1, 2, 3, 4})}, {{"shape", Ints{4}}}), {4}, {1, 2, 3, 4}));
}

TEST(InterpLayout, ReshapeWithTheBatchSentinel) {
  Graph g;
  NodeId x = g.addLeaf(OpKind::Input, "x", {DType::F32, Shape{kBatch, 2, 3}});
  NodeId y = *g.add(OpKind::Reshape, {x}, {{"shape", Ints{kBatch, 6}}});
  NodeId z = *g.add(OpKind::Reshape, {y}, {{"shape", Ints{kBatch, 3, 1, 2}}});
  Tensor v = tensor({2, 2, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  auto r = interpret(g, {{x, v}}, {y, z});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(matches((*r)[0], {2, 6}, v.data));
  EXPECT_TRUE(matches((*r)[1], {2, 3, 1, 2}, v.data));
}

TEST(InterpLayout, Transpose) {
  EXPECT_TRUE(matches(run(OpKind::Transpose, {tensor({2, 3}, {1, 2, 3, 4, 5, 6})}, {{"perm", Ints{1, 0}}}), {3, 2},
                      {1, 4, 2, 5, 3, 6}));
  // x[i, j, k] = 100 i + 10 j + k, shape [2, 3, 2] -> perm [0, 2, 1] -> [2, 2, 3]
  Tensor x = tensor({2, 3, 2}, {0, 1, 10, 11, 20, 21, 100, 101, 110, 111, 120, 121});
  EXPECT_TRUE(matches(run(OpKind::Transpose, {x}, {{"perm", Ints{0, 2, 1}}}), {2, 2, 3},
                      {0, 10, 20, 1, 11, 21, 100, 110, 120, 101, 111, 121}));
  // perm [2, 0, 1]: out[k, i, j] = x[i, j, k] -> [2, 2, 3]
  EXPECT_TRUE(matches(run(OpKind::Transpose, {x}, {{"perm", Ints{2, 0, 1}}}), {2, 2, 3},
                      {0, 10, 20, 100, 110, 120, 1, 11, 21, 101, 111, 121}));
}

TEST(InterpLayout, ConcatAlongEachAxis) {
  Tensor a = tensor({2, 2}, {1, 2, 3, 4}), b = tensor({2, 1}, {5, 6}), c = tensor({1, 2}, {7, 8});
  EXPECT_TRUE(matches(run(OpKind::Concat, {a, b}, {{"axis", int64_t(1)}}), {2, 3}, {1, 2, 5, 3, 4, 6}));
  EXPECT_TRUE(matches(run(OpKind::Concat, {a, c}, {{"axis", int64_t(0)}}), {3, 2}, {1, 2, 3, 4, 7, 8}));
  EXPECT_TRUE(matches(run(OpKind::Concat, {b, a, b}, {{"axis", int64_t(-1)}}), {2, 4}, {5, 1, 2, 5, 6, 3, 4, 6}));
  EXPECT_TRUE(matches(run(OpKind::Concat, {ints({1}, {3}), ints({2}, {4, 5})}, {{"axis", int64_t(0)}}), {3}, {3, 4, 5}));
}

TEST(InterpLayout, Slice) {
  Tensor x = tensor({2, 4}, {0, 1, 2, 3, 10, 11, 12, 13});
  EXPECT_TRUE(matches(run(OpKind::Slice, {x}, {{"axis", int64_t(1)}, {"begin", int64_t(1)}, {"end", int64_t(3)}}),
                      {2, 2}, {1, 2, 11, 12}));
  EXPECT_TRUE(matches(run(OpKind::Slice, {x}, {{"axis", int64_t(0)}, {"begin", int64_t(1)}, {"end", int64_t(2)}}),
                      {1, 4}, {10, 11, 12, 13}));
  EXPECT_TRUE(matches(run(OpKind::Slice, {x}, {{"axis", int64_t(-1)}, {"begin", int64_t(3)}, {"end", int64_t(4)}}),
                      {2, 1}, {3, 13}));
}

TEST(InterpLayout, OneHotGivesZeroRowsOutsideTheRange) {
  Tensor labels = ints({5}, {0, 2, 3, -1, 1});
  Tensor y = run(OpKind::OneHot, {labels}, {{"depth", int64_t(3)}});
  EXPECT_EQ(y.dtype, DType::F32);
  EXPECT_TRUE(matches(y, {5, 3}, {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0}));
  EXPECT_TRUE(matches(run(OpKind::OneHot, {ints({2, 1}, {1, 0})}, {{"depth", int64_t(2)}}), {2, 1, 2}, {0, 1, 1, 0}));
}

// a = [[1, 2, 3], [4, 5, 6]], b = [[1, 2], [3, 4], [5, 6]]: a @ b = [[22, 28], [49, 64]].
TEST(InterpMatMul, PlainAndTransposed) {
  Tensor a = tensor({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor b = tensor({3, 2}, {1, 2, 3, 4, 5, 6});
  Tensor aT = tensor({3, 2}, {1, 4, 2, 5, 3, 6});
  Tensor bT = tensor({2, 3}, {1, 3, 5, 2, 4, 6});
  std::vector<double> ab{22, 28, 49, 64};
  EXPECT_TRUE(matches(run(OpKind::MatMul, {a, b}), {2, 2}, ab));
  EXPECT_TRUE(matches(run(OpKind::MatMul, {aT, b}, {{"transpose_a", int64_t(1)}}), {2, 2}, ab));
  EXPECT_TRUE(matches(run(OpKind::MatMul, {a, bT}, {{"transpose_b", int64_t(1)}}), {2, 2}, ab));
  EXPECT_TRUE(matches(run(OpKind::MatMul, {aT, bT}, {{"transpose_a", int64_t(1)}, {"transpose_b", int64_t(1)}}),
                      {2, 2}, ab));
  // b @ a = [[9, 12, 15], [19, 26, 33], [29, 40, 51]]
  EXPECT_TRUE(matches(run(OpKind::MatMul, {b, a}), {3, 3}, {9, 12, 15, 19, 26, 33, 29, 40, 51}));
}

TEST(InterpMatMul, SharedRightOperandAcrossLeadingDims) {
  // Two [1, 2] matrices times one [2, 3].
  Tensor a = tensor({2, 1, 2}, {1, 2, 3, 4});
  Tensor b = tensor({2, 3}, {1, 0, 2, 0, 1, 3});
  EXPECT_TRUE(matches(run(OpKind::MatMul, {a, b}), {2, 1, 3}, {1, 2, 8, 3, 4, 18}));
  // transpose_a on the batched left operand: each [2, 1] read as [1, 2].
  EXPECT_TRUE(matches(run(OpKind::MatMul, {tensor({2, 2, 1}, {1, 2, 3, 4}), b}, {{"transpose_a", int64_t(1)}}),
                      {2, 1, 3}, {1, 2, 8, 3, 4, 18}));
}

TEST(InterpMatMul, BatchedRightOperand) {
  Tensor a = tensor({2, 1, 2}, {1, 2, 3, 4});
  Tensor b = tensor({2, 2, 2}, {1, 0, 0, 1, 2, 1, 1, 2});  // identity, then [[2, 1], [1, 2]]
  EXPECT_TRUE(matches(run(OpKind::MatMul, {a, b}), {2, 1, 2}, {1, 2, 10, 11}));
  // transpose_b: b[1] = [[0, 1], [2, 3]] read as its transpose [[0, 2], [1, 3]].
  Tensor c = tensor({2, 2, 2}, {1, 0, 0, 1, 0, 1, 2, 3});
  EXPECT_TRUE(matches(run(OpKind::MatMul, {a, c}, {{"transpose_b", int64_t(1)}}), {2, 1, 2}, {1, 2, 4, 18}));
}

TEST(InterpMatMul, BatchedInputTimesWeights) {
  Graph g;
  NodeId x = g.addLeaf(OpKind::Input, "x", {DType::F32, Shape{kBatch, 2}});
  NodeId w = g.addLeaf(OpKind::Param, "w", {DType::F32, Shape{2, 1}});
  NodeId y = *g.add(OpKind::MatMul, {x, w});
  LeafValues leaves{{x, tensor({3, 2}, {1, 2, 3, 4, 5, 6})}, {w, tensor({2, 1}, {10, 1})}};
  auto r = interpret(g, leaves, {y});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(matches((*r)[0], {3, 1}, {12, 34, 56}));
}

}  // namespace
}  // namespace nnc
