// Reference interpreter driver: leaf validation, batch handling, constants, lazy evaluation,
// precision modes, and refusing ill-formed graphs with errors instead of crashing.
#include <gtest/gtest.h>

#include <cmath>

#include "tests/compiler/InterpTestUtil.h"

namespace nnc {
namespace {

using namespace interp_test;

// y = relu(x @ w + b) with x: f32[batch, 2], w: f32[2, 3], b: f32[3]; plus a labels input.
struct Dense {
  Graph g;
  NodeId x, labels, w, b, mm, sum, y;
  Dense() {
    x = g.addLeaf(OpKind::Input, "image", {DType::F32, Shape{kBatch, 2}});
    labels = g.addLeaf(OpKind::Input, "label", {DType::I32, Shape{kBatch}});
    w = g.addLeaf(OpKind::Param, "fc.weight", {DType::F32, Shape{2, 3}});
    b = g.addLeaf(OpKind::Param, "fc.bias", {DType::F32, Shape{3}});
    mm = *g.add(OpKind::MatMul, {x, w});
    sum = *g.add(OpKind::Add, {mm, b});
    y = *g.add(OpKind::Relu, {sum});
  }
  LeafValues leaves(int64_t batch) const {
    Tensor xv(DType::F32, {batch, 2});
    for (int64_t i = 0; i < batch; ++i) xv.data[static_cast<size_t>(2 * i)] = static_cast<double>(i + 1);
    return {{x, xv},
            {labels, Tensor(DType::I32, {batch})},
            {w, tensor({2, 3}, {1, -1, 0, 5, 5, 5})},
            {b, tensor({3}, {0, 0.5, -1})}};
  }
};

std::string errorOf(const Result<std::vector<Tensor>>& r) { return r ? std::string("(no error)") : r.error().message; }

TEST(InterpDriver, RunsAtAnyBatchSize) {
  Dense d;
  for (int64_t batch : {1, 3}) {
    auto r = interpret(d.g, d.leaves(batch), {d.y});
    ASSERT_TRUE(r) << r.error().message;
    std::vector<double> expect;
    for (int64_t i = 1; i <= batch; ++i) {
      double v = static_cast<double>(i);
      expect.insert(expect.end(), {v, std::max(0.0, 0.5 - v), 0});
    }
    EXPECT_TRUE(matches((*r)[0], {batch, 3}, expect));
  }
}

TEST(InterpDriver, ReturnsWantedNodesInOrderWithDuplicates) {
  Dense d;
  auto r = interpret(d.g, d.leaves(1), {d.y, d.mm, d.y});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 3u);
  EXPECT_TRUE(matches((*r)[0], {1, 3}, {1, 0, 0}));
  EXPECT_TRUE(matches((*r)[1], {1, 3}, {1, -1, 0}));
  EXPECT_TRUE(matches((*r)[2], {1, 3}, {1, 0, 0}));
  auto none = interpret(d.g, d.leaves(1), {});
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST(InterpDriver, InterpretAllGivesEveryIntermediateValue) {
  Dense d;
  auto r = interpretAll(d.g, d.leaves(1));
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), d.g.size());
  EXPECT_TRUE(matches((*r)[static_cast<size_t>(d.mm)], {1, 3}, {1, -1, 0}));
  EXPECT_TRUE(matches((*r)[static_cast<size_t>(d.sum)], {1, 3}, {1, -0.5, -1}));
  EXPECT_TRUE(matches((*r)[static_cast<size_t>(d.w)], {2, 3}, {1, -1, 0, 5, 5, 5}));
}

TEST(InterpDriver, EvaluatesLazily) {
  Dense d;
  LeafValues leaves = d.leaves(2);
  leaves.erase(d.b);  // not needed for the matmul
  auto r = interpret(d.g, leaves, {d.mm});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(matches((*r)[0], {2, 3}, {1, -1, 0, 2, -2, 0}));
}

TEST(InterpDriver, MissingLeafIsNamed) {
  Dense d;
  LeafValues leaves = d.leaves(2);
  leaves.erase(d.b);
  auto r = interpret(d.g, leaves, {d.y});
  EXPECT_FALSE(r);
  EXPECT_NE(errorOf(r).find("no value was given for param 'fc.bias'"), std::string::npos) << errorOf(r);
}

TEST(InterpDriver, WrongShapeIsReported) {
  Dense d;
  LeafValues leaves = d.leaves(2);
  leaves[d.w] = tensor({3, 2}, {1, 2, 3, 4, 5, 6});
  auto r = interpret(d.g, leaves, {d.y});
  EXPECT_NE(errorOf(r).find("param 'fc.weight' has shape [3, 2] but its type is f32[2, 3]"), std::string::npos)
      << errorOf(r);
  leaves = d.leaves(2);
  leaves[d.b] = tensor({1, 3}, {1, 2, 3});  // wrong rank
  EXPECT_NE(errorOf(interpret(d.g, leaves, {d.y})).find("'fc.bias' has shape [1, 3]"), std::string::npos);
  leaves = d.leaves(2);
  leaves[d.x] = tensor({2, 3}, {1, 2, 3, 4, 5, 6});  // batch right, feature dim wrong
  EXPECT_NE(errorOf(interpret(d.g, leaves, {d.y})).find("input 'image' has shape [2, 3] but its type is f32[batch, 2]"),
            std::string::npos);
}

TEST(InterpDriver, WrongDtypeAndDataSizeAreReported) {
  Dense d;
  LeafValues leaves = d.leaves(2);
  leaves[d.b] = ints({3}, {1, 2, 3});
  EXPECT_NE(errorOf(interpret(d.g, leaves, {d.y})).find("'fc.bias' is i32 but its type is f32[3]"), std::string::npos);
  leaves = d.leaves(2);
  leaves[d.b] = Tensor(DType::F32, {3}, {1, 2});
  EXPECT_NE(errorOf(interpret(d.g, leaves, {d.y})).find("holds 2 numbers but its shape [3] needs 3"), std::string::npos);
  leaves = d.leaves(2);
  leaves[d.labels] = ints({2}, {1, 2.5});
  EXPECT_NE(errorOf(interpret(d.g, leaves, {d.labels})).find("not an i32"), std::string::npos);
}

TEST(InterpDriver, InconsistentBatchNamesBothInputs) {
  Dense d;
  LeafValues leaves = d.leaves(4);
  leaves[d.labels] = Tensor(DType::I32, {3});
  // Even when only the image is needed: every batched input must agree.
  auto r = interpret(d.g, leaves, {d.y});
  EXPECT_FALSE(r);
  EXPECT_NE(errorOf(r).find("inconsistent batch sizes"), std::string::npos) << errorOf(r);
  EXPECT_NE(errorOf(r).find("input 'image' has 4"), std::string::npos) << errorOf(r);
  EXPECT_NE(errorOf(r).find("input 'label' has 3"), std::string::npos) << errorOf(r);
}

TEST(InterpDriver, UnknownBatchSizeIsAnError) {
  Graph g;
  NodeId b = g.addLeaf(OpKind::Param, "b", {DType::F32, Shape{2}});
  NodeId y = *g.add(OpKind::BroadcastTo, {b}, {{"shape", std::vector<int64_t>{kBatch, 2}}});
  auto r = interpret(g, {{b, tensor({2}, {1, 2})}}, {y});
  EXPECT_NE(errorOf(r).find("batch size is unknown"), std::string::npos) << errorOf(r);
}

TEST(InterpDriver, Constants) {
  Graph g;
  NodeId x = g.addLeaf(OpKind::Input, "x", {DType::F32, Shape{kBatch, 2}});
  NodeId fill = g.addLeaf(OpKind::Constant, "", {DType::F32, Shape{kBatch, 2}}, {{"value", 1.5}});
  NodeId list = g.addLeaf(OpKind::Constant, "", {DType::F32, Shape{2, 2}}, {{"values", std::vector<double>{1, 2, 3, 4}}});
  NodeId intList = g.addLeaf(OpKind::Constant, "", {DType::I32, Shape{3}}, {{"values", std::vector<int64_t>{7, -1, 0}}});
  NodeId scalar = g.addScalar(0.25);
  NodeId sum = *g.add(OpKind::Add, {x, fill});
  auto r = interpret(g, {{x, tensor({3, 2}, {0, 1, 2, 3, 4, 5})}}, {fill, list, intList, scalar, sum});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(matches((*r)[0], {3, 2}, std::vector<double>(6, 1.5)));
  EXPECT_TRUE(matches((*r)[1], {2, 2}, {1, 2, 3, 4}));
  EXPECT_EQ((*r)[2].dtype, DType::I32);
  EXPECT_TRUE(matches((*r)[2], {3}, {7, -1, 0}));
  EXPECT_TRUE(matches((*r)[3], {}, {0.25}));
  EXPECT_TRUE(matches((*r)[4], {3, 2}, {1.5, 2.5, 3.5, 4.5, 5.5, 6.5}));
}

TEST(InterpDriver, ConstantWithTheWrongNumberOfValuesIsAnError) {
  Graph g;
  NodeId c = g.addLeaf(OpKind::Constant, "", {DType::F32, Shape{2, 2}}, {{"values", std::vector<double>{1, 2, 3}}});
  NodeId none = g.addLeaf(OpKind::Constant, "", {DType::F32, Shape{2}});
  EXPECT_NE(errorOf(interpret(g, {}, {c})).find("lists 3 values for its shape [2, 2] of 4 elements"), std::string::npos);
  EXPECT_NE(errorOf(interpret(g, {}, {none})).find("neither a 'value' nor a 'values'"), std::string::npos);
}

TEST(InterpDriver, F32ModeRoundsLeavesAndEveryResult) {
  Graph g;
  NodeId x = g.addLeaf(OpKind::Param, "x", {DType::F32, Shape{2}});
  NodeId big = g.addScalar(1e8);
  NodeId e = *g.add(OpKind::Exp, {x});
  NodeId s = *g.add(OpKind::Add, {x, big});
  NodeId back = *g.add(OpKind::Sub, {s, big});
  LeafValues leaves{{x, tensor({2}, {1.0 / 3, 1})}};
  auto r64 = interpret(g, leaves, {x, e, back}, Precision::F64);
  auto r32 = interpret(g, leaves, {x, e, back}, Precision::F32);
  ASSERT_TRUE(r64 && r32);
  double third32 = static_cast<float>(1.0 / 3);
  EXPECT_EQ((*r64)[0].data[0], 1.0 / 3);
  EXPECT_EQ((*r32)[0].data[0], third32);  // rounded on entry
  EXPECT_EQ((*r64)[1].data[1], std::exp(1.0));
  EXPECT_EQ((*r32)[1].data[1], static_cast<double>(static_cast<float>(std::exp(1.0))));
  // 1e8 + 1/3 has no float representation closer than a multiple of 8: the third is lost.
  EXPECT_NEAR((*r64)[2].data[0], 1.0 / 3, 1e-8);
  EXPECT_EQ((*r32)[2].data[0], 0.0);
  EXPECT_EQ((*r32)[2].data[1], 0.0);  // 1e8 + 1 rounds back to 1e8 in float
}

TEST(InterpDriver, BadWantedIdIsAnError) {
  Dense d;
  EXPECT_NE(errorOf(interpret(d.g, d.leaves(1), {static_cast<NodeId>(d.g.size())})).find("is not in the graph"),
            std::string::npos);
  EXPECT_NE(errorOf(interpret(d.g, d.leaves(1), {-1})).find("is not in the graph"), std::string::npos);
}

TEST(InterpDriver, IllTypedGraphsAreRefusedNotExecuted) {
  Graph g;
  NodeId a = g.addLeaf(OpKind::Param, "a", {DType::F32, Shape{2, 3}});
  NodeId b = g.addLeaf(OpKind::Param, "b", {DType::F32, Shape{4, 5}});
  // A matmul whose operands do not fit, built past the shape rule.
  NodeId bad = g.addWithType(OpKind::MatMul, {a, b}, {}, {DType::F32, Shape{2, 5}});
  // A node claiming a type its rule does not give.
  NodeId lie = g.addWithType(OpKind::Relu, {a}, {}, {DType::F32, Shape{3, 3}});
  // An operand that does not precede its user.
  NodeId loop = g.addWithType(OpKind::Neg, {5}, {}, {DType::F32, Shape{2, 3}});
  LeafValues leaves{{a, Tensor(DType::F32, {2, 3})}, {b, Tensor(DType::F32, {4, 5})}};
  EXPECT_NE(errorOf(interpret(g, leaves, {bad})).find("ill-typed"), std::string::npos);
  EXPECT_NE(errorOf(interpret(g, leaves, {lie})).find("but its shape rule gives f32[2, 3]"), std::string::npos);
  EXPECT_NE(errorOf(interpret(g, leaves, {loop})).find("does not precede it"), std::string::npos);
}

}  // namespace
}  // namespace nnc
