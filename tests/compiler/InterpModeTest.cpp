// Reference interpreter: dropout (identity at inference), the dropout mask (Philox stream),
// and inference batch normalisation.
#include <gtest/gtest.h>

#include <cmath>

#include "support/Philox.h"
#include "tests/compiler/InterpTestUtil.h"

namespace nnc {
namespace {

using namespace interp_test;

TEST(InterpMode, DropoutIsTheIdentity) {
  Tensor x = tensor({2, 2}, {1, -2, 3, 4});
  EXPECT_TRUE(matches(run(OpKind::Dropout, {x}, {{"rate", 0.5}}), {2, 2}, x.data));
}

TEST(InterpMode, BatchNormUsesRunningStatisticsOverTheLastAxis) {
  Tensor x = tensor({2, 2}, {1, 10, 3, 20});
  Tensor gamma = tensor({2}, {2, 1}), beta = tensor({2}, {0.5, -1});
  Tensor mean = tensor({2}, {2, 10}), var = tensor({2}, {3.75, 99});
  // (x - mean) / sqrt(var + eps) * gamma + beta with eps = 0.25: sqrt(4) = 2 and sqrt(99.25).
  Tensor y = run(OpKind::BatchNorm, {x, gamma, beta, mean, var}, {{"eps", 0.25}, {"momentum", 0.99}});
  double s = std::sqrt(99.25);
  EXPECT_TRUE(matches(y, {2, 2}, {-0.5, -1, 1.5, 10 / s - 1}));
  // Default eps is 1e-3.
  Tensor d = run(OpKind::BatchNorm, {tensor({1}, {2}), tensor({1}, {1}), tensor({1}, {0}), tensor({1}, {1}),
                                     tensor({1}, {0.999})});
  EXPECT_TRUE(matches(d, {1}, {1}));
}

struct MaskGraph {
  Graph g;
  NodeId x, step, mask;
  MaskGraph(double rate, int64_t seed, int64_t salt, int64_t features) {
    x = g.addLeaf(OpKind::Input, "x", {DType::F32, Shape{kBatch, features}});
    step = g.addLeaf(OpKind::Hyper, "step", {DType::F32, Shape{}});
    mask = *g.add(OpKind::DropoutMask, {x, step}, {{"rate", rate}, {"seed", seed}, {"salt", salt}});
  }
  Tensor run(int64_t batch, double stepValue, Precision p = Precision::F64) {
    int64_t features = g.type(x).shape[1];
    LeafValues leaves{{x, Tensor(DType::F32, {batch, features})}, {step, Tensor::scalar(stepValue)}};
    auto r = interpret(g, leaves, {mask}, p);
    if (!r) {
      ADD_FAILURE() << r.error().message;
      return Tensor();
    }
    return (*r)[0];
  }
};

TEST(InterpMode, DropoutMaskFollowsThePhiloxStreamElementByElement) {
  MaskGraph m(0.25, 17, 3, 5);
  Tensor mask = m.run(4, 12);
  ASSERT_EQ(mask.shape, (std::vector<int64_t>{4, 5}));
  for (size_t i = 0; i < mask.data.size(); ++i) {
    bool keep = philoxUniform(17, 3, 12, i) >= 0.25f;
    EXPECT_EQ(mask.data[i], keep ? 1 / 0.75 : 0.0) << i;
  }
}

TEST(InterpMode, DropoutMaskIsDeterministicPerStep) {
  MaskGraph m(0.5, 1, 0, 64);
  Tensor a = m.run(8, 3), b = m.run(8, 3), c = m.run(8, 4);
  EXPECT_EQ(a.data, b.data);
  EXPECT_NE(a.data, c.data);
  // A different salt (another dropout layer) gives another mask.
  MaskGraph other(0.5, 1, 1, 64);
  EXPECT_NE(other.run(8, 3).data, a.data);
  // The step is an f32 that truncates to an integer.
  EXPECT_EQ(m.run(8, 3.75).data, a.data);
}

TEST(InterpMode, DropoutMaskStatistics) {
  for (double rate : {0.1, 0.3, 0.5}) {
    MaskGraph m(rate, 2024, 5, 1000);
    Tensor mask = m.run(100, 0);  // 100,000 draws
    double sum = 0, kept = 0;
    for (double v : mask.data) {
      ASSERT_TRUE(v == 0 || v == 1 / (1 - rate)) << v;
      sum += v;
      kept += v != 0;
    }
    double n = static_cast<double>(mask.data.size());
    EXPECT_NEAR(kept / n, 1 - rate, 0.01) << rate;
    EXPECT_NEAR(sum / n, 1.0, 0.015) << rate;
  }
}

TEST(InterpMode, DropoutMaskWithRateZeroKeepsEverything) {
  MaskGraph m(0.0, 9, 9, 10);
  Tensor mask = m.run(3, 7);
  for (double v : mask.data) EXPECT_EQ(v, 1.0);
}

TEST(InterpMode, DropoutMaskScaleIsRoundedInF32Mode) {
  MaskGraph m(0.3, 4, 2, 50);
  Tensor mask = m.run(2, 1, Precision::F32);
  double scale = static_cast<float>(1 / 0.7);
  for (double v : mask.data) EXPECT_TRUE(v == 0 || v == scale) << v;
}

}  // namespace
}  // namespace nnc
