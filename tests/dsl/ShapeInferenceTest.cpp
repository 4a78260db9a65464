// Shape inference through the front end: broadcasting, `same` / `valid` window arithmetic
// (TensorFlow's rule: ceil(in / stride) outputs, the odd padding cell at the bottom/right),
// and the helpers of the IR it relies on.
#include <gtest/gtest.h>

#include "compiler/ir/ShapeRules.h"
#include "tests/dsl/SemaTestHelpers.h"

namespace nnc::testing {
namespace {

const Node* firstOp(const Model& m, OpKind op) {
  for (const Node& n : m.graph.nodes())
    if (n.op == op) return &n;
  return nullptr;
}

TEST(ShapeInference, Broadcasting) {
  struct Case {
    const char* a;
    const char* b;
    Shape out;
  };
  const Case cases[] = {
      {"f32[batch, 10]", "f32[10]", Shape{kBatch, 10}},
      {"f32[batch, 1]", "f32[7]", Shape{kBatch, 7}},
      {"f32[batch, 4, 1]", "f32[1, 5]", Shape{kBatch, 4, 5}},
      {"f32[3, 1]", "f32[1, 4]", Shape{3, 4}},
      {"f32[batch, 2, 3]", "f32[batch, 1, 3]", Shape{kBatch, 2, 3}},
      {"f32[batch, 6]", "f32[1]", Shape{kBatch, 6}},
  };
  for (const Case& c : cases) {
    Model m = compileOk(std::string("model t\ninput a: ") + c.a + "\ninput b: " + c.b + "\nr = a * b\n");
    EXPECT_EQ(typeOf(m, "r").shape, c.out) << c.a << " * " << c.b;
  }
}

TEST(ShapeInference, BroadcastingErrors) {
  EXPECT_EQ(errorMessages("model t\ninput a: f32[batch, 3]\ninput b: f32[4]\nr = a - b\n"),
            "operands of '-' cannot be broadcast together: f32[batch, 3] and f32[4]\n");
  // batch only broadcasts against itself or 1, and stays first.
  EXPECT_EQ(errorMessages("model t\ninput a: f32[batch]\ninput b: f32[batch, 1]\nr = a + b\n"),
            "operands of '+' cannot be broadcast together: f32[batch] and f32[batch, 1] (batch would not stay the "
            "first dimension)\n");
}

TEST(ShapeInference, SamePaddingStride2Halves) {
  Model m = compileOk("model t\ninput x: f32[batch, 28, 28, 1]\nc = conv2d(x, 4, kernel = 3, stride = 2)\n");
  EXPECT_EQ(typeOf(m, "c").shape, (Shape{kBatch, 14, 14, 4}));
  // total padding (14 - 1) * 2 + 3 - 28 = 1: the odd cell goes bottom / right.
  EXPECT_EQ(firstOp(m, OpKind::Conv2D)->attrs.getInts("pads"), (std::vector<int64_t>{0, 0, 1, 1}));
}

TEST(ShapeInference, ValidPadding5x5On28Gives24) {
  Model m = compileOk("model t\ninput x: f32[batch, 28, 28, 1]\nc = conv2d(x, 4, kernel = 5, padding = valid)\n");
  EXPECT_EQ(typeOf(m, "c").shape, (Shape{kBatch, 24, 24, 4}));
  EXPECT_EQ(firstOp(m, OpKind::Conv2D)->attrs.getInts("pads"), (std::vector<int64_t>{0, 0, 0, 0}));
}

TEST(ShapeInference, SamePaddingOddTotalGoesBottomRight) {
  // kernel [2, 4] stride 1 on 7x7: totals 1 and 3 -> top 0 bottom 1, left 1 right 2.
  Model m = compileOk("model t\ninput x: f32[batch, 7, 7, 2]\nc = conv2d(x, 1, kernel = [2, 4])\n");
  EXPECT_EQ(typeOf(m, "c").shape, (Shape{kBatch, 7, 7, 1}));
  EXPECT_EQ(firstOp(m, OpKind::Conv2D)->attrs.getInts("pads"), (std::vector<int64_t>{0, 1, 1, 2}));
}

TEST(ShapeInference, PoolingWindows) {
  Model m = compileOk(
      "model t\ninput x: f32[batch, 9, 9, 2]\n"
      "a = maxpool(x, 2)\nb = maxpool(x, 2, padding = same)\nc = avgpool(x, 3, stride = 1)\n");
  EXPECT_EQ(typeOf(m, "a").shape, (Shape{kBatch, 4, 4, 2}));  // floor((9 - 2) / 2) + 1
  EXPECT_EQ(typeOf(m, "b").shape, (Shape{kBatch, 5, 5, 2}));  // ceil(9 / 2)
  EXPECT_EQ(typeOf(m, "c").shape, (Shape{kBatch, 7, 7, 2}));
  const Node* pool = firstOp(m, OpKind::MaxPool);
  EXPECT_EQ(pool->attrs.getInts("window"), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(pool->attrs.getInts("strides"), (std::vector<int64_t>{2, 2}));
}

TEST(ShapeInference, SamePaddingHelper) {
  EXPECT_EQ(samePadding(28, 3, 2), (std::pair<int64_t, int64_t>{0, 1}));
  EXPECT_EQ(samePadding(28, 5, 1), (std::pair<int64_t, int64_t>{2, 2}));
  EXPECT_EQ(samePadding(7, 4, 1), (std::pair<int64_t, int64_t>{1, 2}));
  EXPECT_EQ(windowOutput(28, 5, 1, 0, 0), 24);
}

TEST(ShapeInference, ReshapeInfersMinusOne) {
  Model m = compileOk("model t\ninput x: f32[batch, 28, 28]\nr = reshape(x, [-1, 7, 4])\n");
  EXPECT_EQ(typeOf(m, "r").shape, (Shape{kBatch, 28, 7, 4}));
}

TEST(ShapeInference, FlattenKeepsTheFirstAxis) {
  Model m = compileOk("model t\ninput x: f32[batch, 7, 7, 64]\nf = flatten(x)\n");
  EXPECT_EQ(typeOf(m, "f").shape, (Shape{kBatch, 3136}));
}

TEST(ShapeInference, MatmulRankOneRules) {
  Model m = compileOk(
      "model t\ninput a: f32[5]\ninput w: f32[5, 3]\ninput z: f32[3]\n"
      "r1 = a @ w\nr2 = w @ z\nr3 = z @ z\n");
  EXPECT_EQ(typeOf(m, "r1").shape, (Shape{3}));
  EXPECT_EQ(typeOf(m, "r2").shape, (Shape{5}));
  EXPECT_EQ(typeOf(m, "r3").shape, (Shape{}));
}

}  // namespace
}  // namespace nnc::testing
