// IRBuilder::reduce (issue 14): a sum or mean over the batch and other axes of an image batch
// with few kept values becomes a per-sample reduction and one over the batch, with the same
// value; other reductions stay one node.
#include <gtest/gtest.h>

#include "compiler/autodiff/IRBuilder.h"
#include "compiler/interp/Interpreter.h"
#include "compiler/ir/TypedAttrs.h"
#include "tests/compiler/GradTestHelpers.h"

namespace nnc {
namespace {

using V = std::vector<int64_t>;

TEST(SplitBatchReduction, PerSampleThenOverTheBatchWithTheSameValue) {
  for (OpKind kind : {OpKind::ReduceSum, OpKind::ReduceMean}) {
    Graph g;
    NodeId x = g.addLeaf(OpKind::Input, "x", TensorType{DType::F32, Shape{kBatch, 6, 6, 7}});
    IRBuilder b(g);
    NodeId split = b.reduce(kind, x, {0, 1, 2}, false);
    NodeId whole = b.op(kind, {x}, AxesAttr{{0, 1, 2}, false}.attrs());
    ASSERT_FALSE(b.failed());
    // The split: its operand is the per-sample reduction over axes 1 and 2.
    const Node& total = g.node(split);
    ASSERT_EQ(total.op, kind);
    EXPECT_EQ(AxesAttr::of(total).axes, V{0});
    const Node& perSample = g.node(total.inputs[0]);
    EXPECT_EQ(perSample.op, kind);
    EXPECT_EQ(perSample.inputs[0], x);
    EXPECT_EQ(AxesAttr::of(perSample).axes, (V{1, 2}));
    EXPECT_EQ(g.type(split), g.type(whole));
    std::mt19937_64 rng(3);
    for (int64_t batch : {1, 6}) {
      LeafValues leaves;
      leaves[x] = testing::randomTensor(Shape{kBatch, 6, 6, 7}, batch, rng, -2, 3);
      auto r = interpret(g, leaves, {split, whole}, Precision::F64);
      ASSERT_TRUE(r.ok()) << r.error().message;
      for (size_t i = 0; i < (*r)[1].data.size(); ++i) EXPECT_NEAR((*r)[0].data[i], (*r)[1].data[i], 1e-12);
    }
  }
}

TEST(SplitBatchReduction, OnlyWhereTheSamplesAreTheBetterSplit) {
  Graph g;
  IRBuilder b(g);
  auto nodesFor = [&](Shape s, V axes, bool keepdims) {
    NodeId x = g.addLeaf(OpKind::Input, "x" + std::to_string(g.size()), TensorType{DType::F32, s});
    size_t before = g.size();
    b.reduce(OpKind::ReduceSum, x, axes, keepdims);
    return g.size() - before;
  };
  EXPECT_EQ(nodesFor(Shape{kBatch, 8, 8, 16}, {0, 1, 2}, false), 2u);
  EXPECT_EQ(nodesFor(Shape{kBatch, 8, 8, 16}, {0, 1, 2}, true), 1u);       // keepdims
  EXPECT_EQ(nodesFor(Shape{kBatch, 8, 8, 16}, {1, 2}, false), 1u);         // not over the batch
  EXPECT_EQ(nodesFor(Shape{kBatch, 16}, {0}, false), 1u);                  // nothing per sample
  EXPECT_EQ(nodesFor(Shape{kBatch, 2, 3}, {0, 1}, false), 1u);             // 2 values per sample
  EXPECT_EQ(nodesFor(Shape{kBatch, 12, 32}, {0, 1}, false), 1u);           // 12 values per sample
  EXPECT_EQ(nodesFor(Shape{kBatch, 8, 8192}, {0, 1}, false), 1u);          // many kept values
  EXPECT_FALSE(b.failed());
}

}  // namespace
}  // namespace nnc
