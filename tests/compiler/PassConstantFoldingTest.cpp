// Constant folding: what folds (and to which values), and what must not.
#include "PassTestUtil.h"
#include "compiler/passes/ConstantFolding.h"
#include "compiler/passes/ConstantValues.h"
#include "compiler/passes/DeadCodeElimination.h"

namespace nnc {
namespace {

using namespace passtest;


Result<Graph> foldThenDce(const Graph& g) {
  Result<Graph> r = foldConstants(g);
  if (!r) return r;
  return eliminateDeadCode(*r);
}

// The single output of `g` after folding, which must be a Constant.
Node foldedOutput(const Graph& g) {
  Graph out = runPass(g, foldThenDce);
  EXPECT_EQ(outputNode(out).op, OpKind::Constant) << printGraph(out);
  return outputNode(out);
}

TEST(PassConstantFolding, FoldsScalarArithmetic) {
  Graph g;
  NodeId s = op(g, OpKind::Add, {fill(g, 2, f32({})), fill(g, 3, f32({}))});
  NodeId p = op(g, OpKind::Mul, {s, fill(g, 4, f32({}))});
  g.outputs.push_back({"p", p});
  Node c = foldedOutput(g);
  EXPECT_EQ(c.type, f32({}));
  EXPECT_EQ(constantFill(c), 20.0);
}

TEST(PassConstantFolding, RoundsToF32LikeCompiledCode) {
  Graph g;
  NodeId d = op(g, OpKind::Sub, {fill(g, 1.0, f32({})), fill(g, 0.9, f32({}))});
  g.outputs.push_back({"d", d});
  Node c = foldedOutput(g);
  EXPECT_EQ(*constantFill(c), static_cast<double>(1.0f - 0.9f));
}

TEST(PassConstantFolding, FoldsSmallTensorsElementByElement) {
  Graph g;
  NodeId a = values(g, {1, 2, 3, 4, 5, 6}, f32({2, 3}));
  NodeId t = op(g, OpKind::Transpose, {a}, Attrs{{"perm", std::vector<int64_t>{1, 0}}});
  NodeId n = op(g, OpKind::Neg, {t});
  g.outputs.push_back({"n", n});
  Node c = foldedOutput(g);
  EXPECT_EQ(c.type, f32({3, 2}));
  EXPECT_EQ(c.attrs.getFloats("values"), (std::vector<double>{-1, -4, -2, -5, -3, -6}));
}

TEST(PassConstantFolding, FoldsFillsOfAnySizeWithoutMaterialisingThem) {
  Graph g;
  // 4M elements each: far beyond what is evaluated element by element.
  NodeId a = fill(g, 2, f32({2048, 2048}));
  NodeId b = fill(g, 3, f32({2048, 2048}));
  NodeId m = op(g, OpKind::Mul, {a, b});
  NodeId r = op(g, OpKind::Reshape, {m}, Attrs{{"shape", std::vector<int64_t>{4096, 1024}}});
  NodeId s = op(g, OpKind::ReduceSum, {r}, Attrs{{"axes", std::vector<int64_t>{0}}, {"keepdims", int64_t{0}}});
  g.outputs.push_back({"s", s});
  Node c = foldedOutput(g);
  EXPECT_EQ(c.type, f32({1024}));
  EXPECT_EQ(constantFill(c), 6.0 * 4096);
  EXPECT_FALSE(c.attrs.has("values"));
}

TEST(PassConstantFolding, FoldsMeanAndMaxOfFills) {
  Graph g;
  NodeId a = fill(g, 0.25, f32({30, 40}));
  NodeId mean = op(g, OpKind::ReduceMean, {a}, Attrs{{"axes", std::vector<int64_t>{1}}, {"keepdims", int64_t{1}}});
  NodeId mx = op(g, OpKind::ReduceMax, {mean}, Attrs{{"axes", std::vector<int64_t>{0}}, {"keepdims", int64_t{0}}});
  g.outputs.push_back({"mx", mx});
  Node c = foldedOutput(g);
  EXPECT_EQ(c.type, f32({1}));
  EXPECT_EQ(constantFill(c), 0.25);
}

TEST(PassConstantFolding, DoesNotMaterialiseLargeResults) {
  Graph g;
  std::vector<double> v(100 * 100);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(i % 7);
  NodeId a = values(g, v, f32({100, 100}));
  NodeId m = op(g, OpKind::MatMul, {a, a});  // 10000 elements > 4096
  NodeId s = op(g, OpKind::ReduceSum, {a}, Attrs{{"axes", std::vector<int64_t>{0}}, {"keepdims", int64_t{0}}});
  g.outputs.push_back({"m", m});
  g.outputs.push_back({"s", s});  // 100 elements: folds
  Graph out = runPass(g, foldThenDce);
  EXPECT_EQ(outputNode(out, 0).op, OpKind::MatMul);
  EXPECT_EQ(outputNode(out, 1).op, OpKind::Constant);
  EXPECT_EQ(outputNode(out, 1).attrs.getFloats("values").size(), 100u);
  PassOptions bigger;
  bigger.maxFoldedElements = 10000;
  Graph out2 = runPass(g, [&](const Graph& x) { return foldConstants(x, bigger); });
  EXPECT_EQ(outputNode(out2, 0).op, OpKind::Constant);
}

TEST(PassConstantFolding, BoundsTheWorkOfFolding) {
  Graph g;
  NodeId a = values(g, {1, 2, 3, 4, 5, 6}, f32({2, 3}));
  NodeId b = values(g, {1, 0, 0, 1, 1, 1}, f32({3, 2}));
  NodeId m = op(g, OpKind::MatMul, {a, b});
  NodeId img = values(g, std::vector<double>(16, 1.5), f32({1, 4, 4, 1}));
  NodeId w = values(g, {1, 2, 3, 4}, f32({2, 2, 1, 1}));
  NodeId c = op(g, OpKind::Conv2D, {img, w}, Attrs{{"strides", ints({1, 1})}, {"pads", ints({0, 0, 0, 0})}});
  g.outputs.push_back({"m", m});
  g.outputs.push_back({"c", c});
  Graph out = runPass(g, foldThenDce);
  EXPECT_EQ(outputNode(out, 0).op, OpKind::Constant);
  EXPECT_EQ(outputNode(out, 0).attrs.getFloats("values"), (std::vector<double>{4, 5, 10, 11}));
  EXPECT_EQ(outputNode(out, 1).op, OpKind::Conv2D);  // never folded: its work is not linear
  PassOptions tight;
  tight.maxFoldWork = 10;
  Graph out2 = runPass(g, [&](const Graph& x) { return foldConstants(x, tight); });
  EXPECT_EQ(outputNode(out2, 0).op, OpKind::MatMul);
}

TEST(PassConstantFolding, DoesNotFoldWhatDependsOnLeavesBoundAtRunTime) {
  Graph g;
  NodeId w = param(g, "w", f32({3}));
  NodeId lr = g.addLeaf(OpKind::Hyper, "lr", f32({}));
  NodeId a = op(g, OpKind::Mul, {w, fill(g, 2, f32({}))});
  NodeId b = op(g, OpKind::Mul, {lr, fill(g, 2, f32({}))});
  g.outputs.push_back({"a", a});
  g.outputs.push_back({"b", b});
  Graph out = runPass(g, foldThenDce);
  EXPECT_EQ(countOps(out, OpKind::Mul), 2);
}

TEST(PassConstantFolding, NeverFoldsBatchedResults) {
  Graph g;
  NodeId b = op(g, OpKind::BroadcastTo, {fill(g, 1, f32({}))}, Attrs{{"shape", std::vector<int64_t>{kBatch, 3}}});
  NodeId n = op(g, OpKind::Neg, {b});
  g.outputs.push_back({"n", n});
  Graph out = runPass(g, foldThenDce);
  EXPECT_EQ(outputNode(out).op, OpKind::Neg);
  EXPECT_EQ(countOps(out, OpKind::BroadcastTo), 1);
}

TEST(PassConstantFolding, FoldsStaticElementCountsOnly) {
  Graph g;
  NodeId x = input(g, "x", f32({kBatch, 5, 7}));
  NodeId fixed = op(g, OpKind::ElementCount, {x}, Attrs{{"axes", std::vector<int64_t>{1, 2}}});
  NodeId dynamic = op(g, OpKind::ElementCount, {x}, Attrs{{"axes", std::vector<int64_t>{0, 1}}});
  g.outputs.push_back({"fixed", fixed});
  g.outputs.push_back({"dynamic", dynamic});
  Graph out = runPass(g, foldThenDce);
  EXPECT_EQ(constantFill(outputNode(out, 0)), 35.0);
  EXPECT_EQ(outputNode(out, 1).op, OpKind::ElementCount);
}

TEST(PassConstantFolding, FoldsIntegerOps) {
  Graph g;
  NodeId a = g.addLeaf(OpKind::Constant, "", i32({3}), Attrs{{"values", std::vector<double>{0, 2, 1}}});
  NodeId h = op(g, OpKind::OneHot, {a}, Attrs{{"depth", int64_t{3}}});
  NodeId c = op(g, OpKind::Cast, {fill(g, 2.75, f32({2}))}, Attrs{{"dtype", std::string("i32")}});
  g.outputs.push_back({"h", h});
  g.outputs.push_back({"c", c});
  Graph out = runPass(g, foldThenDce);
  EXPECT_EQ(outputNode(out, 0).attrs.getFloats("values"), (std::vector<double>{1, 0, 0, 0, 0, 1, 0, 1, 0}));
  EXPECT_EQ(outputNode(out, 1).type, i32({2}));
  EXPECT_EQ(constantFill(outputNode(out, 1)), 2.0);
}

TEST(PassConstantFolding, KeepsNaNAndInfinityResults) {
  Graph g;
  NodeId inf = op(g, OpKind::Div, {fill(g, 1, f32({})), fill(g, 0, f32({}))});
  NodeId nan = op(g, OpKind::Log, {fill(g, -1, f32({}))});
  g.outputs.push_back({"inf", inf});
  g.outputs.push_back({"nan", nan});
  Graph out = runPass(g, foldThenDce);
  EXPECT_TRUE(std::isinf(*constantFill(outputNode(out, 0))));
  EXPECT_TRUE(std::isnan(*constantFill(outputNode(out, 1))));
}

TEST(PassConstantFolding, GivesFoldedValuesTheirNodesNameAndPosition) {
  Graph g;
  Result<NodeId> s = g.add(OpKind::Add, {fill(g, 2, f32({})), fill(g, 3, f32({}))}, {}, SourceLoc{5, 2}, "five");
  ASSERT_TRUE(s.ok());
  g.outputs.push_back({"s", *s});
  Node c = foldedOutput(g);
  EXPECT_EQ(c.name, "five");
  EXPECT_EQ(c.loc, (SourceLoc{5, 2}));
}

TEST(PassConstantFolding, FoldedGraphsComputeTheSameValues) {
  Graph g;
  NodeId x = input(g, "x", f32({kBatch, 3}));
  NodeId k = values(g, {0.5, -1.5, 2.25}, f32({3}));
  NodeId e = op(g, OpKind::Exp, {k});
  NodeId sm = op(g, OpKind::Softmax, {e}, Attrs{{"axis", int64_t{0}}});
  NodeId y = op(g, OpKind::Mul, {x, sm});
  NodeId z = op(g, OpKind::Add, {y, op(g, OpKind::Sqrt, {fill(g, 2, f32({3}))})});
  g.outputs.push_back({"z", z});
  Graph out = runPass(g, foldThenDce);
  EXPECT_EQ(countOps(out, OpKind::Exp) + countOps(out, OpKind::Softmax) + countOps(out, OpKind::Sqrt), 0);
  expectSameValues(g, out, randomLeafValues(g, 2, 1));
}

}  // namespace
}  // namespace nnc
