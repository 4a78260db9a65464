// Per-op gradient checks: every differentiable op's rule against central finite differences
// in f64 through the interpreter, over shapes that exercise broadcasting in each operand,
// every reduction axis, the batch axis, conv/pool geometry, transposes and slicing.
#include <gtest/gtest.h>

#include "compiler/autodiff/GradRules.h"
#include "tests/compiler/GradTestHelpers.h"

namespace nnc {
namespace {

using testing::OpHarness;
using V = std::vector<int64_t>;

Attrs reduceAttrs(V axes, bool keep) { return Attrs{{"axes", axes}, {"keepdims", int64_t(keep)}}; }

struct UnaryCase {
  OpKind op;
  Attrs attrs;
  double lo, hi;
};

TEST(GradOps, Unary) {
  const std::vector<UnaryCase> cases = {
      {OpKind::Neg, {}, -2, 2},          {OpKind::Exp, {}, -2, 2},
      {OpKind::Log, {}, 0.5, 3},         {OpKind::Sqrt, {}, 0.5, 3},
      {OpKind::Abs, {}, -2, 2},          {OpKind::Square, {}, -2, 2},
      {OpKind::Erf, {}, -2, 2},          {OpKind::Relu, {}, -2, 2},
      {OpKind::LeakyRelu, Attrs{{"alpha", 0.2}}, -2, 2},
      {OpKind::Elu, Attrs{{"alpha", 0.7}}, -2, 2},
      {OpKind::Selu, {}, -2, 2},         {OpKind::Gelu, {}, -3, 3},
      {OpKind::Sigmoid, {}, -3, 3},      {OpKind::Tanh, {}, -2, 2},
      {OpKind::Softplus, {}, -3, 3},     {OpKind::Cast, Attrs{{"dtype", std::string("f32")}}, -2, 2},
  };
  for (const UnaryCase& c : cases) {
    SCOPED_TRACE(opName(c.op));
    OpHarness h;
    NodeId x = h.leaf(Shape{kBatch, 3, 2}, c.lo, c.hi);
    h.check(h.op(c.op, {x}, c.attrs));
  }
}

TEST(GradOps, EveryDifferentiableUnaryRow) {  // the registry's rows, new ones included
  for (int i = 0; i < numOpKinds(); ++i) {
    const OpInfo& r = opInfo(static_cast<OpKind>(i));
    if (!r.unary || r.grad != GradKind::Rule) continue;
    // Straight-through by design (bf16 mixed precision): finite differences see a step function.
    if (r.kind == OpKind::RoundBf16) continue;
    SCOPED_TRACE(r.name);
    bool positive = r.kind == OpKind::Log || r.kind == OpKind::Sqrt;
    OpHarness h;
    NodeId x = h.leaf(Shape{kBatch, 3, 2}, positive ? 0.5 : -4, positive ? 3 : 4);
    h.check(h.op(r.kind, {x}));
  }
}

TEST(GradOps, StepFunctionsHaveZeroGradient) {
  for (OpKind k : {OpKind::Floor, OpKind::Ceil, OpKind::Round, OpKind::Sign}) {
    EXPECT_EQ(opInfo(k).grad, GradKind::Constant) << opName(k);
    EXPECT_EQ(gradRule(k).fn, nullptr);
  }
}

TEST(GradOps, UnaryOnValueUsedTwice) {  // gradients of a value used twice are summed
  OpHarness h;
  NodeId x = h.leaf(Shape{kBatch, 4});
  NodeId y = h.op(OpKind::Mul, {h.op(OpKind::Tanh, {x}), h.op(OpKind::Exp, {x})});
  h.check(h.op(OpKind::Add, {y, x}));
}

const std::vector<std::pair<Shape, Shape>> kBroadcastPairs = {
    {Shape{kBatch, 3, 4}, Shape{kBatch, 3, 4}}, {Shape{kBatch, 3, 4}, Shape{4}},
    {Shape{kBatch, 3, 4}, Shape{3, 1}},         {Shape{1, 4}, Shape{kBatch, 3, 4}},
    {Shape{kBatch, 1, 4}, Shape{kBatch, 3, 1}}, {Shape{3, 4}, Shape{}},
    {Shape{kBatch, 3, 4}, Shape{1, 3, 4}},  // `batch` against 1: summed over the batch
    {Shape{2, 1, 4}, Shape{3, 1}},
};

TEST(GradOps, BinaryBroadcasting) {
  for (OpKind op : {OpKind::Add, OpKind::Sub, OpKind::Mul, OpKind::Div, OpKind::Pow, OpKind::Maximum, OpKind::Minimum}) {
    for (const auto& [sa, sb] : kBroadcastPairs) {
      SCOPED_TRACE(std::string(opName(op)) + " " + sa.str() + " " + sb.str());
      OpHarness h;
      bool positiveA = op == OpKind::Pow;
      bool positiveB = op == OpKind::Div;
      NodeId a = h.leaf(sa, positiveA ? 0.5 : -2, 2);
      NodeId b = h.leaf(sb, positiveB ? 0.5 : (op == OpKind::Pow ? -1.5 : -2), positiveB ? 2 : 1.5);
      h.check(h.op(op, {a, b}));
    }
  }
}

TEST(GradOps, PowWithConstantExponent) {
  for (double e : {2.0, 3.0, -1.0, 0.5}) {
    OpHarness h;
    NodeId x = h.leaf(Shape{kBatch, 3}, 0.5, 2);
    h.check(h.op(OpKind::Pow, {x, h.g.addScalar(e)}));
  }
}

TEST(GradOps, Select) {
  for (const auto& shapes : std::vector<std::vector<Shape>>{
           {Shape{kBatch, 3, 4}, Shape{kBatch, 3, 4}, Shape{kBatch, 3, 4}},
           {Shape{kBatch, 3, 1}, Shape{3, 4}, Shape{4}},
           {Shape{4}, Shape{kBatch, 3, 4}, Shape{}}}) {
    OpHarness h;
    NodeId c = h.leaf(shapes[0]);  // only through the condition: zero gradient (and unreached)
    NodeId cond = h.op(OpKind::Greater, {c, h.g.addScalar(0)});
    NodeId a = h.leaf(shapes[1]), b = h.leaf(shapes[2]);
    h.check(h.op(OpKind::Select, {cond, a, b}));
  }
}

TEST(GradOps, BroadcastTo) {
  for (const auto& [from, to] : std::vector<std::pair<Shape, Shape>>{
           {Shape{3, 1}, Shape{kBatch, 2, 3, 4}}, {Shape{1, 4}, Shape{kBatch, 3, 4}}, {Shape{}, Shape{kBatch, 2}},
           {Shape{kBatch, 1}, Shape{kBatch, 5}}}) {
    OpHarness h;
    NodeId x = h.leaf(from);
    h.check(h.op(OpKind::BroadcastTo, {x}, Attrs{{"shape", to.dims}}));
  }
}

TEST(GradOps, Reductions) {
  const std::vector<V> axesSets = {{0}, {1}, {2}, {0, 2}, {1, 2}, {0, 1, 2}};
  for (OpKind op : {OpKind::ReduceSum, OpKind::ReduceMean, OpKind::ReduceMax})
    for (const Shape& s : {Shape{kBatch, 3, 4}, Shape{2, 3, 4}})
      for (const V& axes : axesSets)
        for (bool keep : {false, true}) {
          SCOPED_TRACE(std::string(opName(op)) + " " + s.str() + " axes " + attrValueStr(axes) + " keep " + std::to_string(keep));
          OpHarness h;
          NodeId x = h.leaf(s, -2, 2);
          h.check(h.op(op, {x}, reduceAttrs(axes, keep)));
        }
}

TEST(GradOps, ReduceMaxSharesTiesEqually) {
  // [[1, 3, 3], [2, 2, 0]]: row maxima tie; the gradient is split between them.
  Graph g;
  NodeId x = g.addLeaf(OpKind::Param, "x", TensorType{DType::F32, Shape{2, 3}});
  NodeId m = testing::must(g.add(OpKind::ReduceMax, {x}, reduceAttrs({1}, false)));
  NodeId loss = testing::must(g.add(OpKind::ReduceSum, {m}, reduceAttrs({0}, false)));
  auto grads = differentiate(g, loss, {x});
  ASSERT_TRUE(grads.ok()) << grads.error().message;
  auto r = interpret(g, {{x, Tensor(DType::F32, {2, 3}, {1, 3, 3, 2, 2, 0})}}, grads->grads);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)[0].data, (std::vector<double>{0, 0.5, 0.5, 0.5, 0.5, 0}));
}

TEST(GradOps, MaximumSplitsTies) {
  Graph g;
  NodeId a = g.addLeaf(OpKind::Param, "a", TensorType{DType::F32, Shape{3}});
  NodeId b = g.addLeaf(OpKind::Param, "b", TensorType{DType::F32, Shape{3}});
  NodeId m = testing::must(g.add(OpKind::Maximum, {a, b}));
  NodeId loss = testing::must(g.add(OpKind::ReduceSum, {m}, reduceAttrs({0}, false)));
  auto grads = differentiate(g, loss, {a, b});
  ASSERT_TRUE(grads.ok());
  auto r = interpret(g, {{a, Tensor(DType::F32, {3}, {1, 2, 3})}, {b, Tensor(DType::F32, {3}, {0, 2, 4})}}, grads->grads);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)[0].data, (std::vector<double>{1, 0.5, 0}));
  EXPECT_EQ((*r)[1].data, (std::vector<double>{0, 0.5, 1}));
}

TEST(GradOps, ReshapeTransposeConcatSlice) {
  {
    OpHarness h;
    NodeId x = h.leaf(Shape{kBatch, 3, 4});
    h.check(h.op(OpKind::Reshape, {x}, Attrs{{"shape", V{kBatch, 2, 6}}}));
  }
  {
    OpHarness h;
    NodeId x = h.leaf(Shape{kBatch, 3, 4, 2});
    h.check(h.op(OpKind::Transpose, {x}, Attrs{{"perm", V{0, 2, 3, 1}}}));
  }
  {
    OpHarness h;
    NodeId x = h.leaf(Shape{3, 4, 2});
    h.check(h.op(OpKind::Transpose, {x}, Attrs{{"perm", V{2, 0, 1}}}));
  }
  for (int64_t axis : {1, 2, -1}) {
    OpHarness h;
    Shape a{kBatch, 2, 3}, b{kBatch, 2, 3}, c{kBatch, 2, 3};
    int64_t ax = axis < 0 ? 2 : axis;
    b[static_cast<size_t>(ax)] = 1;
    c[static_cast<size_t>(ax)] = 4;
    NodeId x = h.leaf(a), y = h.leaf(b), z = h.leaf(c);
    h.check(h.op(OpKind::Concat, {x, y, z}, Attrs{{"axis", axis}}));
  }
  for (auto [begin, end] : std::vector<std::pair<int64_t, int64_t>>{{1, 3}, {0, 2}, {2, 5}, {0, 5}}) {
    OpHarness h;
    NodeId x = h.leaf(Shape{kBatch, 5, 2});
    h.check(h.op(OpKind::Slice, {x}, Attrs{{"axis", int64_t(1)}, {"begin", begin}, {"end", end}}));
  }
  {
    OpHarness h;  // slicing the last axis of a static tensor
    NodeId x = h.leaf(Shape{3, 6});
    h.check(h.op(OpKind::Slice, {x}, Attrs{{"axis", int64_t(1)}, {"begin", int64_t(2)}, {"end", int64_t(4)}}));
  }
}

Attrs mmAttrs(bool ta, bool tb) { return Attrs{{"transpose_a", int64_t(ta)}, {"transpose_b", int64_t(tb)}}; }

// Shape of an operand that is [rows, cols] after the optional transpose, with leading dims.
Shape operandShape(V leading, int64_t rows, int64_t cols, bool transposed) {
  V d = leading;
  d.push_back(transposed ? cols : rows);
  d.push_back(transposed ? rows : cols);
  return Shape(d);
}

TEST(GradOps, MatMul) {
  const int64_t M = 3, K = 4, N = 2;
  struct Layout {
    V leadA, leadB;
  };
  const std::vector<Layout> layouts = {
      {{}, {}},                  // plain matrices
      {{kBatch}, {kBatch}},      // batched, both
      {{kBatch}, {}},            // a[batch, M, K] @ b[K, N]: b's gradient sums over the batch
      {{2, 3}, {}},              // static leading dims shared by a plain b
      {{2}, {2}},
  };
  for (const Layout& l : layouts)
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        SCOPED_TRACE("leading " + attrValueStr(l.leadA) + " / " + attrValueStr(l.leadB) + " ta " + std::to_string(ta) +
                     " tb " + std::to_string(tb));
        OpHarness h;
        NodeId a = h.leaf(operandShape(l.leadA, M, K, ta));
        NodeId b = h.leaf(operandShape(l.leadB, K, N, tb));
        h.check(h.op(OpKind::MatMul, {a, b}, mmAttrs(ta, tb)));
      }
  {
    OpHarness h;  // a dense layer: x[batch, K] @ w[K, N], batch as the rows
    NodeId a = h.leaf(Shape{kBatch, K});
    NodeId b = h.leaf(Shape{K, N});
    h.check(h.op(OpKind::MatMul, {a, b}, mmAttrs(false, false)));
  }
  {
    OpHarness h;  // batch as the contracted dimension: x^T y over the batch
    NodeId a = h.leaf(Shape{kBatch, M});
    NodeId b = h.leaf(Shape{kBatch, N});
    h.check(h.op(OpKind::MatMul, {a, b}, mmAttrs(true, false)));
  }
}

struct ConvCase {
  int64_t h, w, kh, kw, stride;
  V pads;
};

TEST(GradOps, Conv2D) {
  const std::vector<ConvCase> cases = {
      {5, 6, 3, 3, 1, {1, 1, 1, 1}},  // same, stride 1
      {6, 7, 3, 3, 2, {0, 1, 1, 1}},  // same, stride 2: odd total padding, the extra after
      {5, 5, 2, 2, 1, {0, 0, 0, 0}},  // valid
      {7, 6, 3, 3, 2, {0, 0, 0, 0}},  // valid, stride 2, leftover rows
      {4, 5, 2, 3, 1, {0, 1, 1, 1}},  // a non-square kernel
  };
  for (const ConvCase& c : cases) {
    SCOPED_TRACE(std::to_string(c.h) + "x" + std::to_string(c.w) + " k" + std::to_string(c.kh) + "x" + std::to_string(c.kw) +
                 " s" + std::to_string(c.stride) + " pads " + attrValueStr(c.pads));
    OpHarness h;
    NodeId x = h.leaf(Shape{kBatch, c.h, c.w, 2});
    NodeId w = h.leaf(Shape{c.kh, c.kw, 2, 3});
    h.check(h.op(OpKind::Conv2D, {x, w}, Attrs{{"strides", V{c.stride, c.stride}}, {"pads", c.pads}}));
  }
}

TEST(GradOps, Pooling) {
  struct PoolCase {
    int64_t size, window, stride;
    V pads;
  };
  const std::vector<PoolCase> cases = {
      {4, 2, 2, {0, 0, 0, 0}},  // valid, non-overlapping
      {5, 3, 2, {1, 1, 1, 1}},  // same, overlapping windows
      {5, 2, 1, {0, 0, 1, 1}},  // same, stride 1: padding after only
      {5, 2, 2, {0, 0, 0, 0}},  // valid with a leftover row
  };
  for (OpKind op : {OpKind::MaxPool, OpKind::AvgPool})
    for (const PoolCase& c : cases) {
      SCOPED_TRACE(std::string(opName(op)) + " window " + std::to_string(c.window) + " stride " + std::to_string(c.stride) +
                   " pads " + attrValueStr(c.pads));
      OpHarness h;
      NodeId x = h.leaf(Shape{kBatch, c.size, c.size, 2});
      h.check(h.op(op, {x}, Attrs{{"window", V{c.window, c.window}}, {"strides", V{c.stride, c.stride}}, {"pads", c.pads}}));
    }
}

TEST(GradOps, SoftmaxAndLogSoftmax) {
  for (OpKind op : {OpKind::Softmax, OpKind::LogSoftmax})
    for (int64_t axis : {1, 2}) {
      SCOPED_TRACE(std::string(opName(op)) + " axis " + std::to_string(axis));
      OpHarness h;
      NodeId x = h.leaf(Shape{kBatch, 3, 4}, -2, 2);
      h.check(h.op(op, {x}, Attrs{{"axis", axis}}));
    }
}

TEST(GradOps, RecurrentUnrollingByHand) {
  // Two steps of h = tanh(x_t W + h U + b) and an LSTM cell step, all leaves differentiated.
  OpHarness h;
  NodeId x = h.leaf(Shape{kBatch, 3, 2});
  NodeId w = h.leaf(Shape{2, 4}), u = h.leaf(Shape{4, 4}), b = h.leaf(Shape{4});
  auto step = [&](int64_t t) {
    NodeId s = h.op(OpKind::Slice, {x}, Attrs{{"axis", int64_t(1)}, {"begin", t}, {"end", t + 1}});
    return h.op(OpKind::Reshape, {s}, Attrs{{"shape", V{kBatch, 2}}});
  };
  NodeId hid = kNoNode;
  for (int64_t t = 0; t < 3; ++t) {
    NodeId pre = h.op(OpKind::Add, {h.op(OpKind::MatMul, {step(t), w}, mmAttrs(false, false)), b});
    if (hid != kNoNode) pre = h.op(OpKind::Add, {pre, h.op(OpKind::MatMul, {hid, u}, mmAttrs(false, false))});
    hid = h.op(OpKind::Tanh, {pre});
  }
  h.check(hid);
}

}  // namespace
}  // namespace nnc
