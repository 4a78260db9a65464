// Reference interpreter: conv2d and its adjoints (hand-computed values and the adjoint
// identities on random data), max and average pooling and their gradients.
#include <gtest/gtest.h>

#include <random>

#include "compiler/ir/ShapeRules.h"
#include "tests/compiler/InterpTestUtil.h"

namespace nnc {
namespace {

using namespace interp_test;

using Ints = std::vector<int64_t>;

Attrs convAttrs(Ints strides, Ints pads) { return Attrs{{"strides", std::move(strides)}, {"pads", std::move(pads)}}; }

Attrs poolAttrs(Ints window, Ints strides, Ints pads) {
  return Attrs{{"window", std::move(window)}, {"strides", std::move(strides)}, {"pads", std::move(pads)}};
}

// An [1, h, w, 1] image holding 1, 2, 3, ... row by row, optionally negated.
Tensor counting(int64_t h, int64_t w, double sign = 1) {
  Tensor t(DType::F32, {1, h, w, 1});
  for (size_t i = 0; i < t.data.size(); ++i) t.data[i] = sign * static_cast<double>(i + 1);
  return t;
}

// A [2, 2, 1, 1] filter [[1, 2], [3, 4]].
Tensor filter1234() { return tensor({2, 2, 1, 1}, {1, 2, 3, 4}); }

TEST(InterpConv, ValidStrideOne) {
  EXPECT_TRUE(matches(run(OpKind::Conv2D, {counting(3, 3), filter1234()}, convAttrs({1, 1}, {0, 0, 0, 0})),
                      {1, 2, 2, 1}, {37, 47, 67, 77}));
}

TEST(InterpConv, ValidStrideTwo) {
  EXPECT_TRUE(matches(run(OpKind::Conv2D, {counting(4, 4), filter1234()}, convAttrs({2, 2}, {0, 0, 0, 0})),
                      {1, 2, 2, 1}, {44, 64, 124, 144}));
  // Unequal strides: rows 2 apart, columns 1 apart.
  EXPECT_TRUE(matches(run(OpKind::Conv2D, {counting(4, 4), filter1234()}, convAttrs({2, 1}, {0, 0, 0, 0})),
                      {1, 2, 3, 1}, {44, 54, 64, 124, 134, 144}));
}

TEST(InterpConv, SamePaddingWithAnOddTotalPadsBottomAndRight) {
  // TensorFlow: 2x2 kernel, stride 1, 3x3 input -> one row/column of padding, after.
  auto [before, after] = samePadding(3, 2, 1);
  ASSERT_EQ(before, 0);
  ASSERT_EQ(after, 1);
  EXPECT_TRUE(matches(run(OpKind::Conv2D, {counting(3, 3), filter1234()}, convAttrs({1, 1}, {0, 0, 1, 1})),
                      {1, 3, 3, 1}, {37, 47, 21, 67, 77, 33, 23, 26, 9}));
}

TEST(InterpConv, SamePaddingOnBothSides) {
  Tensor ones = tensor({3, 3, 1, 1}, std::vector<double>(9, 1.0));
  EXPECT_TRUE(matches(run(OpKind::Conv2D, {counting(3, 3), ones}, convAttrs({1, 1}, {1, 1, 1, 1})), {1, 3, 3, 1},
                      {12, 21, 16, 27, 45, 33, 24, 39, 28}));
  // Stride 2 over 4x4 with a 3x3 kernel: total padding 1, after; windows start at rows 0, 2.
  EXPECT_TRUE(matches(run(OpKind::Conv2D, {counting(4, 4), ones}, convAttrs({2, 2}, {0, 0, 1, 1})), {1, 2, 2, 1},
                      {54, 45, 72, 54}));
}

TEST(InterpConv, ChannelsAndBatch) {
  // Pointwise filter: y[f] = sum_c x[c] * w[c, f].
  Tensor x = tensor({2, 1, 1, 2}, {1, 2, 0, -1});
  Tensor w = tensor({1, 1, 2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_TRUE(matches(run(OpKind::Conv2D, {x, w}, convAttrs({1, 1}, {0, 0, 0, 0})), {2, 1, 1, 3},
                      {9, 12, 15, -4, -5, -6}));
}

TEST(InterpConv, GradInputByHand) {
  Tensor dy = tensor({1, 2, 2, 1}, {1, 1, 1, 1});
  Attrs a = convAttrs({1, 1}, {0, 0, 0, 0});
  a.set("input_hw", Ints{3, 3});
  EXPECT_TRUE(matches(run(OpKind::Conv2DGradInput, {dy, filter1234()}, a), {1, 3, 3, 1}, {1, 3, 2, 4, 10, 6, 3, 7, 4}));
  // Stride 2 over a 5x5 input: the last row and column are never read and get no gradient.
  Attrs s = convAttrs({2, 2}, {0, 0, 0, 0});
  s.set("input_hw", Ints{5, 5});
  Tensor ones = tensor({2, 2, 1, 1}, {1, 1, 1, 1});
  EXPECT_TRUE(matches(run(OpKind::Conv2DGradInput, {dy, ones}, s), {1, 5, 5, 1},
                      {1, 1, 1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0}));
}

TEST(InterpConv, GradFilterByHand) {
  Tensor dy = tensor({1, 2, 2, 1}, {1, 1, 1, 1});
  Attrs a = convAttrs({1, 1}, {0, 0, 0, 0});
  a.set("kernel", Ints{2, 2});
  EXPECT_TRUE(matches(run(OpKind::Conv2DGradFilter, {counting(3, 3), dy}, a), {2, 2, 1, 1}, {12, 16, 24, 28}));
}

// <conv(x, w), dy> == <x, grad_input(dy, w)> == <w, grad_filter(x, dy)>, in f64 on random data,
// for several geometries: the adjoints are exact transposes of the forward loop.
struct ConvCase {
  int64_t n, h, w, c, f, kh, kw, sh, sw;
  Ints pads;
};

double dot(const Tensor& a, const Tensor& b) {
  double s = 0;
  for (size_t i = 0; i < a.data.size(); ++i) s += a.data[i] * b.data[i];
  return s;
}

Tensor randomTensor(std::vector<int64_t> shape, std::mt19937& rng) {
  std::uniform_real_distribution<double> u(-1, 1);
  Tensor t(DType::F32, std::move(shape));
  for (double& v : t.data) v = u(rng);
  return t;
}

TEST(InterpConv, AdjointIdentities) {
  std::vector<ConvCase> cases = {
      {2, 5, 4, 3, 2, 3, 2, 2, 1, {1, 0, 1, 1}},
      {1, 6, 6, 2, 3, 3, 3, 1, 1, {1, 1, 1, 1}},
      {3, 7, 5, 1, 4, 2, 3, 3, 2, {0, 1, 1, 1}},
      {2, 4, 4, 2, 2, 4, 4, 1, 1, {0, 0, 0, 0}},
      {1, 8, 3, 3, 1, 1, 1, 2, 2, {0, 0, 0, 0}},
      {2, 5, 5, 2, 2, 3, 3, 2, 2, {2, 2, 2, 2}},
  };
  std::mt19937 rng(42);
  for (const ConvCase& k : cases) {
    Attrs a = convAttrs({k.sh, k.sw}, k.pads);
    Tensor x = randomTensor({k.n, k.h, k.w, k.c}, rng);
    Tensor w = randomTensor({k.kh, k.kw, k.c, k.f}, rng);
    Tensor y = run(OpKind::Conv2D, {x, w}, a);
    ASSERT_EQ(y.shape.size(), 4u);
    Tensor dy = randomTensor(y.shape, rng);
    Attrs ai = a, af = a;
    ai.set("input_hw", Ints{k.h, k.w});
    af.set("kernel", Ints{k.kh, k.kw});
    Tensor dx = run(OpKind::Conv2DGradInput, {dy, w}, ai);
    Tensor dw = run(OpKind::Conv2DGradFilter, {x, dy}, af);
    ASSERT_EQ(dx.shape, x.shape);
    ASSERT_EQ(dw.shape, w.shape);
    double forward = dot(y, dy);
    EXPECT_NEAR(dot(x, dx), forward, 1e-12 * (1 + std::fabs(forward))) << "case h=" << k.h << " kh=" << k.kh;
    EXPECT_NEAR(dot(w, dw), forward, 1e-12 * (1 + std::fabs(forward))) << "case h=" << k.h << " kh=" << k.kh;
  }
}

TEST(InterpPool, MaxPoolValid) {
  Tensor x = tensor({1, 4, 4, 1}, {1, 3, 2, 4, 5, 0, 6, 1, 7, 2, 9, 8, 3, 4, 1, 0});
  EXPECT_TRUE(matches(run(OpKind::MaxPool, {x}, poolAttrs({2, 2}, {2, 2}, {0, 0, 0, 0})), {1, 2, 2, 1}, {5, 6, 7, 9}));
}

TEST(InterpPool, MaxPoolOverlappingWindows) {
  Tensor x = tensor({1, 3, 3, 1}, {1, 5, 2, 3, 4, 6, 0, 7, 1});
  EXPECT_TRUE(matches(run(OpKind::MaxPool, {x}, poolAttrs({2, 2}, {1, 1}, {0, 0, 0, 0})), {1, 2, 2, 1}, {5, 6, 7, 7}));
}

TEST(InterpPool, MaxPoolIgnoresPaddingCells) {
  // 3x3 negative input, window 2 stride 2, same: one padding row/column after. Were padding
  // cells zeros, the last row and column of windows would give 0.
  EXPECT_TRUE(matches(run(OpKind::MaxPool, {counting(3, 3, -1)}, poolAttrs({2, 2}, {2, 2}, {0, 0, 1, 1})),
                      {1, 2, 2, 1}, {-1, -3, -7, -9}));
  EXPECT_TRUE(matches(run(OpKind::MaxPool, {counting(3, 3)}, poolAttrs({2, 2}, {2, 2}, {0, 0, 1, 1})), {1, 2, 2, 1},
                      {5, 6, 8, 9}));
}

TEST(InterpPool, PoolingIsPerChannelAndPerSample) {
  // Two samples, two channels: channel 0 holds 1..4, channel 1 holds 8..5; sample 2 is negated.
  Tensor x = tensor({2, 2, 2, 2}, {1, 8, 2, 7, 3, 6, 4, 5, -1, -8, -2, -7, -3, -6, -4, -5});
  Attrs a = poolAttrs({2, 2}, {2, 2}, {0, 0, 0, 0});
  EXPECT_TRUE(matches(run(OpKind::MaxPool, {x}, a), {2, 1, 1, 2}, {4, 8, -1, -5}));
  EXPECT_TRUE(matches(run(OpKind::AvgPool, {x}, a), {2, 1, 1, 2}, {2.5, 6.5, -2.5, -6.5}));
}

TEST(InterpPool, MaxPoolGradGoesToTheFirstMaximum) {
  Tensor x = tensor({1, 2, 2, 1}, {3, 3, 1, 3});
  Tensor dy = tensor({1, 1, 1, 1}, {10});
  EXPECT_TRUE(matches(run(OpKind::MaxPoolGrad, {x, dy}, poolAttrs({2, 2}, {2, 2}, {0, 0, 0, 0})), {1, 2, 2, 1},
                      {10, 0, 0, 0}));
}

TEST(InterpPool, MaxPoolGradAccumulatesOverlappingWindows) {
  Tensor x = tensor({1, 3, 3, 1}, {1, 5, 2, 3, 4, 6, 0, 7, 1});
  Tensor dy = tensor({1, 2, 2, 1}, {1, 2, 3, 4});
  EXPECT_TRUE(matches(run(OpKind::MaxPoolGrad, {x, dy}, poolAttrs({2, 2}, {1, 1}, {0, 0, 0, 0})), {1, 3, 3, 1},
                      {0, 1, 0, 0, 0, 2, 0, 7, 0}));
}

TEST(InterpPool, MaxPoolGradWithPadding) {
  Tensor dy = tensor({1, 2, 2, 1}, {1, 2, 3, 4});
  EXPECT_TRUE(matches(run(OpKind::MaxPoolGrad, {counting(3, 3, -1), dy}, poolAttrs({2, 2}, {2, 2}, {0, 0, 1, 1})),
                      {1, 3, 3, 1}, {1, 0, 2, 0, 0, 0, 3, 0, 4}));
}

TEST(InterpPool, AvgPoolCountsOnlyRealCells) {
  // Same padding, odd total: windows at the edge hold 2 or 1 real cells.
  EXPECT_TRUE(matches(run(OpKind::AvgPool, {counting(3, 3)}, poolAttrs({2, 2}, {2, 2}, {0, 0, 1, 1})), {1, 2, 2, 1},
                      {3, 4.5, 7.5, 9}));
  // Padding on every side: corners average 4 cells, edges 6, the centre 9.
  EXPECT_TRUE(matches(run(OpKind::AvgPool, {counting(3, 3)}, poolAttrs({3, 3}, {1, 1}, {1, 1, 1, 1})), {1, 3, 3, 1},
                      {3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7}));
  EXPECT_TRUE(matches(run(OpKind::AvgPool, {counting(3, 3)}, poolAttrs({2, 2}, {1, 1}, {0, 0, 0, 0})), {1, 2, 2, 1},
                      {3, 4, 6, 7}));
}

TEST(InterpPool, AvgPoolGradSpreadsOverRealCells) {
  Attrs a = poolAttrs({2, 2}, {2, 2}, {0, 0, 1, 1});
  a.set("input_hw", Ints{3, 3});
  Tensor dy = tensor({1, 2, 2, 1}, {4, 4, 4, 4});
  EXPECT_TRUE(matches(run(OpKind::AvgPoolGrad, {dy}, a), {1, 3, 3, 1}, {1, 1, 2, 1, 1, 2, 2, 2, 4}));
}

TEST(InterpPool, AvgPoolGradIsTheAdjointOfAvgPool) {
  std::mt19937 rng(7);
  struct Case {
    Ints window, strides, pads;
    int64_t h, w;
  };
  std::vector<Case> cases = {{{2, 2}, {2, 2}, {0, 0, 1, 1}, 5, 5},
                             {{3, 3}, {1, 1}, {1, 1, 1, 1}, 4, 6},
                             {{3, 2}, {2, 1}, {1, 0, 1, 1}, 7, 4}};
  for (const Case& k : cases) {
    Attrs a = poolAttrs(k.window, k.strides, k.pads);
    Tensor x = randomTensor({2, k.h, k.w, 3}, rng);
    Tensor y = run(OpKind::AvgPool, {x}, a);
    Tensor dy = randomTensor(y.shape, rng);
    a.set("input_hw", Ints{k.h, k.w});
    Tensor dx = run(OpKind::AvgPoolGrad, {dy}, a);
    ASSERT_EQ(dx.shape, x.shape);
    double forward = dot(y, dy);
    EXPECT_NEAR(dot(x, dx), forward, 1e-12 * (1 + std::fabs(forward)));
  }
}

}  // namespace
}  // namespace nnc
