// Common subexpression elimination: equal computations merge, leaves keep their identity.
#include "PassTestUtil.h"
#include "compiler/passes/CommonSubexpressionElimination.h"
#include "compiler/passes/DeadCodeElimination.h"

namespace nnc {
namespace {

using namespace passtest;

Result<Graph> cseThenDce(const Graph& g) {
  Result<Graph> r = eliminateCommonSubexpressions(g);
  if (!r) return r;
  return eliminateDeadCode(*r);
}

TEST(PassCommonSubexpressionElimination, MergesEqualComputationsTransitively) {
  Graph g;
  NodeId x = input(g, "x", f32({kBatch, 3}));
  NodeId y = input(g, "y", f32({3}));
  NodeId a1 = op(g, OpKind::Add, {x, y});
  NodeId a2 = op(g, OpKind::Add, {x, y});
  NodeId e1 = op(g, OpKind::Exp, {a1});
  NodeId e2 = op(g, OpKind::Exp, {a2});  // equal once a2 is merged into a1
  NodeId m = op(g, OpKind::Mul, {e1, e2});
  g.outputs.push_back({"m", m});
  g.outputs.push_back({"e2", e2});
  Graph out = runPass(g, cseThenDce);
  EXPECT_EQ(countOps(out, OpKind::Add), 1);
  EXPECT_EQ(countOps(out, OpKind::Exp), 1);
  const Node& mul = outputNode(out, 0);
  EXPECT_EQ(mul.inputs[0], mul.inputs[1]);
  EXPECT_EQ(out.outputs[1].node, mul.inputs[0]);
}

TEST(PassCommonSubexpressionElimination, KeepsOperandOrderAndAttributesApart) {
  Graph g;
  NodeId x = input(g, "x", f32({2, 2}));
  NodeId y = input(g, "y", f32({2, 2}));
  NodeId s1 = op(g, OpKind::Sub, {x, y});
  NodeId s2 = op(g, OpKind::Sub, {y, x});
  NodeId r1 = op(g, OpKind::ReduceSum, {x}, Attrs{{"axes", std::vector<int64_t>{0}}, {"keepdims", int64_t{1}}});
  NodeId r2 = op(g, OpKind::ReduceSum, {x}, Attrs{{"axes", std::vector<int64_t>{1}}, {"keepdims", int64_t{1}}});
  for (NodeId v : {s1, s2, r1, r2}) g.outputs.push_back({std::string("o").append(std::to_string(v)), v});
  Graph out = runPass(g, cseThenDce);
  EXPECT_EQ(countOps(out, OpKind::Sub), 2);
  EXPECT_EQ(countOps(out, OpKind::ReduceSum), 2);
}

TEST(PassCommonSubexpressionElimination, NeverMergesParamsInputsStatesOrHypers) {
  Graph g;
  NodeId w1 = param(g, "w1", f32({3}));
  NodeId w2 = param(g, "w2", f32({3}));
  NodeId s1 = g.addLeaf(OpKind::State, "s1", f32({3}));
  NodeId s2 = g.addLeaf(OpKind::State, "s2", f32({3}));
  NodeId h1 = g.addLeaf(OpKind::Hyper, "lr", f32({}));
  NodeId h2 = g.addLeaf(OpKind::Hyper, "step", f32({}));
  NodeId i1 = input(g, "a", f32({3}));
  NodeId i2 = input(g, "b", f32({3}));
  NodeId n1 = op(g, OpKind::Neg, {w1});
  NodeId n2 = op(g, OpKind::Neg, {w2});
  for (NodeId v : {n1, n2, s1, s2, h1, h2, i1, i2}) g.outputs.push_back({std::string("o").append(std::to_string(v)), v});
  Graph out = runPass(g, eliminateCommonSubexpressions);
  EXPECT_EQ(out.size(), g.size());
  EXPECT_EQ(countOps(out, OpKind::Neg), 2);
}

TEST(PassCommonSubexpressionElimination, MergesOnlyIdenticalConstants) {
  Graph g;
  NodeId x = input(g, "x", f32({3}));
  NodeId c1 = fill(g, 2.0, f32({}));
  NodeId c2 = fill(g, 2.0, f32({}));
  NodeId c3 = fill(g, 2.0, f32({3}));          // another type
  NodeId c4 = fill(g, 0.0, f32({}));
  NodeId c5 = fill(g, -0.0, f32({}));          // bitwise different
  NodeId c6 = g.addLeaf(OpKind::Constant, "", i32({}), Attrs{{"value", 2.0}});  // another dtype
  NodeId v1 = values(g, {1, 2, 3}, f32({3}));
  NodeId v2 = values(g, {1, 2, 3}, f32({3}));
  NodeId v3 = values(g, {1, 2, 4}, f32({3}));
  NodeId m1 = op(g, OpKind::Mul, {x, c1});
  NodeId m2 = op(g, OpKind::Mul, {x, c2});
  for (NodeId v : {m1, m2, c3, c4, c5, c6, v1, v2, v3}) g.outputs.push_back({std::string("o").append(std::to_string(v)), v});
  Graph out = runPass(g, cseThenDce);
  EXPECT_EQ(countOps(out, OpKind::Mul), 1);
  // c1 = c2, v1 = v2: 9 constants become 7.
  EXPECT_EQ(countOps(out, OpKind::Constant), 7);
  EXPECT_EQ(out.outputs[0].node, out.outputs[1].node);
  EXPECT_NE(out.outputs[3].node, out.outputs[4].node);  // 0.0 and -0.0
  EXPECT_EQ(out.outputs[6].node, out.outputs[7].node);
  EXPECT_NE(out.outputs[6].node, out.outputs[8].node);
}

TEST(PassCommonSubexpressionElimination, KeepsTheFirstNodesNameAndRemapsUpdates) {
  Graph g;
  NodeId w = param(g, "w", f32({3}));
  Result<NodeId> a = g.add(OpKind::Mul, {w, fill(g, 0.5, f32({}))}, {}, SourceLoc{2, 1}, "first");
  Result<NodeId> b = g.add(OpKind::Mul, {w, fill(g, 0.5, f32({}))}, {}, SourceLoc{3, 1}, "second");
  ASSERT_TRUE(a.ok() && b.ok());
  g.updates.push_back({w, *b});
  g.outputs.push_back({"a", *a});
  Graph out = runPass(g, cseThenDce);
  EXPECT_EQ(out.updates[0].value, out.outputs[0].node);
  EXPECT_EQ(outputNode(out).name, "first");
  EXPECT_EQ(outputNode(out).loc, (SourceLoc{2, 1}));
}

TEST(PassCommonSubexpressionElimination, MergesDropoutMasksOnlyWithTheSameSalt) {
  Graph g;
  NodeId x = input(g, "x", f32({kBatch, 4}));
  NodeId step = g.addLeaf(OpKind::Hyper, "step", f32({}));
  auto mask = [&](int64_t salt) {
    return op(g, OpKind::DropoutMask, {x, step}, Attrs{{"rate", 0.5}, {"seed", int64_t{1}}, {"salt", salt}});
  };
  NodeId m1 = mask(1), m2 = mask(1), m3 = mask(2);
  for (NodeId v : {m1, m2, m3}) g.outputs.push_back({std::string("o").append(std::to_string(v)), v});
  Graph out = runPass(g, cseThenDce);
  EXPECT_EQ(countOps(out, OpKind::DropoutMask), 2);
}

}  // namespace
}  // namespace nnc
