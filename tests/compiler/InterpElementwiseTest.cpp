// Reference interpreter: elementwise ops, casts, broadcasting binary ops, select, broadcast_to.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "tests/compiler/InterpTestUtil.h"

namespace nnc {
namespace {

using namespace interp_test;

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

Tensor unary(OpKind op, std::vector<double> xs, const Attrs& attrs = {}) {
  int64_t n = static_cast<int64_t>(xs.size());
  return run(op, {tensor({n}, std::move(xs))}, attrs);
}

TEST(InterpElementwise, SimpleMath) {
  EXPECT_TRUE(matches(unary(OpKind::Neg, {1, -2, 0}), {3}, {-1, 2, 0}));
  EXPECT_TRUE(matches(unary(OpKind::Exp, {0, 1, -kInf}), {3}, {1, M_E, 0}));
  EXPECT_TRUE(matches(unary(OpKind::Log, {1, M_E, 0, -1}), {4}, {0, 1, -kInf, kNaN}));
  EXPECT_TRUE(matches(unary(OpKind::Sqrt, {4, 2, 0}), {3}, {2, M_SQRT2, 0}));
  EXPECT_TRUE(matches(unary(OpKind::Abs, {-3, 3, -0.5}), {3}, {3, 3, 0.5}));
  EXPECT_TRUE(matches(unary(OpKind::Square, {-3, 0.5}), {2}, {9, 0.25}));
  EXPECT_TRUE(matches(unary(OpKind::Erf, {0, 0.5, -0.5}), {3}, {0, 0.5204998778130465, -0.5204998778130465}));
  EXPECT_TRUE(matches(unary(OpKind::Tanh, {0, 0.5}), {2}, {0, 0.46211715726000974}));
}

TEST(InterpElementwise, LayerActivations) {  // values from PyTorch 1.13 (float64)
  EXPECT_TRUE(matches(unary(OpKind::Relu6, {-1, 3, 7, kNaN}), {4}, {0, 3, 6, kNaN}));
  EXPECT_TRUE(matches(unary(OpKind::Silu, {-1, 2}), {2}, {-0.2689414213699951, 1.7615941559557646}));
  EXPECT_TRUE(matches(unary(OpKind::HardSigmoid, {-4, -1.5, 0, 3}), {4}, {0, 0.25, 0.5, 1}));
  EXPECT_TRUE(matches(unary(OpKind::HardSwish, {-4, -1.5, 1, 4}), {4}, {0, -0.375, 0.6666666666666666, 4}));
  EXPECT_TRUE(matches(unary(OpKind::Softsign, {-3, 1}), {2}, {-0.75, 0.5}));
  EXPECT_TRUE(matches(unary(OpKind::Mish, {-1, 2}), {2}, {-0.30340146137410895, 1.9439589595339946}));
}

TEST(InterpElementwise, TrigonometryAndRounding) {
  EXPECT_TRUE(matches(unary(OpKind::Sin, {0, M_PI / 2}), {2}, {0, 1}));
  EXPECT_TRUE(matches(unary(OpKind::Cos, {0, M_PI}), {2}, {1, -1}));
  EXPECT_TRUE(matches(unary(OpKind::Floor, {-1.5, 1.5}), {2}, {-2, 1}));
  EXPECT_TRUE(matches(unary(OpKind::Ceil, {-1.5, 1.5}), {2}, {-1, 2}));
  EXPECT_TRUE(matches(unary(OpKind::Round, {0.5, 1.5, 2.5, -0.5, -2.5, 2.6}), {6}, {0, 2, 2, -0, -2, 3}));
}

TEST(InterpElementwise, SignOfZeroIsZeroAndNaNPropagates) {
  EXPECT_TRUE(matches(unary(OpKind::Sign, {-2.5, 0, 7, kNaN}), {4}, {-1, 0, 1, kNaN}));
}

TEST(InterpElementwise, ReluFamily) {
  EXPECT_TRUE(matches(unary(OpKind::Relu, {-1, 0, 2, kNaN}), {4}, {0, 0, 2, kNaN}));
  EXPECT_TRUE(matches(unary(OpKind::LeakyRelu, {-2, 3}, {{"alpha", 0.2}}), {2}, {-0.4, 3}));
  EXPECT_TRUE(matches(unary(OpKind::LeakyRelu, {-2, 3}), {2}, {-0.02, 3}));  // default alpha 0.01
  EXPECT_TRUE(matches(unary(OpKind::Elu, {-1, 2}, {{"alpha", 0.5}}), {2}, {-0.31606027941427883, 2}));
  EXPECT_TRUE(matches(unary(OpKind::Elu, {-kInf, 0}, {{"alpha", 1.0}}), {2}, {-1, 0}));
  EXPECT_TRUE(matches(unary(OpKind::Selu, {-1, 2, 0}), {3}, {-1.1113307378125625, 2 * 1.0507009873554805, 0}));
}

TEST(InterpElementwise, GeluIsExactAndAccurateInTheTail) {
  // 0.5 * x * (1 + erf(x / sqrt 2)); at -10 the naive 1 + erf form would give exactly 0.
  EXPECT_TRUE(matches(unary(OpKind::Gelu, {0, 1, -1, -10}), {4},
                      {0, 0.8413447460685429, -0.15865525393145707, -7.619853024160593e-23}));
  EXPECT_NE(unary(OpKind::Gelu, {-10}).data[0], 0.0);
}

TEST(InterpElementwise, SigmoidAndSoftplusAreStableForLargeInputs) {
  Tensor s = unary(OpKind::Sigmoid, {0, 2, -30, 800, -800});
  EXPECT_TRUE(matches(s, {5}, {0.5, 0.8807970779778823, 9.3576229688393e-14, 1, 0}));
  Tensor sp = unary(OpKind::Softplus, {0, 1, 1000, -30, -1000});
  EXPECT_TRUE(matches(sp, {5}, {M_LN2, 1.3132616875182228, 1000, 9.357622968839737e-14, 0}));
}

TEST(InterpElementwise, IntegerUnaryOpsWrapLikeTwosComplement) {
  Tensor x = ints({4}, {-2147483648.0, -5, 65536, 3});
  EXPECT_TRUE(matches(run(OpKind::Neg, {x}), {4}, {-2147483648.0, 5, -65536, -3}));
  EXPECT_TRUE(matches(run(OpKind::Abs, {x}), {4}, {-2147483648.0, 5, 65536, 3}));
  EXPECT_TRUE(matches(run(OpKind::Square, {x}), {4}, {0, 25, 0, 9}));  // 2^62 and 2^32 wrap to 0
  EXPECT_TRUE(matches(run(OpKind::Sign, {x}), {4}, {-1, -1, 1, 1}));
  EXPECT_EQ(run(OpKind::Neg, {x}).dtype, DType::I32);
}

TEST(InterpElementwise, CastTruncatesTowardZeroAndSaturates) {
  Tensor x = tensor({7}, {2.7, -2.7, 0.5, kNaN, 1e10, -1e10, -0.0});
  Tensor y = run(OpKind::Cast, {x}, {{"dtype", std::string("i32")}});
  EXPECT_EQ(y.dtype, DType::I32);
  EXPECT_TRUE(matches(y, {7}, {2, -2, 0, 0, 2147483647.0, -2147483648.0, 0}));
  Tensor back = run(OpKind::Cast, {ints({2}, {-3, 16777217})}, {{"dtype", std::string("f32")}});
  EXPECT_EQ(back.dtype, DType::F32);
  EXPECT_TRUE(matches(back, {2}, {-3, 16777217}));  // exact in f64 mode
  Tensor back32 =
      run(OpKind::Cast, {ints({2}, {-3, 16777217})}, {{"dtype", std::string("f32")}}, Precision::F32);
  EXPECT_TRUE(matches(back32, {2}, {-3, 16777216}));  // 2^24 + 1 is not a float
}

TEST(InterpElementwise, BinaryOpsOnEqualShapes) {
  Tensor a = tensor({4}, {1, -2, 3, 0}), b = tensor({4}, {2, 4, -1, 0});
  EXPECT_TRUE(matches(run(OpKind::Add, {a, b}), {4}, {3, 2, 2, 0}));
  EXPECT_TRUE(matches(run(OpKind::Sub, {a, b}), {4}, {-1, -6, 4, 0}));
  EXPECT_TRUE(matches(run(OpKind::Mul, {a, b}), {4}, {2, -8, -3, 0}));
  EXPECT_TRUE(matches(run(OpKind::Div, {a, b}), {4}, {0.5, -0.5, -3, kNaN}));
  EXPECT_TRUE(matches(run(OpKind::Pow, {tensor({3}, {2, 9, 0}), tensor({3}, {3, 0.5, 0})}), {3}, {8, 3, 1}));
  EXPECT_TRUE(matches(run(OpKind::Maximum, {a, b}), {4}, {2, 4, 3, 0}));
  EXPECT_TRUE(matches(run(OpKind::Minimum, {a, b}), {4}, {1, -2, -1, 0}));
  EXPECT_TRUE(matches(run(OpKind::Greater, {a, b}), {4}, {0, 0, 1, 0}));
  EXPECT_TRUE(matches(run(OpKind::GreaterEqual, {a, b}), {4}, {0, 0, 1, 1}));
  EXPECT_TRUE(matches(run(OpKind::Equal, {a, b}), {4}, {0, 0, 0, 1}));
}

TEST(InterpElementwise, DivisionByZeroFollowsIEEE) {
  Tensor y = run(OpKind::Div, {tensor({3}, {1, -1, 0}), tensor({1}, {0})});
  EXPECT_TRUE(matches(y, {3}, {kInf, -kInf, kNaN}));
}

TEST(InterpElementwise, NaNHandlingOfMaxMinAndComparisons) {
  Tensor a = tensor({2}, {kNaN, 1}), b = tensor({2}, {1, kNaN});
  EXPECT_TRUE(matches(run(OpKind::Maximum, {a, b}), {2}, {kNaN, kNaN}));
  EXPECT_TRUE(matches(run(OpKind::Minimum, {a, b}), {2}, {kNaN, kNaN}));
  EXPECT_TRUE(matches(run(OpKind::Greater, {a, b}), {2}, {0, 0}));
  EXPECT_TRUE(matches(run(OpKind::Equal, {a, a}), {2}, {0, 1}));
}

TEST(InterpElementwise, BroadcastingInEitherOperandPosition) {
  Tensor m = tensor({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor row = tensor({3}, {10, 20, 30});
  Tensor col = tensor({2, 1}, {100, 200});
  Tensor scalar = tensor({}, {2});
  EXPECT_TRUE(matches(run(OpKind::Sub, {m, row}), {2, 3}, {-9, -18, -27, -6, -15, -24}));
  EXPECT_TRUE(matches(run(OpKind::Sub, {row, m}), {2, 3}, {9, 18, 27, 6, 15, 24}));
  EXPECT_TRUE(matches(run(OpKind::Sub, {m, col}), {2, 3}, {-99, -98, -97, -196, -195, -194}));
  EXPECT_TRUE(matches(run(OpKind::Sub, {col, m}), {2, 3}, {99, 98, 97, 196, 195, 194}));
  EXPECT_TRUE(matches(run(OpKind::Div, {m, scalar}), {2, 3}, {0.5, 1, 1.5, 2, 2.5, 3}));
  EXPECT_TRUE(matches(run(OpKind::Div, {scalar, m}), {2, 3}, {2, 1, 2.0 / 3, 0.5, 0.4, 2.0 / 6}));
  // Both operands broadcast: [2, 1] against [3] gives [2, 3].
  EXPECT_TRUE(matches(run(OpKind::Add, {col, row}), {2, 3}, {110, 120, 130, 210, 220, 230}));
  // Rank 3 against a middle size-1 axis.
  Tensor t = tensor({2, 1, 2}, {1, 2, 3, 4});
  Tensor u = tensor({3, 1}, {10, 20, 30});
  EXPECT_TRUE(matches(run(OpKind::Mul, {t, u}), {2, 3, 2}, {10, 20, 20, 40, 30, 60, 30, 40, 60, 80, 90, 120}));
}

TEST(InterpElementwise, IntegerArithmeticWraps) {
  Tensor a = ints({3}, {2147483647.0, -2147483648.0, 65536}), b = ints({3}, {1, 1, 65536});
  EXPECT_TRUE(matches(run(OpKind::Add, {a, b}), {3}, {-2147483648.0, -2147483647.0, 131072}));
  EXPECT_TRUE(matches(run(OpKind::Sub, {a, b}), {3}, {2147483646.0, 2147483647.0, 0}));
  EXPECT_TRUE(matches(run(OpKind::Mul, {a, b}), {3}, {2147483647.0, -2147483648.0, 0}));
  Tensor eq = run(OpKind::Equal, {ints({2}, {3, 4}), ints({}, {4})});
  EXPECT_EQ(eq.dtype, DType::F32);
  EXPECT_TRUE(matches(eq, {2}, {0, 1}));
}

TEST(InterpElementwise, SelectBroadcastsEachOperand) {
  Tensor cond = tensor({2, 1}, {1, 0});
  Tensor a = tensor({3}, {1, 2, 3});
  Tensor b = tensor({}, {-1});
  EXPECT_TRUE(matches(run(OpKind::Select, {cond, a, b}), {2, 3}, {1, 2, 3, -1, -1, -1}));
  EXPECT_TRUE(matches(run(OpKind::Select, {tensor({3}, {0, 2, kNaN}), b, a}), {3}, {1, -1, -1}));
  EXPECT_TRUE(matches(run(OpKind::Select, {tensor({}, {0}), a, tensor({2, 1}, {7, 8})}), {2, 3}, {7, 7, 7, 8, 8, 8}));
}

TEST(InterpElementwise, BroadcastTo) {
  EXPECT_TRUE(matches(run(OpKind::BroadcastTo, {tensor({3}, {1, 2, 3})}, {{"shape", std::vector<int64_t>{2, 3}}}),
                      {2, 3}, {1, 2, 3, 1, 2, 3}));
  EXPECT_TRUE(matches(run(OpKind::BroadcastTo, {tensor({2, 1}, {1, 2})}, {{"shape", std::vector<int64_t>{2, 2}}}),
                      {2, 2}, {1, 1, 2, 2}));
}

TEST(InterpElementwise, BroadcastToTheBatchTakesTheBatchFromTheInputs) {
  Graph g;
  NodeId x = g.addLeaf(OpKind::Input, "x", {DType::F32, Shape{kBatch, 2}});
  NodeId b = g.addLeaf(OpKind::Param, "b", {DType::F32, Shape{2}});
  NodeId y = *g.add(OpKind::BroadcastTo, {b}, {{"shape", std::vector<int64_t>{kBatch, 2}}});
  LeafValues leaves{{x, tensor({3, 2}, {0, 0, 0, 0, 0, 0})}, {b, tensor({2}, {5, 6})}};
  auto r = interpret(g, leaves, {y});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(matches((*r)[0], {3, 2}, {5, 6, 5, 6, 5, 6}));
}

}  // namespace
}  // namespace nnc
