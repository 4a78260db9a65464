// Multi-output reduce kernels (issue 14, SiblingReductions.h): sums and means over the same
// operand space and axes that share a value of it become one kernel, which reads that value
// once; reductions of unrelated tensors, maxima, and a sum that another one depends on stay
// kernels of their own. A reduction that keeps the samples also stores the producers it
// computes that others read. Checked structurally and against the interpreter, on 1 and 2
// threads with bit-identical results.
#include <gtest/gtest.h>

#include <algorithm>

#include "compiler/ir/TypedAttrs.h"
#include "compiler/lowering/Lowering.h"
#include "tests/codegen/CodegenTestUtil.h"

namespace nnc {
namespace {

using namespace nnc::testing;

// The reductions a kernel computes: its root and its Reduce members.
std::vector<NodeId> siblingTestReductions(const LoweredGraph& lg, const Kernel& k) {
  std::vector<NodeId> r;
  if (loweringKind(lg.graph->node(k.root).op) == LoweringKind::Reduce) r.push_back(k.root);
  for (NodeId f : k.fused)
    if (loweringKind(lg.graph->node(f).op) == LoweringKind::Reduce) r.push_back(f);
  std::sort(r.begin(), r.end());
  return r;
}

const Kernel* siblingTestKernel(const LoweredGraph& lg, NodeId n) {
  int k = lg.kernelOf[static_cast<size_t>(n)];
  return k < 0 ? nullptr : &lg.kernels[static_cast<size_t>(k)];
}

Attrs siblingTestAxes(bool keepdims = false) { return AxesAttr{{1, 2}, keepdims}.attrs(); }

struct SiblingTestGraph {
  Graph g;
  NodeId sumX, meanXY, sumExpY, sumZ, maxX, first, second;
};

// Over [batch, 6, 6, 12]: sum(x), mean(x * y) and sum(exp(y)) share x or y; sum(z) shares
// nothing; max(x) is no sum; second = sum((x - first)^2) needs first = sum(x) (keepdims).
void buildSiblingTestGraph(SiblingTestGraph& s) {
  Graph& g = s.g;
  const std::vector<int64_t> dims{kBatch, 6, 6, 12};
  NodeId x = input(g, "x", DType::F32, dims), y = input(g, "y", DType::F32, dims), z = input(g, "z", DType::F32, dims);
  s.sumX = op(g, OpKind::ReduceSum, {x}, siblingTestAxes());
  s.meanXY = op(g, OpKind::ReduceMean, {op(g, OpKind::Mul, {x, y})}, siblingTestAxes());
  s.sumExpY = op(g, OpKind::ReduceSum, {op(g, OpKind::Exp, {y})}, siblingTestAxes());
  s.sumZ = op(g, OpKind::ReduceSum, {z}, siblingTestAxes());
  s.maxX = op(g, OpKind::ReduceMax, {x}, siblingTestAxes());
  s.first = op(g, OpKind::ReduceSum, {x}, siblingTestAxes(true));
  NodeId centered = op(g, OpKind::Sub, {x, s.first});
  s.second = op(g, OpKind::ReduceSum, {op(g, OpKind::Mul, {centered, centered})}, siblingTestAxes(true));
  g.outputs = {{"sum_x", s.sumX},   {"mean_xy", s.meanXY}, {"sum_exp_y", s.sumExpY}, {"sum_z", s.sumZ},
               {"max_x", s.maxX},   {"first", s.first},    {"second", s.second}};
}

TEST(SiblingReductions, SumsSharingAnOperandBecomeOneKernel) {
  SiblingTestGraph s;
  buildSiblingTestGraph(s);
  LoweredGraph lg = lowerOrFail(s.g);
  std::string kernels = describeKernels(lg);
  const Kernel* k = siblingTestKernel(lg, s.sumExpY);
  ASSERT_NE(k, nullptr) << kernels;
  EXPECT_EQ(siblingTestReductions(lg, *k), (std::vector<NodeId>{s.sumX, s.meanXY, s.sumExpY})) << kernels;
  EXPECT_EQ(siblingTestReductions(lg, *siblingTestKernel(lg, s.sumZ)), std::vector<NodeId>{s.sumZ}) << kernels;
  EXPECT_EQ(siblingTestReductions(lg, *siblingTestKernel(lg, s.maxX)), std::vector<NodeId>{s.maxX}) << kernels;
  // The second sum reads the first: never computed in the same loop.
  EXPECT_NE(siblingTestKernel(lg, s.first), siblingTestKernel(lg, s.second)) << kernels;
}

TEST(SiblingReductions, AgreeWithTheInterpreterAndAcrossThreadCounts) {
  SiblingTestGraph s;
  buildSiblingTestGraph(s);
  MatchOptions o;
  o.bitIdenticalAcrossThreads = true;
  expectMatchesInterpreter(s.g, o);
}

// The producers of a per-sample sum that something else reads are stored by the sum's own
// kernel (a gradient and the bias gradient that sums it); a sum over every axis, which runs
// on one thread, leaves them to an elementwise kernel.
TEST(SiblingReductions, PerSampleSumStoresTheProducersOthersRead) {
  Graph g;
  const std::vector<int64_t> dims{kBatch, 5, 5, 9};
  NodeId x = input(g, "x", DType::F32, dims), y = input(g, "y", DType::F32, dims);
  NodeId product = op(g, OpKind::Mul, {x, y});
  NodeId sum = op(g, OpKind::ReduceSum, {product}, siblingTestAxes());
  NodeId other = op(g, OpKind::Add, {x, y});
  NodeId total = op(g, OpKind::ReduceSum, {other}, AxesAttr{{0, 1, 2, 3}, false}.attrs());
  g.outputs = {{"product", product}, {"sum", sum}, {"other", other}, {"total", total}};
  LoweredGraph lg = lowerOrFail(g);
  std::string kernels = describeKernels(lg);
  EXPECT_EQ(siblingTestKernel(lg, product), siblingTestKernel(lg, sum)) << kernels;
  EXPECT_NE(siblingTestKernel(lg, other), siblingTestKernel(lg, total)) << kernels;
  MatchOptions o;
  o.bitIdenticalAcrossThreads = true;
  expectMatchesInterpreter(g, o);
}

}  // namespace
}  // namespace nnc
