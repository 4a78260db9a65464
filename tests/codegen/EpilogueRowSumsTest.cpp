// Row sums in a convolution's epilogue (issue 14, EpilogueRowSums.h): a sum or mean over the
// non-channel axes of a value computed from a direct forward convolution's output becomes a
// sum along each output row, computed by the convolution as it writes the row, and then a
// small sum of the row sums, with NNC_FUSE_ROW_SUMS=1 (both the graph's form and
// LoweringOptions::fuseRowSums; by default neither). Checked here: the graph IRBuilder::reduce writes, the kernels
// the partitioner makes of it, and the numbers against the interpreter, bit-identical on 1
// and 2 threads, at shapes with border blocks, interior loops, a narrow last vector of
// channels, padding wider than the kernel, and a stride.
#include <gtest/gtest.h>

#include <cstdlib>

#include "compiler/autodiff/IRBuilder.h"
#include "compiler/ir/EpilogueRowSums.h"
#include "compiler/ir/TypedAttrs.h"
#include "tests/codegen/CodegenTestUtil.h"

namespace nnc {
namespace {

using namespace nnc::testing;

// NNC_FUSE_ROW_SUMS=1 while the scope lives (graphs built and compiled in it have row sums).
struct RowSumsOn {
  RowSumsOn() { setenv("NNC_FUSE_ROW_SUMS", "1", 1); }
  ~RowSumsOn() { unsetenv("NNC_FUSE_ROW_SUMS"); }
};

struct RowSumCase {
  int64_t h, w, c, f, k, pad, stride;
};

std::string describeRowSumCase(const RowSumCase& cs) {
  return std::to_string(cs.h) + "x" + std::to_string(cs.w) + "x" + std::to_string(cs.c) + " -> " + std::to_string(cs.f) +
         ", kernel " + std::to_string(cs.k) + ", pad " + std::to_string(cs.pad) + ", stride " + std::to_string(cs.stride);
}

// d = conv(x) + bias - shift; outputs d, mean(d) and sum(d^2) over every axis but the channels.
Graph rowSumGraph(const RowSumCase& cs, NodeId* meanOut = nullptr) {
  Graph g;
  IRBuilder b(g);
  Attrs geo{{"strides", std::vector<int64_t>{cs.stride, cs.stride}},
            {"pads", std::vector<int64_t>{cs.pad, cs.pad, cs.pad, cs.pad}}};
  NodeId x = input(g, "x", DType::F32, {kBatch, cs.h, cs.w, cs.c});
  NodeId w = param(g, "w", {cs.k, cs.k, cs.c, cs.f});
  NodeId bias = param(g, "bias", {cs.f});
  NodeId shift = param(g, "shift", {cs.f});
  NodeId d = b.sub(b.add(op(g, OpKind::Conv2D, {x, w}, geo), bias), shift);
  NodeId mean = b.reduce(OpKind::ReduceMean, d, {0, 1, 2}, false);
  NodeId squares = b.reduce(OpKind::ReduceSum, b.square(d), {0, 1, 2}, false);
  g.outputs.push_back({"d", d});
  g.outputs.push_back({"mean", mean});
  g.outputs.push_back({"squares", squares});
  if (meanOut) *meanOut = mean;
  return g;
}

TEST(EpilogueRowSums, ReductionOfAConvolutionsValueSumsRowsFirst) {
  RowSumsOn on;
  NodeId mean = kNoNode;
  Graph g = rowSumGraph({6, 7, 3, 9, 3, 1, 1}, &mean);
  // mean(d, {0, 1, 2}) = mean(mean(d, {2}), {0, 1}).
  const Node& outer = g.node(mean);
  EXPECT_EQ(AxesAttr::of(outer).axes, (std::vector<int64_t>{0, 1}));
  const Node& rows = g.node(outer.inputs[0]);
  EXPECT_EQ(rows.op, OpKind::ReduceMean);
  EXPECT_TRUE(isEpilogueRowSum(g, rows, g.type(rows.inputs[0]).shape));
}

// Without NNC_FUSE_ROW_SUMS=1 the graph is the one without row sums: one per-sample sum.
TEST(EpilogueRowSums, OffByDefault) {
  NodeId mean = kNoNode;
  Graph g = rowSumGraph({6, 7, 3, 9, 3, 1, 1}, &mean);
  const Node& outer = g.node(mean);
  EXPECT_EQ(AxesAttr::of(outer).axes, (std::vector<int64_t>{0}));
  const Node& perSample = g.node(outer.inputs[0]);
  EXPECT_EQ(AxesAttr::of(perSample).axes, (std::vector<int64_t>{1, 2}));
  EXPECT_FALSE(isEpilogueRowSum(g, perSample, g.type(perSample.inputs[0]).shape));
  EXPECT_FALSE(epilogueRowSumsWanted());
}

TEST(EpilogueRowSums, OtherReductionsAreNotSplitByRows) {
  RowSumsOn on;
  Graph g;
  IRBuilder b(g);
  Attrs geo{{"strides", std::vector<int64_t>{1, 1}}, {"pads", std::vector<int64_t>{1, 1, 1, 1}}};
  NodeId x = input(g, "x", DType::F32, {kBatch, 6, 7, 3});
  NodeId dy = input(g, "dy", DType::F32, {kBatch, 6, 7, 4});
  NodeId y = op(g, OpKind::Conv2D, {x, param(g, "w", {3, 3, 3, 4})}, geo);
  // Another full-size tensor (a gradient) in the value: no epilogue computes it.
  NodeId mixed = b.reduce(OpKind::ReduceSum, b.mul(y, dy), {0, 1, 2}, false);
  // Over the channels: not a row sum.
  NodeId channels = b.reduce(OpKind::ReduceSum, y, {3}, false);
  // A grouped convolution has an emitter of its own, without row sums.
  Attrs grouped = geo;
  grouped.set("groups", int64_t{3});
  NodeId gy = op(g, OpKind::Conv2D, {x, param(g, "wg", {3, 3, 1, 6})}, grouped);
  NodeId groupedSum = b.reduce(OpKind::ReduceSum, gy, {0, 1, 2}, false);
  for (NodeId r : {mixed, channels, groupedSum}) {
    const Node& n = g.node(r);
    NodeId operand = n.inputs[0];
    // The row sum, when there is one, is the operand of the outer reduction (or of the batch one).
    while (g.node(operand).op == OpKind::ReduceSum) {
      EXPECT_FALSE(isEpilogueRowSum(g, g.node(operand), g.type(g.node(operand).inputs[0]).shape));
      operand = g.node(operand).inputs[0];
    }
    EXPECT_FALSE(isEpilogueRowSum(g, n, g.type(n.inputs[0]).shape));
  }
}

// Row sums fused (LoweringOptions::fuseRowSums, NNC_FUSE_ROW_SUMS=1; off by default).
LoweredGraph lowerWithRowSums(const Graph& g, bool fuse) {
  auto layout = StateLayout::build({&g});
  EXPECT_TRUE(layout.ok());
  LoweringOptions o;
  o.fuseRowSums = fuse;
  auto lg = lowerGraph(g, *layout, o);
  EXPECT_TRUE(lg.ok()) << (lg.ok() ? "" : lg.error().message);
  return lg.ok() ? std::move(*lg) : LoweredGraph{};
}

TEST(EpilogueRowSums, TheConvolutionComputesTheRowSums) {
  RowSumsOn on;
  Graph g = rowSumGraph({6, 7, 3, 9, 3, 1, 1});
  LoweredGraph lg = lowerWithRowSums(g, true);
  int convKernels = 0, rowSums = 0;
  for (const Kernel& k : lg.kernels) {
    if (g.node(k.root).op != OpKind::Conv2D) continue;
    ++convKernels;
    EXPECT_FALSE(k.epilogue.empty()) << describeKernels(lg);
    for (NodeId f : k.fused) rowSums += isEpilogueRowSum(g, g.node(f), g.node(k.root).type.shape);
  }
  EXPECT_EQ(convKernels, 1) << describeKernels(lg);
  EXPECT_EQ(rowSums, 2) << describeKernels(lg);
  // Nothing else reads d: d is written once, by the convolution.
  for (const Kernel& k : lg.kernels)
    for (NodeId r : k.reads) EXPECT_NE(r, g.outputs[0].node) << describeKernels(lg);
}

TEST(EpilogueRowSums, MatchTheInterpreterBitIdenticalOnOneAndTwoThreads) {
  for (const RowSumCase& cs : {RowSumCase{9, 23, 5, 21, 3, 1, 1}, RowSumCase{6, 7, 3, 9, 2, 3, 1},
                               RowSumCase{14, 14, 8, 32, 3, 1, 1}, RowSumCase{11, 13, 4, 7, 3, 0, 2}}) {
    SCOPED_TRACE(describeRowSumCase(cs));
    RowSumsOn on;
    Graph g = rowSumGraph(cs);
    MatchOptions o = convolutionMatchOptions();
    expectMatchesInterpreter(g, o);
  }
}

// The graph's row sums without LoweringOptions::fuseRowSums are a reduce kernel of their
// own, which reads d, and the numbers match too.
TEST(EpilogueRowSums, UnfusedRowSumsAreAKernelOfTheirOwn) {
  Graph g, numbers;
  {
    RowSumsOn on;
    g = rowSumGraph({6, 7, 3, 9, 3, 1, 1});
    numbers = rowSumGraph({9, 23, 5, 21, 3, 1, 1});
  }
  LoweredGraph unfused = lowerWithRowSums(g, false);
  const LoweredGraph* lg = &unfused;
  int rowSumKernels = 0;
  for (const Kernel& k : lg->kernels) {
    if (g.node(k.root).op == OpKind::Conv2D) {
      EXPECT_TRUE(k.fused.empty()) << describeKernels(*lg);
    }
    const Node& root = g.node(k.root);
    rowSumKernels += loweringKind(root.op) == LoweringKind::Reduce && isEpilogueRowSum(g, root, g.type(root.inputs[0]).shape);
  }
  EXPECT_EQ(rowSumKernels, 1) << describeKernels(*lg);
  MatchOptions o = convolutionMatchOptions();
  expectMatchesInterpreter(numbers, o);  // compiled without NNC_FUSE_ROW_SUMS: not fused
}

}  // namespace
}  // namespace nnc
