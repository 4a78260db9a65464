// Every op of Ops.def, compiled by the JIT, against the reference interpreter (f32): at
// batch 1, 7 and 16, on 1 and 2 threads, with every kernel split across threads
// (chunkWork 1) so the parallel paths run even at these small sizes.
#include <gtest/gtest.h>

#include "tests/codegen/CodegenTestUtil.h"

namespace nnc {
namespace {

using namespace nnc::testing;

constexpr DType F = DType::F32;
constexpr DType I = DType::I32;

// One op applied to an input x: f32[batch, 7, 13] (odd sizes exercise vector remainders).
Graph unaryGraph(OpKind k, Attrs attrs = {}, DType t = F) {
  Graph g;
  NodeId x = input(g, "x", t, {kBatch, 7, 13});
  g.outputs.push_back({"y", op(g, k, {x}, std::move(attrs))});
  return g;
}

class Unary : public ::testing::TestWithParam<OpKind> {};

TEST_P(Unary, MatchesInterpreter) {
  OpKind k = GetParam();
  Range r{-4, 4};
  if (k == OpKind::Log || k == OpKind::Sqrt) r = {1e-3, 30};
  expectMatchesInterpreter(unaryGraph(k), {{"x", r}});
}

// Every one-operand row of the registry (Ops.def) with a scalar function, at its default
// attributes: a new elementwise op is tested here without a line of its own.
std::vector<OpKind> unaryRows() {
  std::vector<OpKind> ops;
  for (int i = 0; i < numOpKinds(); ++i)
    if (opInfo(static_cast<OpKind>(i)).unary) ops.push_back(static_cast<OpKind>(i));
  return ops;
}

INSTANTIATE_TEST_SUITE_P(Ops, Unary, ::testing::ValuesIn(unaryRows()),
                         [](const auto& info) { return std::string(opName(info.param)); });

TEST(UnaryAttrs, LeakyReluAndElu) {
  expectMatchesInterpreter(unaryGraph(OpKind::LeakyRelu, {{"alpha", 0.2}}));
  expectMatchesInterpreter(unaryGraph(OpKind::Elu, {{"alpha", 1.5}}));
}

TEST(UnaryMath, WideRangesAndSpecialValues) {
  // Far tails: exp under/overflow, sigmoid/tanh saturation, softplus of large |x|.
  for (OpKind k : {OpKind::Exp, OpKind::Sigmoid, OpKind::Tanh, OpKind::Softplus, OpKind::Elu, OpKind::Gelu,
                   OpKind::Silu, OpKind::Mish, OpKind::Softsign, OpKind::HardSwish, OpKind::Round})
    expectMatchesInterpreter(unaryGraph(k), {{"x", {-120, 120}}}, {3});
  expectMatchesInterpreter(unaryGraph(OpKind::Log), {{"x", {1e-30, 1e30}}}, {3});
  // Near zero, where expm1/log1p matter.
  for (OpKind k : {OpKind::Elu, OpKind::Selu, OpKind::Tanh, OpKind::Softplus, OpKind::Erf})
    expectMatchesInterpreter(unaryGraph(k), {{"x", {-1e-3, 1e-3}}}, {3});
}

TEST(UnaryMath, RoundHalfToEven) {
  // Ties, which random inputs never hit: round(k / 2) for integers k, against the
  // interpreter's half-to-even (torch.round).
  Graph g;
  NodeId x = input(g, "x", F, {kBatch, 7, 13});
  g.outputs.push_back({"y", op(g, OpKind::Round, {op(g, OpKind::Mul, {x, g.addScalar(0.5)})})});
  expectMatchesInterpreter(g, {{"x", {-9, 9, true}}});
}

TEST(UnaryInt, I32Ops) {
  for (OpKind k : {OpKind::Neg, OpKind::Abs, OpKind::Square, OpKind::Sign})
    expectMatchesInterpreter(unaryGraph(k, {}, I), {{"x", {-1000, 1000, true}}});
}

TEST(Cast, BothWays) {
  expectMatchesInterpreter(unaryGraph(OpKind::Cast, {{"dtype", std::string("i32")}}), {{"x", {-1e10, 1e10}}});
  expectMatchesInterpreter(unaryGraph(OpKind::Cast, {{"dtype", std::string("i32")}}), {{"x", {-5, 5}}});
  expectMatchesInterpreter(unaryGraph(OpKind::Cast, {{"dtype", std::string("f32")}}, I), {{"x", {-100, 100, true}}});
}

// a [batch, 5, 7] op b, with b of several broadcast shapes.
Graph binaryGraph(OpKind k, std::vector<int64_t> bShape, DType t = F) {
  Graph g;
  NodeId a = input(g, "a", t, {kBatch, 5, 7});
  NodeId b = input(g, "b", t, std::move(bShape));
  g.outputs.push_back({"y", op(g, k, {a, b})});
  return g;
}

class Binary : public ::testing::TestWithParam<OpKind> {};

TEST_P(Binary, MatchesInterpreterWithBroadcasting) {
  OpKind k = GetParam();
  Range r{-3, 3};
  if (k == OpKind::Pow) r = {0.1, 3};
  // Small integers make equal values (and ties) common for the comparisons.
  if (k == OpKind::Equal || k == OpKind::Greater || k == OpKind::GreaterEqual || k == OpKind::Maximum) r = {-3, 3, true};
  std::map<std::string, Range> ranges{{"a", r}, {"b", r}};
  for (auto shape : std::vector<std::vector<int64_t>>{{kBatch, 5, 7}, {7}, {}, {5, 1}, {kBatch, 1, 7}, {1, 5, 1}})
    expectMatchesInterpreter(binaryGraph(k, shape), ranges, {1, 7});
}

INSTANTIATE_TEST_SUITE_P(Ops, Binary,
                         ::testing::Values(OpKind::Add, OpKind::Sub, OpKind::Mul, OpKind::Div, OpKind::Pow,
                                           OpKind::Maximum, OpKind::Minimum, OpKind::Greater, OpKind::GreaterEqual,
                                           OpKind::Equal),
                         [](const auto& info) { return std::string(opName(info.param)); });

TEST(BinaryInt, I32Arithmetic) {
  for (OpKind k : {OpKind::Add, OpKind::Sub, OpKind::Mul, OpKind::Maximum, OpKind::Minimum, OpKind::Greater,
                   OpKind::Equal})
    expectMatchesInterpreter(binaryGraph(k, {7}, I), {{"a", {-50000, 50000, true}}, {"b", {-50000, 50000, true}}});
}

TEST(Select, BroadcastOperands) {
  Graph g;
  NodeId c = input(g, "c", F, {kBatch, 5, 7});
  NodeId a = input(g, "a", F, {7});
  NodeId b = input(g, "b", F, {kBatch, 5, 1});
  g.outputs.push_back({"y", op(g, OpKind::Select, {c, a, b})});
  expectMatchesInterpreter(g, {{"c", {-1, 2, true}}});
}

TEST(BroadcastTo, FromSmallerShapes) {
  Graph g;
  NodeId x = input(g, "x", F, {5, 1});
  NodeId batched = input(g, "b", F, {kBatch, 5, 7});  // gives the interpreter the batch size
  NodeId y = op(g, OpKind::BroadcastTo, {x}, {{"shape", std::vector<int64_t>{kBatch, 5, 7}}});
  g.outputs.push_back({"y", y});
  NodeId y2 = op(g, OpKind::BroadcastTo, {x}, {{"shape", std::vector<int64_t>{kBatch, 5, 7}}});
  g.outputs.push_back({"fused", op(g, OpKind::Add, {y2, batched})});
  NodeId s = input(g, "s", F, {});
  g.outputs.push_back({"z", op(g, OpKind::BroadcastTo, {s}, {{"shape", std::vector<int64_t>{3, 4}}})});
  expectMatchesInterpreter(g);
}

// ---- reductions -----------------------------------------------------------------------------
Graph reduceGraph(OpKind k, std::vector<int64_t> axes, int64_t keep, DType t = F) {
  Graph g;
  NodeId x = input(g, "x", t, {kBatch, 6, 5, 4});
  g.outputs.push_back({"y", op(g, k, {x}, {{"axes", axes}, {"keepdims", keep}})});
  return g;
}

TEST(Reduce, EveryAxisSetAndKeepdims) {
  std::vector<std::vector<int64_t>> axesSets{{3}, {1}, {0}, {1, 2}, {0, 3}, {0, 1, 2, 3}, {1, 3}};
  for (OpKind k : {OpKind::ReduceSum, OpKind::ReduceMean, OpKind::ReduceMax})
    for (const auto& axes : axesSets)
      for (int64_t keep : {0, 1}) {
        SCOPED_TRACE(std::string(opName(k)) + " keepdims " + std::to_string(keep) + " axes " + attrValueStr(axes));
        expectMatchesInterpreter(reduceGraph(k, axes, keep));
      }
}

TEST(Reduce, IntegerSumAndMax) {
  for (OpKind k : {OpKind::ReduceSum, OpKind::ReduceMax})
    expectMatchesInterpreter(reduceGraph(k, {1, 2}, 0, I), {{"x", {-100, 100, true}}});
}

TEST(Reduce, FusedProducerChain) {
  // sum(exp(x) * 2 + y) over axis 2: the producers fuse into the reduction's loop.
  Graph g;
  NodeId x = input(g, "x", F, {kBatch, 6, 5});
  NodeId y = input(g, "y", F, {5});
  NodeId e = op(g, OpKind::Mul, {op(g, OpKind::Exp, {x}), g.addScalar(2.0)});
  NodeId s = op(g, OpKind::Add, {e, y});
  g.outputs.push_back({"r", op(g, OpKind::ReduceSum, {s}, {{"axes", std::vector<int64_t>{2}}, {"keepdims", int64_t(0)}})});
  g.outputs.push_back({"m", op(g, OpKind::ReduceMean, {s}, {{"axes", std::vector<int64_t>{0, 1}}, {"keepdims", int64_t(1)}})});
  expectMatchesInterpreter(g);
}

TEST(ArgMax, EachAxisWithTies) {
  for (int64_t axis : {-1, 1, 0}) {
    Graph g;
    NodeId x = input(g, "x", F, {kBatch, 6, 5});
    g.outputs.push_back({"y", op(g, OpKind::ArgMax, {x}, {{"axis", axis}})});
    expectMatchesInterpreter(g, {{"x", {-2, 2, true}}});
  }
}

TEST(ElementCount, BatchedAndStatic) {
  Graph g;
  NodeId x = input(g, "x", F, {kBatch, 6, 5});
  NodeId n = op(g, OpKind::ElementCount, {x}, {{"axes", std::vector<int64_t>{0, 2}}});
  g.outputs.push_back({"n", n});
  // Used inline: mean = sum / count.
  NodeId s = op(g, OpKind::ReduceSum, {x}, {{"axes", std::vector<int64_t>{0, 2}}, {"keepdims", int64_t(0)}});
  g.outputs.push_back({"mean", op(g, OpKind::Div, {s, n})});
  expectMatchesInterpreter(g);
}

// ---- data movement ------------------------------------------------------------------------------
TEST(Layout, ReshapeTransposeSlice) {
  Graph g;
  NodeId x = input(g, "x", F, {kBatch, 6, 5});
  NodeId r = op(g, OpKind::Reshape, {x}, {{"shape", std::vector<int64_t>{kBatch, 30}}});
  g.outputs.push_back({"reshape", op(g, OpKind::Neg, {r})});
  g.outputs.push_back({"reshape_out", r});
  g.outputs.push_back({"transpose", op(g, OpKind::Transpose, {x}, {{"perm", std::vector<int64_t>{0, 2, 1}}})});
  g.outputs.push_back({"slice", op(g, OpKind::Slice, {x}, {{"axis", int64_t(2)}, {"begin", int64_t(1)}, {"end", int64_t(4)}})});
  // A transpose and a slice fused into an elementwise consumer.
  NodeId t = op(g, OpKind::Transpose, {x}, {{"perm", std::vector<int64_t>{0, 2, 1}}});
  NodeId sl = op(g, OpKind::Slice, {t}, {{"axis", int64_t(1)}, {"begin", int64_t(2)}, {"end", int64_t(5)}});
  g.outputs.push_back({"fused", op(g, OpKind::Mul, {sl, sl})});
  NodeId w = input(g, "w", F, {4, 3, 2});
  g.outputs.push_back({"t3", op(g, OpKind::Transpose, {w}, {{"perm", std::vector<int64_t>{2, 0, 1}}})});
  expectMatchesInterpreter(g);
}

TEST(Layout, Concat) {
  for (int64_t axis : {-1, 1}) {
    Graph g;
    NodeId a = input(g, "a", F, {kBatch, 3, 4});
    NodeId b = input(g, "b", F, {kBatch, 3, 4});
    NodeId c = input(g, "c", F, {kBatch, 3, 4});
    g.outputs.push_back({"y", op(g, OpKind::Concat, {a, b, c}, {{"axis", axis}})});
    expectMatchesInterpreter(g);
  }
  Graph g;
  NodeId a = input(g, "a", I, {2, 3});
  NodeId b = input(g, "b", I, {5, 3});
  g.outputs.push_back({"y", op(g, OpKind::Concat, {a, b}, {{"axis", int64_t(0)}})});
  expectMatchesInterpreter(g);
}

TEST(Layout, OneHot) {
  Graph g;
  NodeId l = input(g, "labels", I, {kBatch});
  g.outputs.push_back({"y", op(g, OpKind::OneHot, {l}, {{"depth", int64_t(10)}})});
  expectMatchesInterpreter(g, {{"labels", {-2, 12, true}}});
}

// ---- products ---------------------------------------------------------------------------------
TEST(MatMul, AllTransposes) {
  struct Case {
    std::vector<int64_t> a, b;
    int64_t ta, tb;
  };
  std::vector<Case> cases{
      {{kBatch, 33}, {33, 17}, 0, 0},       {{kBatch, 33}, {17, 33}, 0, 1},
      {{kBatch, 33}, {kBatch, 17}, 1, 0},   // dW = x^T dy: K is the batch
      {{kBatch, 17}, {33, 17}, 0, 1},       // dx = dy w^T
      {{kBatch, 4, 5}, {5, 6}, 0, 0},       {{kBatch, 4, 5}, {kBatch, 5, 6}, 0, 0},
      {{kBatch, 5, 4}, {kBatch, 6, 5}, 1, 1}, {{9, 33}, {33, 17}, 0, 0},
  };
  for (const Case& c : cases) {
    Graph g;
    NodeId a = input(g, "a", F, c.a);
    NodeId b = input(g, "b", F, c.b);
    g.outputs.push_back({"y", op(g, OpKind::MatMul, {a, b}, {{"transpose_a", c.ta}, {"transpose_b", c.tb}})});
    if (g.outputs.back().node == kNoNode) continue;
    SCOPED_TRACE("matmul " + g.type(a).str() + " " + g.type(b).str());
    expectMatchesInterpreter(g);
  }
}

struct ConvCase {
  int64_t kh, kw, sh, sw;
  std::vector<int64_t> pads;
};

std::vector<ConvCase> convCases() {
  return {{3, 3, 1, 1, {1, 1, 1, 1}}, {3, 3, 2, 2, {0, 0, 0, 0}}, {3, 2, 2, 1, {0, 0, 1, 1}}, {1, 1, 1, 1, {0, 0, 0, 0}},
          {5, 5, 2, 3, {2, 1, 2, 2}}};
}

TEST(Conv2D, ForwardAndGradients) {
  for (const ConvCase& c : convCases()) {
    Attrs geo{{"strides", std::vector<int64_t>{c.sh, c.sw}}, {"pads", c.pads}};
    Graph g;
    NodeId x = input(g, "x", F, {kBatch, 9, 11, 3});
    NodeId w = param(g, "w", {c.kh, c.kw, 3, 4});
    NodeId y = op(g, OpKind::Conv2D, {x, w}, geo);
    g.outputs.push_back({"y", y});
    const Shape& ys = g.type(y).shape;
    NodeId dy = input(g, "dy", F, {kBatch, ys[1], ys[2], 4});
    Attrs gi = geo;
    gi.set("input_hw", std::vector<int64_t>{9, 11});
    g.outputs.push_back({"dx", op(g, OpKind::Conv2DGradInput, {dy, w}, gi)});
    Attrs gf = geo;
    gf.set("kernel", std::vector<int64_t>{c.kh, c.kw});
    g.outputs.push_back({"dw", op(g, OpKind::Conv2DGradFilter, {x, dy}, gf)});
    SCOPED_TRACE("conv " + std::to_string(c.kh) + "x" + std::to_string(c.kw) + " stride " + std::to_string(c.sh) + "," +
                 std::to_string(c.sw) + " pads " + attrValueStr(c.pads));
    expectMatchesInterpreter(g);
  }
}

TEST(Pooling, ForwardAndGradients) {
  struct Case {
    int64_t k, s;
    std::vector<int64_t> pads;
  };
  for (const Case& c : std::vector<Case>{{2, 2, {0, 0, 0, 0}}, {3, 2, {1, 1, 1, 1}}, {3, 1, {0, 1, 2, 1}}, {2, 3, {1, 0, 0, 1}}}) {
    Attrs geo{{"window", std::vector<int64_t>{c.k, c.k}}, {"strides", std::vector<int64_t>{c.s, c.s}}, {"pads", c.pads}};
    Graph g;
    NodeId x = input(g, "x", F, {kBatch, 8, 9, 3});
    NodeId mp = op(g, OpKind::MaxPool, {x}, geo);
    g.outputs.push_back({"max", mp});
    g.outputs.push_back({"avg", op(g, OpKind::AvgPool, {x}, geo)});
    const Shape& ys = g.type(mp).shape;
    NodeId dy = input(g, "dy", F, {kBatch, ys[1], ys[2], 3});
    g.outputs.push_back({"max_grad", op(g, OpKind::MaxPoolGrad, {x, dy}, geo)});
    Attrs ag = geo;
    ag.set("input_hw", std::vector<int64_t>{8, 9});
    g.outputs.push_back({"avg_grad", op(g, OpKind::AvgPoolGrad, {dy}, ag)});
    SCOPED_TRACE("pool " + std::to_string(c.k) + " stride " + std::to_string(c.s) + " pads " + attrValueStr(c.pads));
    // Small integers: ties in max windows, so the first-maximum rule is exercised.
    expectMatchesInterpreter(g, {{"x", {-3, 3, true}}});
  }
}

TEST(Softmax, BothFormsEachAxis) {
  for (OpKind k : {OpKind::Softmax, OpKind::LogSoftmax})
    for (int64_t axis : {-1, 1, 0}) {
      Graph g;
      NodeId x = input(g, "x", F, {kBatch, 6, 10});
      g.outputs.push_back({"y", op(g, k, {x}, {{"axis", axis}})});
      SCOPED_TRACE(std::string(opName(k)) + " axis " + std::to_string(axis));
      expectMatchesInterpreter(g, {{"x", {-30, 30}}});
    }
}

TEST(ModeOps, InferenceDropoutAndBatchNorm) {
  Graph g;
  NodeId x = input(g, "x", F, {kBatch, 6, 5});
  g.outputs.push_back({"dropout", op(g, OpKind::Dropout, {x}, {{"rate", 0.5}})});
  NodeId gamma = param(g, "gamma", {5}), beta = param(g, "beta", {5});
  NodeId mean = g.addLeaf(OpKind::State, "mean", TensorType{F, Shape{5}});
  NodeId var = g.addLeaf(OpKind::State, "var", TensorType{F, Shape{5}});
  g.outputs.push_back({"bn", op(g, OpKind::BatchNorm, {x, gamma, beta, mean, var}, {{"momentum", 0.9}, {"eps", 1e-3}})});
  expectMatchesInterpreter(g, {{"var", {0.1, 2}}});
}

TEST(Constants, FillsAndArrays) {
  Graph g;
  NodeId x = input(g, "x", F, {kBatch, 3});
  NodeId values = g.addLeaf(OpKind::Constant, "", TensorType{F, Shape{3}}, Attrs{{"values", std::vector<double>{1.5, -2, 4}}});
  NodeId fill = g.addLeaf(OpKind::Constant, "", TensorType{F, Shape{3, 2}}, Attrs{{"value", 0.25}});
  g.outputs.push_back({"scaled", op(g, OpKind::Mul, {x, values})});
  g.outputs.push_back({"matmul_by_fill", op(g, OpKind::MatMul, {x, fill})});  // the fill is materialised
  g.outputs.push_back({"fill", fill});
  g.outputs.push_back({"values", values});
  NodeId ints = g.addLeaf(OpKind::Constant, "", TensorType{I, Shape{2}}, Attrs{{"values", std::vector<double>{3, -7}}});
  g.outputs.push_back({"ints", op(g, OpKind::Neg, {ints})});
  expectMatchesInterpreter(g);
}

TEST(DropoutMask, BitIdenticalToInterpreterAtStepZero) {
  Graph g;
  NodeId x = input(g, "x", F, {kBatch, 37});
  NodeId step = g.addLeaf(OpKind::Hyper, "step", TensorType{F, Shape{}});
  NodeId mask = op(g, OpKind::DropoutMask, {x, step}, {{"rate", 0.3}, {"seed", int64_t(42)}, {"salt", int64_t(3)}});
  g.outputs.push_back({"mask", mask});
  // The forward entry passes step 0; the interpreter gets the same.
  CompileOptions opt;
  opt.chunkWork = 1;
  auto m = jitCompile(g, nullptr, opt);
  ASSERT_TRUE(m.ok()) << m.error().message;
  for (int64_t batch : {1, 7, 16}) {
    std::mt19937_64 rng(5);
    Leaves l = makeLeaves(g, **m, batch, rng);
    l.values[step] = Tensor::scalar(0);
    auto want = interpret(g, l.values, {mask}, Precision::F32);
    ASSERT_TRUE(want.ok()) << want.error().message;
    for (int threads : {1, 2}) {
      ThreadsScope ts(threads);
      HostTensor out = hostBuffer(g.type(mask), batch);
      std::vector<const void*> in{l.inputs[0].data()};
      std::vector<void*> outs{out.data()};
      ASSERT_TRUE((*m)->forward(in, outs, batch).ok());
      for (size_t k = 0; k < out.size(); ++k) ASSERT_EQ(out.f[k], static_cast<float>((*want)[0].data[k])) << k;
    }
  }
}

}  // namespace
}  // namespace nnc

namespace nnc {
namespace {

using namespace nnc::testing;

TEST(EdgeCases, ZeroSizedTensors) {
  Graph g;
  NodeId x = input(g, "x", DType::F32, {kBatch, 0, 3});
  NodeId e = op(g, OpKind::Exp, {x});
  g.outputs.push_back({"e", e});
  // Reductions over an empty axis: sum 0, max -inf.
  g.outputs.push_back({"sum", op(g, OpKind::ReduceSum, {x}, {{"axes", std::vector<int64_t>{1}}, {"keepdims", int64_t(0)}})});
  g.outputs.push_back({"max", op(g, OpKind::ReduceMax, {x}, {{"axes", std::vector<int64_t>{1}}, {"keepdims", int64_t(0)}})});
  NodeId w = param(g, "w", {3, 0});
  g.outputs.push_back({"mm", op(g, OpKind::MatMul, {x, w})});
  expectMatchesInterpreter(g);
}

TEST(EdgeCases, ScalarGraph) {
  Graph g;
  NodeId a = input(g, "a", DType::F32, {});
  NodeId b = param(g, "b", {});
  g.outputs.push_back({"y", op(g, OpKind::Add, {op(g, OpKind::Mul, {a, b}), g.addScalar(1.5)})});
  expectMatchesInterpreter(g, {}, {1});
}

}  // namespace
}  // namespace nnc
