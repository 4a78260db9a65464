// The kernel partitioner and the memory planner, structurally (no LLVM involved), and the
// table of LLVM emitters against the registry's lowering kinds.
#include <gtest/gtest.h>

#include "compiler/codegen/OpLoweringTable.h"
#include "compiler/lowering/Lowering.h"
#include "compiler/lowering/MemoryPlan.h"
#include "tests/codegen/CodegenTestUtil.h"

namespace nnc {
namespace {

using namespace nnc::testing;

TEST(Partition, ElementwiseChainIsOneKernel) {
  // y = relu(x * w + b) * sigmoid(x * w + b): every intermediate has y's shape and no other
  // user, so one loop computes it all.
  Graph g;
  NodeId x = input(g, "x", DType::F32, {kBatch, 16});
  NodeId w = param(g, "w", {16});
  NodeId b = param(g, "b", {16});
  NodeId t = op(g, OpKind::Add, {op(g, OpKind::Mul, {x, w}), b});
  NodeId y = op(g, OpKind::Mul, {op(g, OpKind::Relu, {t}), op(g, OpKind::Sigmoid, {t})});
  g.outputs.push_back({"y", y});
  LoweredGraph lg = lowerOrFail(g);
  ASSERT_EQ(lg.kernels.size(), 1u) << describeKernels(lg);
  EXPECT_EQ(lg.kernels[0].root, y);
  EXPECT_EQ(lg.kernels[0].fused.size(), 4u);
  EXPECT_EQ(lg.kernels[0].reads, (std::vector<NodeId>{x, w, b}));
  EXPECT_EQ(lg.storage[static_cast<size_t>(t)].kind, StorageKind::Inline);
  // Only y is stored.
  EXPECT_EQ(lg.buffers.size(), 1u);
}

TEST(Partition, ProducersWithOutsideUsersAreStored) {
  Graph g;
  NodeId x = input(g, "x", DType::F32, {kBatch, 16});
  NodeId e = op(g, OpKind::Exp, {x});
  NodeId a = op(g, OpKind::Neg, {e});
  NodeId s = op(g, OpKind::ReduceSum, {e}, {{"axes", std::vector<int64_t>{1}}, {"keepdims", int64_t(1)}});
  g.outputs.push_back({"a", a});
  g.outputs.push_back({"s", s});
  LoweredGraph lg = lowerOrFail(g);
  // e feeds the neg loop and the reduction after it: the neg loop computes and stores it.
  ASSERT_EQ(lg.kernels.size(), 2u) << describeKernels(lg);
  EXPECT_EQ(lg.storage[static_cast<size_t>(e)].kind, StorageKind::Arena);
  EXPECT_EQ(lg.kernels[0].root, a);
  EXPECT_EQ(lg.kernels[0].stored, (std::vector<NodeId>{e}));
}

TEST(Partition, OptimizerUpdateIsOnePass) {
  // Momentum SGD: b' = 0.9 b + g; w' = w - lr * b'. Both are update values (stored), and b'
  // is used by w': one loop reads w, b, g once and writes w' and b'.
  Graph g;
  NodeId w = param(g, "w", {64});
  NodeId b = g.addLeaf(OpKind::State, "w/sgd.momentum", TensorType{DType::F32, Shape{64}});
  NodeId grad = input(g, "grad", DType::F32, {64});
  NodeId lr = g.addLeaf(OpKind::Hyper, "lr", TensorType{DType::F32, Shape{}});
  NodeId b2 = op(g, OpKind::Add, {op(g, OpKind::Mul, {b, g.addScalar(0.9)}), grad});
  NodeId w2 = op(g, OpKind::Sub, {w, op(g, OpKind::Mul, {lr, b2})});
  g.updates.push_back({w, w2});
  g.updates.push_back({b, b2});
  LoweredGraph lg = lowerOrFail(g);
  ASSERT_EQ(lg.kernels.size(), 1u) << describeKernels(lg);
  EXPECT_EQ(lg.kernels[0].root, w2);
  EXPECT_EQ(lg.kernels[0].stored, (std::vector<NodeId>{b2}));
}

TEST(Partition, StoredMembersNeverPrecedeAnOutsideUser) {
  // t is used by the loop of y and by z, which runs *before* y's loop: t must be its own
  // kernel (or z's), never stored by y's loop.
  Graph g;
  NodeId x = input(g, "x", DType::F32, {kBatch, 8});
  NodeId t = op(g, OpKind::Exp, {x});
  NodeId z = op(g, OpKind::ReduceSum, {t}, {{"axes", std::vector<int64_t>{1}}, {"keepdims", int64_t(1)}});
  NodeId y = op(g, OpKind::Mul, {t, z});
  g.outputs.push_back({"y", y});
  LoweredGraph lg = lowerOrFail(g);
  for (const Kernel& k : lg.kernels)
    if (k.root == y) {
      EXPECT_TRUE(k.stored.empty()) << describeKernels(lg);
    }
  // And the result is still right.
  expectMatchesInterpreter(g);
}

TEST(Partition, DifferentShapesDoNotFuseButBroadcastReads) {
  Graph g;
  NodeId x = input(g, "x", DType::F32, {kBatch, 16});
  NodeId b = param(g, "b", {16});
  NodeId bb = op(g, OpKind::Exp, {b});  // [16]: another shape, its own kernel
  NodeId y = op(g, OpKind::Add, {x, bb});
  g.outputs.push_back({"y", y});
  LoweredGraph lg = lowerOrFail(g);
  ASSERT_EQ(lg.kernels.size(), 2u) << describeKernels(lg);
  EXPECT_EQ(lg.kernels[0].root, bb);
  EXPECT_EQ(lg.kernels[1].root, y);
}

TEST(Partition, ReductionAbsorbsItsElementwiseProducers) {
  Graph g;
  NodeId x = input(g, "x", DType::F32, {kBatch, 16});
  NodeId y = input(g, "y", DType::F32, {kBatch, 16});
  NodeId d = op(g, OpKind::Sub, {x, y});
  NodeId sq = op(g, OpKind::Square, {d});
  NodeId s = op(g, OpKind::ReduceMean, {sq}, {{"axes", std::vector<int64_t>{0, 1}}, {"keepdims", int64_t(0)}});
  g.outputs.push_back({"mse", s});
  LoweredGraph lg = lowerOrFail(g);
  ASSERT_EQ(lg.kernels.size(), 1u) << describeKernels(lg);
  EXPECT_EQ(lg.kernels[0].fused, (std::vector<NodeId>{d, sq}));
}

TEST(Partition, ViewsAliasAndOutputsAreStored) {
  Graph g;
  NodeId x = input(g, "x", DType::F32, {kBatch, 4, 4});
  NodeId e = op(g, OpKind::Exp, {x});
  NodeId r = op(g, OpKind::Reshape, {e}, {{"shape", std::vector<int64_t>{kBatch, 16}}});
  NodeId n = op(g, OpKind::Neg, {r});
  g.outputs.push_back({"n", n});
  g.outputs.push_back({"e", e});
  LoweredGraph lg = lowerOrFail(g);
  EXPECT_EQ(lg.storage[static_cast<size_t>(r)].kind, StorageKind::View);
  EXPECT_EQ(lg.storageRoot(r), e);
  EXPECT_EQ(lg.kernels.size(), 2u) << describeKernels(lg);
  // Both outputs are written in place by their kernels (into the caller's outputs[], no
  // copy); e's arena buffer, used only when the caller passes no pointer, lives until n's
  // kernel (step 1) reads it.
  EXPECT_TRUE(lg.copies.empty());
  EXPECT_EQ(lg.storage[static_cast<size_t>(e)].output, 1);
  int64_t eb = lg.storage[static_cast<size_t>(e)].index;
  EXPECT_EQ(lg.buffers[static_cast<size_t>(eb)].last, 1);
}

TEST(Partition, UpdatesReadingStateGoThroughTemporaries) {
  // Swap two params: each update's value is the other's old value.
  Graph g;
  NodeId a = param(g, "a", {8});
  NodeId b = param(g, "b", {8});
  g.updates.push_back({a, b});
  g.updates.push_back({b, a});
  LoweredGraph lg = lowerOrFail(g);
  ASSERT_EQ(lg.copies.size(), 4u);
  EXPECT_EQ(lg.copies[0].to, CopyStep::To::Temp);
  EXPECT_EQ(lg.copies[1].to, CopyStep::To::Temp);
  EXPECT_EQ(lg.copies[2].from, CopyStep::From::Temp);
  EXPECT_EQ(lg.copies[3].from, CopyStep::From::Temp);
}

TEST(OpLowerings, EveryRowHasTheEmitterItsLoweringKindNeeds) {
  for (int k = 0; k < numOpKinds(); ++k) {
    OpKind op = static_cast<OpKind>(k);
    SCOPED_TRACE(opName(op));
    EXPECT_EQ(codegen::hasScalarEmitter(op), loweringKind(op) == LoweringKind::Fused);
    EXPECT_EQ(codegen::hasKernelEmitter(op), loweringKind(op) == LoweringKind::Custom);
  }
}

TEST(MemoryPlan, DisjointWhileAliveAndReusedAfter) {
  std::vector<BufferRequest> req{
      {0, 1000, 0, 1}, {0, 1000, 1, 2}, {0, 1000, 2, 3},  // a chain: 0 and 2 can share
      {40, 0, 0, 3},   {40, 0, 1, 1},   {40, 0, 2, 2},    // batched
  };
  MemoryPlan p = planMemory(req);
  auto overlap = [](int64_t a0, int64_t a1, int64_t b0, int64_t b1) { return a0 < b1 && b0 < a1; };
  for (int64_t batch : {1, 3, 64})
    for (size_t i = 0; i < req.size(); ++i)
      for (size_t j = i + 1; j < req.size(); ++j) {
        bool alive = req[i].first <= req[j].last && req[j].first <= req[i].last;
        if (!alive) continue;
        auto span = [&](size_t k) {
          int64_t off = p.placements[k].offsetPerBatch * batch + p.placements[k].offset;
          int64_t size = req[k].bytesPerBatch > 0 ? (req[k].bytesPerBatch + 63) / 64 * 64 * batch : (req[k].bytes + 63) / 64 * 64;
          return std::pair{off, off + size};
        };
        auto [a0, a1] = span(i);
        auto [b0, b1] = span(j);
        EXPECT_FALSE(overlap(a0, a1, b0, b1)) << i << " and " << j << " overlap at batch " << batch;
        EXPECT_LE(a1, p.bytesFor(batch));
        EXPECT_LE(b1, p.bytesFor(batch));
        EXPECT_EQ(a0 % 64, 0);
      }
  EXPECT_EQ(p.fixedBytes, 2048);        // three 1024-byte buffers, two alive at once
  EXPECT_EQ(p.bytesPerBatch, 128);      // the long-lived one plus one of the short ones
  EXPECT_EQ(p.naiveFixedBytes, 3072);
  EXPECT_EQ(p.naiveBytesPerBatch, 192);
}

}  // namespace
}  // namespace nnc
