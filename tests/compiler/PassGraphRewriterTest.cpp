// The shared rebuild mechanism: copying, remapping roots, the type invariant, dropped values,
// name and position inheritance, and the structural keys CSE and the pipeline rely on.
#include "PassTestUtil.h"
#include "compiler/passes/GraphRewriter.h"

namespace nnc {
namespace {

using namespace passtest;

Graph smallGraph() {
  Graph g;
  g.name = "small";
  NodeId x = input(g, "x", f32({kBatch, 3}));
  NodeId w = param(g, "w", f32({3}));
  NodeId y = op(g, OpKind::Mul, {x, w});
  NodeId z = op(g, OpKind::ReduceSum, {y}, Attrs{{"axes", std::vector<int64_t>{0, 1}}, {"keepdims", int64_t{0}}});
  g.outputs.push_back({"y", y});
  g.updates.push_back({w, w});
  g.loss = z;
  return g;
}

TEST(PassGraphRewriter, CopyingEveryNodeGivesTheSameGraph) {
  Graph g = smallGraph();
  GraphRewriter rw(g, "copy");
  Graph out = runPass(g, [&](const Graph&) { return rw.run([](GraphRewriter& r, NodeId id) { return r.copy(id); }); });
  EXPECT_TRUE(sameStructure(g, out));
  EXPECT_EQ(printGraph(g), printGraph(out));
}

TEST(PassGraphRewriter, ReplacingByAValueOfAnotherTypeIsAnError) {
  Graph g = smallGraph();
  GraphRewriter rw(g, "bad-pass");
  Result<Graph> r = rw.run([](GraphRewriter& rr, NodeId id) {
    // Replace the multiplication by its [3] operand: the type would change.
    if (rr.source().node(id).op == OpKind::Mul) return rr.mapped(rr.source().node(id).inputs[1]);
    return rr.copy(id);
  });
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("bad-pass"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("f32[3]"), std::string::npos) << r.error().message;
}

TEST(PassGraphRewriter, DroppingAUsedNodeIsAnError) {
  Graph g = smallGraph();
  GraphRewriter rw(g, "dropper");
  Result<Graph> r = rw.run([](GraphRewriter& rr, NodeId id) {
    return rr.source().node(id).op == OpKind::Mul ? kNoNode : rr.copy(id);
  });
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("dropped"), std::string::npos) << r.error().message;
}

TEST(PassGraphRewriter, DroppingAnOutputIsAnError) {
  Graph g;
  NodeId x = input(g, "x", f32({2}));
  NodeId y = op(g, OpKind::Neg, {x});
  g.outputs.push_back({"y", y});
  GraphRewriter rw(g, "dropper");
  Result<Graph> r = rw.run([](GraphRewriter& rr, NodeId id) { return rr.source().node(id).op == OpKind::Neg ? kNoNode : rr.copy(id); });
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("output 'y'"), std::string::npos) << r.error().message;
}

TEST(PassGraphRewriter, EmitRefusesOpsWhoseTypeDiffersFromTheExpectedOne) {
  Graph g = smallGraph();
  GraphRewriter rw(g, "emit");
  NodeId refused = kNoNode, accepted = kNoNode, illTyped = kNoNode;
  Result<Graph> r = rw.run([&](GraphRewriter& rr, NodeId id) {
    NodeId v = rr.copy(id);
    if (rr.source().node(id).op == OpKind::Mul) {
      refused = rr.emit(OpKind::Neg, {v}, {}, f32({3}));
      accepted = rr.emit(OpKind::Neg, {v}, {}, f32({kBatch, 3}));
      illTyped = rr.emit(OpKind::MatMul, {v, v});
    }
    return v;
  });
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(refused, kNoNode);
  EXPECT_EQ(illTyped, kNoNode);
  EXPECT_NE(accepted, kNoNode);
}

TEST(PassGraphRewriter, ReplacementsInheritTheNameAndPositionOfWhatTheyReplace) {
  Graph g;
  NodeId x = input(g, "x", f32({2}));
  NodeId a = op(g, OpKind::Exp, {x});  // unnamed
  Result<NodeId> b = g.add(OpKind::Neg, {a}, {}, SourceLoc{7, 3}, "logits");
  ASSERT_TRUE(b.ok());
  g.outputs.push_back({"out", *b});
  GraphRewriter rw(g, "rename");
  Result<Graph> r = rw.run([](GraphRewriter& rr, NodeId id) {
    const Node& n = rr.source().node(id);
    if (n.op == OpKind::Neg) return rr.emit(OpKind::Abs, {rr.mapped(n.inputs[0])});
    return rr.copy(id);
  });
  ASSERT_TRUE(r.ok()) << r.error().message;
  const Node& out = outputNode(*r);
  EXPECT_EQ(out.op, OpKind::Abs);
  EXPECT_EQ(out.name, "logits");
  EXPECT_EQ(out.loc, (SourceLoc{7, 3}));
  // Replaced by an existing unnamed value: that value takes over the label.
  GraphRewriter rw2(g, "to-exp");
  Result<Graph> r2 = rw2.run([](GraphRewriter& rr, NodeId id) {
    return rr.source().node(id).op == OpKind::Neg ? rr.mapped(rr.source().node(id).inputs[0]) : rr.copy(id);
  });
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(outputNode(*r2).op, OpKind::Exp);
  EXPECT_EQ(outputNode(*r2).name, "logits");
}

TEST(PassGraphRewriter, ALeafKeepsItsNameWhenItReplacesANode) {
  Graph g;
  NodeId x = input(g, "x", f32({2}));
  Result<NodeId> y = g.add(OpKind::Neg, {x}, {}, {}, "label");
  ASSERT_TRUE(y.ok());
  g.outputs.push_back({"y", *y});
  GraphRewriter rw(g, "to-leaf");
  Result<Graph> r = rw.run([](GraphRewriter& rr, NodeId id) {
    return rr.source().node(id).op == OpKind::Neg ? rr.mapped(rr.source().node(id).inputs[0]) : rr.copy(id);
  });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(outputNode(*r).op, OpKind::Input);
  EXPECT_EQ(outputNode(*r).name, "x");
}

TEST(PassGraphRewriter, ComputationsCompareFloatsByTheirBits) {
  Attrs zero{{"value", 0.0}}, negZero{{"value", -0.0}}, nan{{"value", std::nan("")}};
  Attrs list{{"values", std::vector<double>{1, std::nan("")}}}, list2{{"values", std::vector<double>{1, 2}}};
  TensorType t = f32({}), t1 = f32({1});
  std::vector<NodeId> none, ab{1, 2}, ba{2, 1};
  auto same = [](Computation a, Computation b) {
    bool s = sameComputation(a, b);
    if (s) {
      EXPECT_EQ(hashComputation(a), hashComputation(b));
    }
    return s;
  };
  EXPECT_FALSE(same({OpKind::Constant, none, zero, t}, {OpKind::Constant, none, negZero, t}));
  EXPECT_TRUE(same({OpKind::Constant, none, nan, t}, {OpKind::Constant, none, nan, t}));
  EXPECT_TRUE(same({OpKind::Constant, none, list, t}, {OpKind::Constant, none, list, t}));
  EXPECT_FALSE(same({OpKind::Constant, none, list, t}, {OpKind::Constant, none, list2, t}));
  EXPECT_FALSE(same({OpKind::Constant, none, zero, t}, {OpKind::Constant, none, zero, t1}));
  EXPECT_FALSE(same({OpKind::Add, ab, {}, t}, {OpKind::Add, ba, {}, t}));
  EXPECT_FALSE(same({OpKind::Add, ab, {}, t}, {OpKind::Sub, ab, {}, t}));
  EXPECT_TRUE(same({OpKind::Add, ab, {}, t}, {OpKind::Add, ab, {}, t}));
}

TEST(PassGraphRewriter, SameStructureTellsLeavesApartByName) {
  Graph a, b;
  param(a, "w1", f32({2}));
  param(b, "w2", f32({2}));
  EXPECT_FALSE(sameStructure(a, b));
  Graph c = a;
  c.outputs.push_back({"w", 0});
  EXPECT_FALSE(sameStructure(a, c));
  EXPECT_TRUE(sameStructure(a, a));
}

}  // namespace
}  // namespace nnc
