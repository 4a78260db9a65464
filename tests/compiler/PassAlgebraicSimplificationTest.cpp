// Algebraic simplification: every rewrite happens where it is exact and type-preserving,
// and does not happen elsewhere. Each simplified graph is also checked against the
// interpreter on random values.
#include "PassTestUtil.h"
#include "compiler/passes/AlgebraicSimplification.h"
#include "compiler/passes/DeadCodeElimination.h"

namespace nnc {
namespace {

using namespace passtest;

Result<Graph> simplifyThenDce(const Graph& g) {
  Result<Graph> r = simplifyAlgebra(g);
  if (!r) return r;
  return eliminateDeadCode(*r);
}

// Simplifies `g` (with DCE), checks values are unchanged, returns the result.
Graph simplified(const Graph& g) {
  Graph out = runPass(g, simplifyThenDce);
  expectSameValues(g, out, randomLeafValues(g, 2, 7));
  return out;
}


class PassAlgebraicSimplification : public ::testing::Test {
 protected:
  Graph g;
  NodeId x = input(g, "x", f32({kBatch, 3}));
  NodeId row = input(g, "row", f32({3}));
  NodeId zero = fill(g, 0, f32({}));
  NodeId one = fill(g, 1, f32({}));
  NodeId minusOne = fill(g, -1, f32({}));
  NodeId two = fill(g, 2, f32({}));

  void out(NodeId v) { g.outputs.push_back({"out" + std::to_string(g.outputs.size()), v}); }
};

TEST_F(PassAlgebraicSimplification, RemovesIdentityOperands) {
  out(op(g, OpKind::Mul, {x, one}));
  out(op(g, OpKind::Mul, {one, x}));
  out(op(g, OpKind::Add, {x, zero}));
  out(op(g, OpKind::Add, {zero, x}));
  out(op(g, OpKind::Sub, {x, zero}));
  out(op(g, OpKind::Div, {x, one}));
  out(op(g, OpKind::Pow, {x, one}));
  Graph s = simplified(g);
  EXPECT_EQ(countNonLeaves(s), 0) << printGraph(s);
  for (const Output& o : s.outputs) EXPECT_EQ(s.node(o.node).name, "x");
}

TEST_F(PassAlgebraicSimplification, KeepsNonCommutativeAndNonIdentityCases) {
  out(op(g, OpKind::Sub, {one, x}));   // not an identity
  out(op(g, OpKind::Div, {one, x}));
  out(op(g, OpKind::Pow, {one, x}));
  out(op(g, OpKind::Mul, {x, two}));
  out(op(g, OpKind::Add, {x, one}));
  Graph s = simplified(g);
  EXPECT_EQ(countNonLeaves(s), 5) << printGraph(s);
}

TEST_F(PassAlgebraicSimplification, KeepsBroadcastingWhenAnIdentityOperandIsBigger) {
  NodeId zeros = fill(g, 0, f32({4, 3}));
  out(op(g, OpKind::Add, {row, zeros}));  // f32[4, 3], not row's f32[3]
  out(op(g, OpKind::Mul, {row, op(g, OpKind::BroadcastTo, {one}, Attrs{{"shape", ints({kBatch, 3})}})}));
  Graph s = simplified(g);
  EXPECT_EQ(outputNode(s, 0).type, f32({4, 3}));
  EXPECT_EQ(outputNode(s, 0).op, OpKind::BroadcastTo);
  EXPECT_EQ(outputNode(s, 1).type, f32({kBatch, 3}));
  EXPECT_EQ(countOps(s, OpKind::Add) + countOps(s, OpKind::Mul), 0) << printGraph(s);
}

TEST_F(PassAlgebraicSimplification, DoesNotFoldMultiplicationByZero) {
  // x may be NaN or inf, and then x * 0 is NaN.
  out(op(g, OpKind::Mul, {x, zero}));
  out(op(g, OpKind::Mul, {zero, x}));
  Graph s = simplified(g);
  EXPECT_EQ(countOps(s, OpKind::Mul), 2);
}

TEST_F(PassAlgebraicSimplification, TurnsNegativeUnitsIntoNegation) {
  out(op(g, OpKind::Mul, {x, minusOne}));
  out(op(g, OpKind::Mul, {minusOne, x}));
  out(op(g, OpKind::Div, {x, minusOne}));
  out(op(g, OpKind::Sub, {zero, x}));
  Graph s = simplified(g);
  EXPECT_EQ(countNonLeaves(s), countOps(s, OpKind::Neg)) << printGraph(s);
  for (const Output& o : s.outputs) EXPECT_EQ(s.node(o.node).op, OpKind::Neg);
}

TEST_F(PassAlgebraicSimplification, CancelsDoubleNegation) {
  out(op(g, OpKind::Neg, {op(g, OpKind::Neg, {x})}));
  out(op(g, OpKind::Neg, {op(g, OpKind::Neg, {op(g, OpKind::Neg, {row})})}));
  Graph s = simplified(g);
  EXPECT_EQ(outputNode(s, 0).name, "x");
  EXPECT_EQ(outputNode(s, 1).op, OpKind::Neg);
  EXPECT_EQ(countOps(s, OpKind::Neg), 1);
}

TEST_F(PassAlgebraicSimplification, AbsorbsNegationIntoAddAndSub) {
  NodeId n = op(g, OpKind::Neg, {row});
  out(op(g, OpKind::Add, {x, n}));   // x - row
  out(op(g, OpKind::Add, {n, x}));   // x - row
  out(op(g, OpKind::Sub, {x, n}));   // x + row
  Graph s = simplified(g);
  EXPECT_EQ(countOps(s, OpKind::Neg), 0) << printGraph(s);
  EXPECT_EQ(outputNode(s, 0).op, OpKind::Sub);
  EXPECT_EQ(outputNode(s, 1).op, OpKind::Sub);
  EXPECT_EQ(outputNode(s, 2).op, OpKind::Add);
}

TEST_F(PassAlgebraicSimplification, SquaresInsteadOfPowerTwo) {
  out(op(g, OpKind::Pow, {x, two}));
  out(op(g, OpKind::Pow, {two, x}));
  Graph s = simplified(g);
  EXPECT_EQ(outputNode(s, 0).op, OpKind::Square);
  EXPECT_EQ(outputNode(s, 1).op, OpKind::Pow);
}

TEST_F(PassAlgebraicSimplification, SimplifiesRepeatedUnaryOps) {
  out(op(g, OpKind::Relu, {op(g, OpKind::Relu, {x})}));
  out(op(g, OpKind::Abs, {op(g, OpKind::Neg, {x})}));
  out(op(g, OpKind::Square, {op(g, OpKind::Neg, {x})}));
  out(op(g, OpKind::Exp, {op(g, OpKind::Exp, {x})}));  // not idempotent
  Graph s = simplified(g);
  EXPECT_EQ(countOps(s, OpKind::Relu), 1);
  EXPECT_EQ(countOps(s, OpKind::Neg), 0);
  EXPECT_EQ(countOps(s, OpKind::Exp), 2);
}

TEST_F(PassAlgebraicSimplification, ComposesTransposes) {
  NodeId t3 = input(g, "t", f32({2, 3, 4}));
  NodeId a = op(g, OpKind::Transpose, {t3}, Attrs{{"perm", ints({1, 2, 0})}});
  NodeId b = op(g, OpKind::Transpose, {a}, Attrs{{"perm", ints({2, 0, 1})}});  // identity overall
  NodeId c = op(g, OpKind::Transpose, {a}, Attrs{{"perm", ints({1, 0, 2})}});  // one transpose
  NodeId d = op(g, OpKind::Transpose, {t3}, Attrs{{"perm", ints({0, 1, 2})}});  // identity
  out(b);
  out(c);
  out(d);
  Graph s = simplified(g);
  EXPECT_EQ(outputNode(s, 0).name, "t");
  EXPECT_EQ(outputNode(s, 1).op, OpKind::Transpose);
  EXPECT_EQ(outputNode(s, 1).attrs.getInts("perm"), ints({2, 1, 0}));
  EXPECT_EQ(s.node(outputNode(s, 1).inputs[0]).name, "t");
  EXPECT_EQ(outputNode(s, 2).name, "t");
}

TEST_F(PassAlgebraicSimplification, CollapsesReshapes) {
  NodeId r1 = op(g, OpKind::Reshape, {x}, Attrs{{"shape", ints({kBatch, 3, 1})}});
  NodeId r2 = op(g, OpKind::Reshape, {r1}, Attrs{{"shape", ints({kBatch, 1, 3})}});
  NodeId r3 = op(g, OpKind::Reshape, {r2}, Attrs{{"shape", ints({kBatch, 3})}});
  out(r2);
  out(r3);
  Graph s = simplified(g);
  EXPECT_EQ(countOps(s, OpKind::Reshape), 1);
  EXPECT_EQ(s.node(outputNode(s, 0).inputs[0]).name, "x");
  EXPECT_EQ(outputNode(s, 1).name, "x");
}

TEST_F(PassAlgebraicSimplification, RemovesBroadcastsTheConsumerDoesItself) {
  NodeId b = op(g, OpKind::BroadcastTo, {two}, Attrs{{"shape", ints({kBatch, 3})}});
  NodeId br = op(g, OpKind::BroadcastTo, {row}, Attrs{{"shape", ints({kBatch, 3})}});
  out(op(g, OpKind::Mul, {x, b}));
  out(op(g, OpKind::Select, {op(g, OpKind::Greater, {x, zero}), br, b}));
  out(op(g, OpKind::BroadcastTo, {x}, Attrs{{"shape", ints({kBatch, 3})}}));  // to its own shape
  Graph s = simplified(g);
  EXPECT_EQ(countOps(s, OpKind::BroadcastTo), 0) << printGraph(s);  // the condition has the shape
  EXPECT_EQ(s.node(outputNode(s, 0).inputs[1]).op, OpKind::Constant);
  EXPECT_EQ(outputNode(s, 2).name, "x");
}

TEST_F(PassAlgebraicSimplification, KeepsBroadcastsThatDetermineTheResultShape) {
  NodeId b = op(g, OpKind::BroadcastTo, {row}, Attrs{{"shape", ints({4, 3})}});
  out(op(g, OpKind::Mul, {b, two}));  // without it the result would be f32[3]
  Graph s = simplified(g);
  EXPECT_EQ(countOps(s, OpKind::BroadcastTo), 1);
  EXPECT_EQ(outputNode(s).type, f32({4, 3}));
}

TEST_F(PassAlgebraicSimplification, CollapsesTheBroadcastChainsOfMeanGradients) {
  // What the gradient of a mean over the batch looks like: a scalar reshaped to [1],
  // broadcast to [batch], reshaped to [batch, 1], broadcast to [batch, 3], then used.
  NodeId scale = op(g, OpKind::Div, {minusOne, op(g, OpKind::ElementCount, {x}, Attrs{{"axes", ints({0})}})});
  NodeId r1 = op(g, OpKind::Reshape, {scale}, Attrs{{"shape", ints({1})}});
  NodeId b1 = op(g, OpKind::BroadcastTo, {r1}, Attrs{{"shape", ints({kBatch})}});
  NodeId r2 = op(g, OpKind::Reshape, {b1}, Attrs{{"shape", ints({kBatch, 1})}});
  NodeId b2 = op(g, OpKind::BroadcastTo, {r2}, Attrs{{"shape", ints({kBatch, 3})}});
  out(op(g, OpKind::Mul, {b2, x}));
  out(b2);
  Graph s = simplified(g);
  EXPECT_EQ(countOps(s, OpKind::Reshape), 0) << printGraph(s);
  EXPECT_EQ(countOps(s, OpKind::BroadcastTo), 1);  // the second output still needs it
  EXPECT_EQ(s.node(outputNode(s, 0).inputs[0]).op, OpKind::Div);
  EXPECT_EQ(s.node(outputNode(s, 1).inputs[0]).op, OpKind::Div);
}

TEST_F(PassAlgebraicSimplification, AppliesUnaryOpsBeforeBroadcastingNotAfter) {
  NodeId b = op(g, OpKind::BroadcastTo, {row}, Attrs{{"shape", ints({kBatch, 3})}});
  out(op(g, OpKind::Exp, {b}));
  out(op(g, OpKind::LeakyRelu, {b}, Attrs{{"alpha", 0.25}}));
  Graph s = simplified(g);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(outputNode(s, i).op, OpKind::BroadcastTo);
    EXPECT_EQ(s.type(outputNode(s, i).inputs[0]), f32({3}));
  }
  EXPECT_EQ(s.node(outputNode(s, 1).inputs[0]).attrs.getFloat("alpha"), 0.25);
}

TEST_F(PassAlgebraicSimplification, KeepsReshapesThatChangeHowAValueBroadcasts) {
  NodeId v = input(g, "v", f32({3}));
  NodeId m = input(g, "m", f32({3, 3}));
  NodeId column = op(g, OpKind::Reshape, {v}, Attrs{{"shape", ints({3, 1})}});
  out(op(g, OpKind::Mul, {column, m}));  // mul(v, m) has the same type but scales rows
  NodeId wide = op(g, OpKind::BroadcastTo, {column}, Attrs{{"shape", ints({3, 3})}});
  out(op(g, OpKind::Reshape, {wide}, Attrs{{"shape", ints({9})}}));
  Graph s = simplified(g);
  EXPECT_EQ(countOps(s, OpKind::Reshape), 2) << printGraph(s);
}

TEST_F(PassAlgebraicSimplification, ResolvesConstantSelectConditions) {
  NodeId yes = fill(g, 1, f32({3}));
  NodeId no = fill(g, 0, f32({}));
  out(op(g, OpKind::Select, {yes, x, row}));
  out(op(g, OpKind::Select, {no, x, row}));  // row broadcast to [batch, 3]
  out(op(g, OpKind::Select, {op(g, OpKind::Greater, {x, zero}), x, x}));
  Graph s = simplified(g);
  EXPECT_EQ(countOps(s, OpKind::Select), 0) << printGraph(s);
  EXPECT_EQ(outputNode(s, 0).name, "x");
  EXPECT_EQ(outputNode(s, 1).op, OpKind::BroadcastTo);
  EXPECT_EQ(outputNode(s, 2).name, "x");
}

TEST_F(PassAlgebraicSimplification, RemovesTrivialReductions) {
  NodeId k = input(g, "k", f32({kBatch, 1, 3}));
  Attrs keep{{"axes", ints({1})}, {"keepdims", int64_t{1}}};
  Attrs drop{{"axes", ints({1})}, {"keepdims", int64_t{0}}};
  out(op(g, OpKind::ReduceSum, {k}, keep));
  out(op(g, OpKind::ReduceMean, {k}, drop));
  out(op(g, OpKind::ReduceMax, {x}, Attrs{{"axes", ints({1})}, {"keepdims", int64_t{1}}}));  // axis of 3
  Graph s = simplified(g);
  EXPECT_EQ(outputNode(s, 0).name, "k");
  EXPECT_EQ(outputNode(s, 1).op, OpKind::Reshape);
  EXPECT_EQ(outputNode(s, 1).type, f32({kBatch, 3}));
  EXPECT_EQ(outputNode(s, 2).op, OpKind::ReduceMax);
}

TEST_F(PassAlgebraicSimplification, RemovesReductionsOverNoAxes) {
  // The shape rule types a reduction over an empty axis list as the identity. (Checked by
  // structure only: the interpreter currently reads an empty list as "every axis".)
  out(op(g, OpKind::ReduceSum, {x}, Attrs{{"axes", ints({})}, {"keepdims", int64_t{0}}}));
  Graph s = runPass(g, simplifyThenDce);
  EXPECT_EQ(outputNode(s).name, "x");
}

TEST_F(PassAlgebraicSimplification, RemovesWholeSlicesAndMergesNestedOnes) {
  NodeId m = input(g, "m", f32({4, 6}));
  out(op(g, OpKind::Slice, {m}, Attrs{{"axis", int64_t{1}}, {"begin", int64_t{0}}, {"end", int64_t{6}}}));
  NodeId s1 = op(g, OpKind::Slice, {m}, Attrs{{"axis", int64_t{1}}, {"begin", int64_t{1}}, {"end", int64_t{5}}});
  out(op(g, OpKind::Slice, {s1}, Attrs{{"axis", int64_t{-1}}, {"begin", int64_t{1}}, {"end", int64_t{3}}}));
  out(op(g, OpKind::Slice, {s1}, Attrs{{"axis", int64_t{0}}, {"begin", int64_t{1}}, {"end", int64_t{3}}}));
  Graph s = simplified(g);
  EXPECT_EQ(outputNode(s, 0).name, "m");
  EXPECT_EQ(outputNode(s, 1).op, OpKind::Slice);
  EXPECT_EQ(outputNode(s, 1).attrs.getInt("begin"), 2);
  EXPECT_EQ(outputNode(s, 1).attrs.getInt("end"), 4);
  EXPECT_EQ(s.node(outputNode(s, 1).inputs[0]).name, "m");
  EXPECT_EQ(s.node(outputNode(s, 2).inputs[0]).op, OpKind::Slice);  // other axis: two slices
}

TEST_F(PassAlgebraicSimplification, RemovesSingleConcatsAndSameTypeCasts) {
  NodeId labels = input(g, "labels", i32({kBatch}));
  out(op(g, OpKind::Concat, {x}, Attrs{{"axis", int64_t{1}}}));
  out(op(g, OpKind::Cast, {x}, Attrs{{"dtype", std::string("f32")}}));
  out(op(g, OpKind::Cast, {labels}, Attrs{{"dtype", std::string("f32")}}));
  out(op(g, OpKind::Concat, {x, x}, Attrs{{"axis", int64_t{1}}}));
  Graph s = simplified(g);
  EXPECT_EQ(outputNode(s, 0).name, "x");
  EXPECT_EQ(outputNode(s, 1).name, "x");
  EXPECT_EQ(outputNode(s, 2).op, OpKind::Cast);
  EXPECT_EQ(outputNode(s, 3).op, OpKind::Concat);
}

TEST_F(PassAlgebraicSimplification, TurnsSumsOfZeroPaddedPiecesIntoOneConcat) {
  // The gradient of x[batch, 6] sliced into [0, 2), [2, 3), [3, 6): each slice's gradient is
  // padded with zeros to x's shape, and the pads are summed.
  NodeId a = input(g, "a", f32({kBatch, 2}));
  NodeId b = input(g, "b", f32({kBatch, 1}));
  NodeId c = input(g, "c", f32({kBatch, 3}));
  auto zeros = [&](int64_t n) { return op(g, OpKind::BroadcastTo, {zero}, Attrs{{"shape", ints({kBatch, n})}}); };
  Attrs axis1{{"axis", int64_t{1}}};
  NodeId pa = op(g, OpKind::Concat, {a, zeros(4)}, axis1);
  NodeId pb = op(g, OpKind::Concat, {zeros(2), b, zeros(3)}, axis1);
  NodeId pc = op(g, OpKind::Concat, {zeros(3), c}, axis1);
  out(op(g, OpKind::Add, {op(g, OpKind::Add, {pa, pb}), pc}));
  Graph s = simplified(g);
  EXPECT_EQ(countOps(s, OpKind::Add), 0) << printGraph(s);
  const Node& cat = outputNode(s);
  ASSERT_EQ(cat.op, OpKind::Concat);
  ASSERT_EQ(cat.inputs.size(), 3u);
  EXPECT_EQ(s.node(cat.inputs[0]).name, "a");
  EXPECT_EQ(s.node(cat.inputs[1]).name, "b");
  EXPECT_EQ(s.node(cat.inputs[2]).name, "c");
}

TEST_F(PassAlgebraicSimplification, AddsOverlappingPiecesAndKeepsZeroRuns) {
  NodeId a = input(g, "a", f32({2, 2}));
  NodeId b = input(g, "b", f32({2, 2}));
  Attrs axis0{{"axis", int64_t{0}}};
  NodeId pa = op(g, OpKind::Concat, {a, fill(g, 0, f32({1, 2})), fill(g, 0, f32({3, 2}))}, axis0);
  NodeId pb = op(g, OpKind::Concat, {b, fill(g, 0, f32({4, 2}))}, axis0);
  out(op(g, OpKind::Add, {pa, pb}));
  Graph s = simplified(g);
  const Node& cat = outputNode(s);
  ASSERT_EQ(cat.op, OpKind::Concat) << printGraph(s);
  ASSERT_EQ(cat.inputs.size(), 2u);
  EXPECT_EQ(s.node(cat.inputs[0]).op, OpKind::Add);
  EXPECT_EQ(s.type(cat.inputs[1]), f32({4, 2}));  // one run of zeros
}

TEST_F(PassAlgebraicSimplification, DoesNotCutNonzeroPieces) {
  NodeId a = input(g, "a", f32({4}));
  NodeId b = input(g, "b", f32({3}));
  NodeId pa = op(g, OpKind::Concat, {a, fill(g, 0, f32({1}))}, Attrs{{"axis", int64_t{0}}});
  NodeId pb = op(g, OpKind::Concat, {fill(g, 0, f32({2})), b}, Attrs{{"axis", int64_t{0}}});
  out(op(g, OpKind::Add, {pa, pb}));
  NodeId pc = op(g, OpKind::Concat, {a, a}, Attrs{{"axis", int64_t{0}}});
  out(op(g, OpKind::Add, {pc, input(g, "d", f32({2, 8}))}));  // broadcast: not a piece sum
  Graph s = simplified(g);
  EXPECT_EQ(countOps(s, OpKind::Add), 2) << printGraph(s);
}

TEST_F(PassAlgebraicSimplification, FoldsTransposedMatmulOperandsIntoFlags) {
  NodeId a = input(g, "a", f32({kBatch, 4}));
  NodeId w = param(g, "w", f32({3, 4}));
  NodeId wt = op(g, OpKind::Transpose, {w}, Attrs{{"perm", ints({1, 0})}});
  out(op(g, OpKind::MatMul, {a, wt}));  // a @ w^T
  NodeId b3 = input(g, "b3", f32({kBatch, 4, 5}));
  NodeId b3t = op(g, OpKind::Transpose, {b3}, Attrs{{"perm", ints({0, 2, 1})}});
  NodeId v = param(g, "v", f32({4, 2}));
  out(op(g, OpKind::MatMul, {b3t, v}, Attrs{{"transpose_b", int64_t{0}}}));
  Graph s = simplified(g);
  EXPECT_EQ(countOps(s, OpKind::Transpose), 0) << printGraph(s);
  EXPECT_EQ(outputNode(s, 0).attrs.getInt("transpose_b"), 1);
  EXPECT_EQ(outputNode(s, 1).attrs.getInt("transpose_a"), 1);
}

TEST_F(PassAlgebraicSimplification, LeavesOtherMatmulTransposesAlone) {
  NodeId b3 = input(g, "b3", f32({2, 4, 5}));
  NodeId t = op(g, OpKind::Transpose, {b3}, Attrs{{"perm", ints({1, 0, 2})}});  // not the last two
  NodeId v = param(g, "v", f32({5, 2}));
  out(op(g, OpKind::MatMul, {t, v}));
  Graph s = simplified(g);
  EXPECT_EQ(countOps(s, OpKind::Transpose), 1);
}

TEST_F(PassAlgebraicSimplification, SimplifiesChainsInOneSweep) {
  // ((x * 1) + 0) - neg(neg(row)) * 1  ->  x - row
  NodeId a = op(g, OpKind::Add, {op(g, OpKind::Mul, {x, one}), zero});
  NodeId b = op(g, OpKind::Mul, {op(g, OpKind::Neg, {op(g, OpKind::Neg, {row})}), one});
  out(op(g, OpKind::Sub, {a, b}));
  Graph s = simplified(g);
  EXPECT_EQ(countNonLeaves(s), 1) << printGraph(s);
  EXPECT_EQ(outputNode(s).op, OpKind::Sub);
}

TEST_F(PassAlgebraicSimplification, NeverChangesTheTypeOfRootsOrUpdates) {
  NodeId w = param(g, "w", f32({3}));
  NodeId big = fill(g, 0, f32({2, 3}));
  NodeId upd = op(g, OpKind::Sub, {w, op(g, OpKind::Mul, {row, one})});
  g.updates.push_back({w, upd});
  out(op(g, OpKind::Add, {w, big}));
  g.loss = op(g, OpKind::ReduceSum, {op(g, OpKind::Mul, {x, one})}, Attrs{{"axes", ints({0, 1})}, {"keepdims", int64_t{0}}});
  Graph s = simplified(g);
  EXPECT_EQ(s.type(s.updates[0].value), f32({3}));
  EXPECT_EQ(outputNode(s).type, f32({2, 3}));
  EXPECT_EQ(s.type(s.loss), f32({}));
}

}  // namespace
}  // namespace nnc
