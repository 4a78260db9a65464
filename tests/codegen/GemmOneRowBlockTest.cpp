// The packed GEMM path of a task whose rows fit one row block (GemmEmitter.cpp: M up to MC,
// a dense layer at batch 64): K in equal blocks of up to kcFewRows, A read in place when its
// rows lie along k, a smaller microkernel for a last row panel of at most mrEdge rows, and
// the fused epilogue run once per packed B block. Products in a graph with updates (which
// never take the small-M kernels), so the packed path runs at every M:
// - against the interpreter at M = 1, 3, 5, 9, 10, 17, 64, 96 and 97 (two row blocks), with K
//   beyond two K blocks and not a whole number of vectors, N not a whole number of vectors
//   nor of packed B blocks, both B layouts, A transposed too, with and without an epilogue;
// - bit for bit: a row's result does not depend on M (so not on which tile, K blocking or
//   A source computed it), at 1 and 2 threads;
// - with the AVX-512 and SSE vector widths (other MR, edge rows and K rounding).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "compiler/codegen/CompiledModel.h"
#include "compiler/codegen/kernels/gemm/GemmBlocking.h"
#include "tests/codegen/CodegenTestUtil.h"

namespace nnc {
namespace {

using testing::input;
using testing::op;
using testing::ThreadsScope;

const std::vector<int64_t> kOneBlockBatches{1, 3, 5, 9, 10, 17, 64, 96, 97};

using RowBlockProduct = testing::DenseProduct;

// The dense product with an update of a State counter: a training graph's products, which
// always pack.
Graph rowBlockGraph(const RowBlockProduct& p, bool weightIsParam, bool epilogue) {
  Graph g = testing::denseProductGraph(p, weightIsParam, epilogue);
  NodeId s = g.addLeaf(OpKind::State, "steps", TensorType{DType::F32, Shape(std::vector<int64_t>{1})});
  g.updates.push_back({s, op(g, OpKind::Add, {s, s})});
  return g;
}

// K = 777: three K blocks of at most 384 (264, 264, 249: a tail after the whole vectors);
// N = 300: two packed B blocks of 128 and a cut one, and a cut micro-panel; N = 19: one cut
// micro-panel (rows split across threads instead of panels); K = 13 below one block.
const std::vector<RowBlockProduct> kRowBlockShapes{{777, 300, false}, {777, 300, true}, {13, 19, false},
                                                   {13, 19, true},    {70, 45, false}};

TEST(GemmOneRowBlock, MatchesTheInterpreter) {
  for (const RowBlockProduct& p : kRowBlockShapes) {
    SCOPED_TRACE(testing::describeDenseProduct(p));
    testing::expectMatchesInterpreter(rowBlockGraph(p, true, false), {}, kOneBlockBatches);
  }
}

TEST(GemmOneRowBlock, FusedEpilogueOncePerBlockMatchesTheInterpreter) {
  for (const RowBlockProduct& p : {RowBlockProduct{777, 300, false}, RowBlockProduct{777, 300, true},
                                   RowBlockProduct{70, 45, false}}) {
    SCOPED_TRACE(testing::describeDenseProduct(p));
    // Small weights: sums near zero carry little absolute rounding before the relu.
    testing::expectMatchesInterpreter(rowBlockGraph(p, true, true), {{"x", {-1, 1}}, {"w", {-0.3, 0.3}}},
                                      kOneBlockBatches);
  }
}

// A stored along M (A^T: a weight gradient's x^T), which is packed, not read in place.
TEST(GemmOneRowBlock, TransposedAIsPacked) {
  for (int64_t m : {1, 10, 64}) {
    SCOPED_TRACE("M " + std::to_string(m));
    Graph g;
    NodeId a = testing::param(g, "a", {777, m});
    NodeId w = testing::param(g, "w", {777, 45});
    g.outputs.push_back({"y", op(g, OpKind::MatMul, {a, w}, {{"transpose_a", int64_t{1}}, {"transpose_b", int64_t{0}}})});
    NodeId s = g.addLeaf(OpKind::State, "steps", TensorType{DType::F32, Shape(std::vector<int64_t>{1})});
    g.updates.push_back({s, op(g, OpKind::Add, {s, s})});
    testing::expectMatchesInterpreter(g, {}, {1});
  }
}

// The first rows of the largest batch, bit for bit, at every batch of kOneBlockBatches, at 1
// and 2 threads (every product split across the threads).
void expectRowBlockBitsIndependentOfM(const RowBlockProduct& p) {
  SCOPED_TRACE(testing::describeDenseProduct(p));
  Graph g = rowBlockGraph(p, false, false);
  CompileOptions opt;
  opt.chunkWork = 1;
  auto compiled = jitCompile(g, nullptr, opt);
  ASSERT_TRUE(compiled.ok()) << compiled.error().message;
  CompiledModel& m = **compiled;
  const int64_t full = kOneBlockBatches.back();
  std::mt19937_64 rng(static_cast<uint64_t>(p.k * 977 + p.n));
  std::uniform_real_distribution<float> u(-2.0f, 2.0f);
  std::vector<float> x(static_cast<size_t>(full * p.k)), w(static_cast<size_t>(p.k * p.n));
  for (float& v : x) v = u(rng);
  for (float& v : w) v = u(rng);
  auto run = [&](int64_t batch) {
    std::vector<float> y(static_cast<size_t>(batch * p.n), std::nanf(""));
    std::vector<const void*> in{x.data(), w.data()};
    std::vector<void*> out{y.data()};
    auto ok = m.forward(in, out, batch);
    EXPECT_TRUE(ok.ok()) << ok.error().message;
    return y;
  };
  for (int threads : {1, 2}) {
    ThreadsScope ts(threads);
    std::vector<float> all = run(full);
    for (int64_t batch : kOneBlockBatches) {
      std::vector<float> some = run(batch);
      EXPECT_EQ(std::memcmp(some.data(), all.data(), some.size() * sizeof(float)), 0)
          << "batch " << batch << " differs from the first rows of batch " << full << " at " << threads << " threads";
    }
  }
}

TEST(GemmOneRowBlock, ARowsBitsDoNotDependOnM) {
  for (const RowBlockProduct& p : kRowBlockShapes) expectRowBlockBitsIndependentOfM(p);
}

TEST(GemmOneRowBlock, OtherVectorWidths) {
  for (int lanes : {16, 4}) {
    SCOPED_TRACE("lanes " + std::to_string(lanes));
    codegen::overrideGemmLanes(lanes);
    for (const RowBlockProduct& p : {RowBlockProduct{777, 45, false}, RowBlockProduct{777, 45, true}}) {
      SCOPED_TRACE(testing::describeDenseProduct(p));
      testing::expectMatchesInterpreter(rowBlockGraph(p, true, true), {{"x", {-1, 1}}, {"w", {-0.3, 0.3}}},
                                        {1, 5, 10, 17, 64});
    }
    codegen::overrideGemmLanes(0);
  }
}

}  // namespace
}  // namespace nnc
