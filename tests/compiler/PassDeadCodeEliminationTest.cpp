// Dead code elimination: dead computation and Constants go; roots and every leaf the
// runtime binds by name stay.
#include "PassTestUtil.h"
#include "compiler/passes/DeadCodeElimination.h"

namespace nnc {
namespace {

using namespace passtest;

TEST(PassDeadCodeElimination, RemovesComputationNoRootUses) {
  Graph g;
  NodeId x = input(g, "x", f32({kBatch, 4}));
  NodeId live = op(g, OpKind::Relu, {x});
  NodeId dead1 = op(g, OpKind::Exp, {x});
  op(g, OpKind::Neg, {dead1});  // dead chain
  g.outputs.push_back({"y", live});
  Graph out = runPass(g, eliminateDeadCode);
  EXPECT_EQ(out.size(), 2u);
  EXPECT_EQ(countOps(out, OpKind::Exp), 0);
  EXPECT_EQ(countOps(out, OpKind::Neg), 0);
  EXPECT_EQ(outputNode(out).op, OpKind::Relu);
}

TEST(PassDeadCodeElimination, KeepsUnusedParamsInputsStatesAndHypers) {
  Graph g;
  NodeId x = input(g, "x", f32({2}));
  input(g, "unused_input", f32({kBatch, 3}));
  param(g, "unused_param", f32({3, 3}));
  g.addLeaf(OpKind::State, "unused_state", f32({3}));
  g.addLeaf(OpKind::Hyper, "lr", f32({}));
  fill(g, 1.0, f32({3}));  // an unused Constant is dead
  g.outputs.push_back({"x", x});
  Graph out = runPass(g, eliminateDeadCode);
  EXPECT_EQ(out.size(), 5u);
  EXPECT_NE(out.findLeaf(OpKind::Input, "unused_input"), kNoNode);
  EXPECT_NE(out.findLeaf(OpKind::Param, "unused_param"), kNoNode);
  EXPECT_NE(out.findLeaf(OpKind::State, "unused_state"), kNoNode);
  EXPECT_NE(out.findLeaf(OpKind::Hyper, "lr"), kNoNode);
  EXPECT_EQ(countOps(out, OpKind::Constant), 0);
}

TEST(PassDeadCodeElimination, KeepsUpdatesAndTheLossEvenWhenNotOutputs) {
  Graph g;
  NodeId x = input(g, "x", f32({kBatch, 2}));
  NodeId w = param(g, "w", f32({2}));
  NodeId lr = fill(g, 0.1, f32({}));
  NodeId prod = op(g, OpKind::Mul, {x, w});
  NodeId loss = op(g, OpKind::ReduceMean, {prod}, Attrs{{"axes", std::vector<int64_t>{0, 1}}, {"keepdims", int64_t{0}}});
  NodeId newW = op(g, OpKind::Sub, {w, op(g, OpKind::Mul, {w, lr})});
  op(g, OpKind::Exp, {prod});  // dead
  g.updates.push_back({w, newW});
  g.loss = loss;
  Graph out = runPass(g, eliminateDeadCode);
  EXPECT_EQ(countOps(out, OpKind::Exp), 0);
  EXPECT_EQ(out.node(out.loss).op, OpKind::ReduceMean);
  ASSERT_EQ(out.updates.size(), 1u);
  EXPECT_EQ(out.node(out.updates[0].target).name, "w");
  EXPECT_EQ(out.node(out.updates[0].value).op, OpKind::Sub);
  EXPECT_EQ(countOps(out, OpKind::Constant), 1);  // the learning rate is used
}

TEST(PassDeadCodeElimination, KeepsNamesAndPositions) {
  Graph g;
  NodeId x = input(g, "x", f32({2}));
  Result<NodeId> h = g.add(OpKind::Tanh, {x}, {}, SourceLoc{4, 9}, "h1");
  ASSERT_TRUE(h.ok());
  op(g, OpKind::Exp, {x});
  g.outputs.push_back({"h", *h});
  Graph out = runPass(g, eliminateDeadCode);
  EXPECT_EQ(outputNode(out).name, "h1");
  EXPECT_EQ(outputNode(out).loc, (SourceLoc{4, 9}));
}

TEST(PassDeadCodeElimination, AGraphWithoutRootsKeepsOnlyItsBoundLeaves) {
  Graph g;
  NodeId x = input(g, "x", f32({2}));
  op(g, OpKind::Exp, {op(g, OpKind::Add, {x, fill(g, 1, f32({}))})});
  Graph out = runPass(g, eliminateDeadCode);
  EXPECT_EQ(out.size(), 1u);
}

}  // namespace
}  // namespace nnc
