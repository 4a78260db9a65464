// The work `bench --profile` divides by each kernel's time (KernelCost.h): products count two
// operations per multiply-add, including a weight gradient whose sum runs over the batch.
#include <gtest/gtest.h>

#include "compiler/lowering/KernelCost.h"
#include "tests/codegen/CodegenTestUtil.h"

namespace nnc {
namespace {

using namespace nnc::testing;

KernelCost costOfKernelWith(const LoweredGraph& lg, NodeId node) {
  int k = lg.kernelOf[static_cast<size_t>(node)];
  EXPECT_GE(k, 0) << describeKernels(lg);
  return kernelCosts(lg).at(static_cast<size_t>(k));
}

TEST(KernelCost, AForwardProductCountsTwoFlopsPerMultiplyAddPerSample) {
  Graph g;
  NodeId x = input(g, "x", DType::F32, {kBatch, 300});
  NodeId y = op(g, OpKind::MatMul, {x, param(g, "w", {300, 20})});
  g.outputs.push_back({"y", y});
  LoweredGraph lg = lowerOrFail(g);
  KernelCost c = costOfKernelWith(lg, y);
  EXPECT_DOUBLE_EQ(c.flops(64), 2.0 * 64 * 300 * 20);
}

TEST(KernelCost, AWeightGradientSumsItsProductsOverTheBatch) {
  // dw = x^T dy [in, out]: every sample adds in * out multiply-adds, so the work grows with
  // the batch although the output does not.
  Graph g;
  NodeId x = input(g, "x", DType::F32, {kBatch, 300});
  NodeId dy = input(g, "dy", DType::F32, {kBatch, 20});
  NodeId dw = op(g, OpKind::MatMul, {x, dy}, {{"transpose_a", int64_t(1)}});
  g.outputs.push_back({"dw", dw});
  LoweredGraph lg = lowerOrFail(g);
  KernelCost c = costOfKernelWith(lg, dw);
  EXPECT_DOUBLE_EQ(c.flops(64), 2.0 * 64 * 300 * 20);
  EXPECT_DOUBLE_EQ(c.flops(1), 2.0 * 300 * 20);
}

}  // namespace
}  // namespace nnc
