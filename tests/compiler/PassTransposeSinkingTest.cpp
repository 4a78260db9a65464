// Transpose sinking: transposes move below elementwise and broadcasting ops and cancel with
// their inverses; values are unchanged (checked through the interpreter on random values);
// where a rewrite would need a full-size transpose of another operand, or would change the
// order a reshape reads, nothing happens.
#include "PassTestUtil.h"
#include "compiler/passes/DeadCodeElimination.h"
#include "compiler/passes/TransposeSinking.h"

namespace nnc {
namespace {

using namespace passtest;

const std::vector<int64_t> kNhwc = {0, 2, 3, 1}, kNchw = {0, 3, 1, 2};

Result<Graph> sinkThenDce(const Graph& g) {
  Result<Graph> r = sinkTransposes(g);
  if (!r) return r;
  return eliminateDeadCode(*r);
}

Graph sunk(const Graph& g) {
  Graph out = runPass(g, sinkThenDce);
  expectSameValues(g, out, randomLeafValues(g, 2, 11));
  return out;
}

NodeId transpose(Graph& g, NodeId x, std::vector<int64_t> perm) {
  return op(g, OpKind::Transpose, {x}, Attrs{{"perm", std::move(perm)}});
}

// How the ONNX importer writes conv(NCHW) -> relu -> conv: each conv wrapped in transposes,
// the bias added in NHWC, relu in NCHW between them.
TEST(PassTransposeSinking, ConvReluConvKeepsNoTransposeBetweenTheConvolutions) {
  Graph g;
  NodeId x = input(g, "x", f32({kBatch, 2, 5, 5}));
  NodeId w1 = param(g, "w1", f32({3, 3, 2, 4})), b1 = param(g, "b1", f32({4}));
  NodeId w2 = param(g, "w2", f32({3, 3, 4, 3}));
  Attrs conv{{"strides", ints({1, 1})}, {"pads", ints({1, 1, 1, 1})}};
  NodeId c1 = op(g, OpKind::Conv2D, {transpose(g, x, kNhwc), w1}, conv);
  NodeId back = transpose(g, op(g, OpKind::Add, {c1, b1}), kNchw);
  NodeId r = op(g, OpKind::Relu, {back});
  NodeId c2 = op(g, OpKind::Conv2D, {transpose(g, r, kNhwc), w2}, conv);
  g.outputs.push_back({"y", transpose(g, c2, kNchw)});
  ASSERT_EQ(countOps(g, OpKind::Transpose), 4);
  Graph s = sunk(g);
  EXPECT_EQ(countOps(s, OpKind::Transpose), 2) << printGraph(s);  // the input's and the output's
  // Walk back from the second convolution's input to the first convolution: no transpose.
  const Node* second = nullptr;
  for (const Node& n : s.nodes())
    if (n.op == OpKind::Conv2D) second = &n;
  ASSERT_NE(second, nullptr);
  NodeId v = second->inputs[0];
  while (s.node(v).op != OpKind::Conv2D) {
    EXPECT_NE(s.node(v).op, OpKind::Transpose) << printGraph(s);
    ASSERT_FALSE(s.node(v).inputs.empty()) << printGraph(s);
    v = s.node(v).inputs[0];
  }
}

TEST(PassTransposeSinking, BroadcastOperandsMoveIntoTheInnerLayout) {
  Graph g;
  NodeId x = input(g, "x", f32({kBatch, 4, 3, 2}));
  NodeId perChannel = param(g, "scale", f32({2, 1, 1}));  // broadcasts over NCHW's channel axis
  NodeId scalar = fill(g, 0.5, f32({}));
  NodeId t = transpose(g, x, kNchw);                      // [batch, 2, 4, 3]
  NodeId y = op(g, OpKind::Mul, {op(g, OpKind::Add, {t, scalar}), perChannel});
  g.outputs.push_back({"y", transpose(g, y, kNhwc)});
  Graph s = sunk(g);
  // The data is never transposed; only the [2, 1, 1] scale is.
  for (const Node& n : s.nodes()) {
    if (n.op == OpKind::Transpose) {
      EXPECT_FALSE(n.type.shape.isBatched()) << printGraph(s);
    }
  }
}

TEST(PassTransposeSinking, AFullSizeOperandInAnotherLayoutStopsIt) {
  Graph g;
  NodeId x = input(g, "x", f32({kBatch, 4, 3, 2}));
  NodeId z = input(g, "z", f32({kBatch, 2, 4, 3}));
  g.outputs.push_back({"y", op(g, OpKind::Add, {transpose(g, x, kNchw), z})});
  Graph s = sunk(g);
  EXPECT_EQ(countOps(s, OpKind::Transpose), 1);
  EXPECT_EQ(outputNode(s).op, OpKind::Add);
}

TEST(PassTransposeSinking, ReshapeReadsThroughATransposeOfUnitAxesOnly) {
  Graph g;
  NodeId pooled = input(g, "pooled", f32({kBatch, 1, 1, 6}));  // after a global pool, NHWC
  NodeId image = input(g, "image", f32({kBatch, 2, 2, 6}));
  Attrs flat{{"shape", ints({kBatch, 6})}}, flat24{{"shape", ints({kBatch, 24})}};
  g.outputs.push_back({"a", op(g, OpKind::Reshape, {transpose(g, pooled, kNchw)}, flat)});
  g.outputs.push_back({"b", op(g, OpKind::Reshape, {transpose(g, image, kNchw)}, flat24)});
  Graph s = sunk(g);
  EXPECT_EQ(s.node(outputNode(s, 0).inputs[0]).op, OpKind::Input) << printGraph(s);
  EXPECT_EQ(s.node(outputNode(s, 1).inputs[0]).op, OpKind::Transpose) << printGraph(s);  // order matters there
}

}  // namespace
}  // namespace nnc
