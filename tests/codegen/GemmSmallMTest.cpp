// The small-M GEMM kernels (GemmEmitter.cpp: a task with a few rows reads A and B in place,
// B as stored a few vectors of a row at a time, B^T in W x W blocks transposed in registers)
// at M = 1, 2, 3, 5, 8, 17 and 64, with B as stored and transposed ([out, in], PyTorch's
// Linear weight), odd K and N:
// - against the interpreter, with and without a fused epilogue;
// - bit for bit against the packed path: a row's result must not depend on how many rows
//   the product has (batch 1 and batch 64 give a sample the same bits), at 1 and 2 threads;
// - with the AVX-512 and SSE vector widths (16 x 16 and 4 x 4 transposes);
// - in a graph with updates (a training step), which never takes them: the packed path at
//   every batch, and a module with only the kernels of its inference products' layouts.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "compiler/codegen/CompiledModel.h"
#include "compiler/codegen/aot/AotCompile.h"
#include "compiler/codegen/kernels/gemm/GemmBlocking.h"
#include "tests/codegen/CodegenTestUtil.h"

namespace nnc {
namespace {

using testing::input;
using testing::op;
using testing::ThreadsScope;

const std::vector<int64_t> kSmallBatches{1, 2, 3, 5, 8, 17, 64};

using SmallProduct = testing::DenseProduct;

// Shapes across the tiles' edges: K with a tail after the W-blocks of k and beyond one K block
// of the packed path (256), N below one vector, between tiles and past several.
const std::vector<SmallProduct> kSmallMShapes{{37, 29, false}, {37, 29, true}, {300, 70, false},
                                              {300, 70, true}, {5, 3, false},  {5, 3, true}};

TEST(GemmSmallM, MatchesTheInterpreterBothLayouts) {
  for (const SmallProduct& p : kSmallMShapes) {
    SCOPED_TRACE(testing::describeDenseProduct(p));
    testing::expectMatchesInterpreter(testing::denseProductGraph(p, true, false), {}, kSmallBatches);
  }
}

TEST(GemmSmallM, FusedEpilogueMatchesTheInterpreter) {
  for (const SmallProduct& p : {SmallProduct{300, 70, true}, SmallProduct{37, 29, true}, SmallProduct{300, 70, false}}) {
    SCOPED_TRACE(testing::describeDenseProduct(p));
    // Small weights: sums near zero carry little absolute rounding before the relu.
    testing::expectMatchesInterpreter(testing::denseProductGraph(p, true, true), {{"x", {-1, 1}}, {"w", {-0.3, 0.3}}},
                                      kSmallBatches);
  }
}

// Runs the product at every batch of kSmallBatches on the first rows of one 64-row x, and
// expects each result to be, bit for bit, the first rows of the 64-row result (the packed
// path), at 1 and 2 threads.
void expectRowsIndependentOfM(const SmallProduct& p) {
  SCOPED_TRACE(testing::describeDenseProduct(p));
  Graph g = testing::denseProductGraph(p, false, false);
  CompileOptions opt;
  opt.chunkWork = 1;  // split every product across the threads
  auto compiled = jitCompile(g, nullptr, opt);
  ASSERT_TRUE(compiled.ok()) << compiled.error().message;
  CompiledModel& m = **compiled;
  const int64_t full = kSmallBatches.back();
  std::mt19937_64 rng(static_cast<uint64_t>(p.k * 131 + p.n));
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
    for (int64_t batch : kSmallBatches) {
      std::vector<float> some = run(batch);
      EXPECT_EQ(std::memcmp(some.data(), all.data(), some.size() * sizeof(float)), 0)
          << "batch " << batch << " differs from the first rows of batch " << full << " at " << threads << " threads";
    }
  }
}

TEST(GemmSmallM, ARowsBitsDoNotDependOnM) {
  for (const SmallProduct& p : kSmallMShapes) expectRowsIndependentOfM(p);
}

// The transposes and tiles of the other vector widths, generated on whatever CPU runs the
// tests (LLVM splits or widens the vectors: the same arithmetic).
TEST(GemmSmallM, OtherVectorWidths) {
  for (int lanes : {16, 4}) {
    SCOPED_TRACE("lanes " + std::to_string(lanes));
    codegen::overrideGemmLanes(lanes);
    for (const SmallProduct& p : {SmallProduct{300, 70, true}, SmallProduct{37, 29, true}, SmallProduct{37, 29, false}}) {
      expectRowsIndependentOfM(p);
      SCOPED_TRACE(testing::describeDenseProduct(p));
      testing::expectMatchesInterpreter(testing::denseProductGraph(p, true, false), {}, {1, 3, 5, 17});
    }
    codegen::overrideGemmLanes(0);
  }
}

// y = x @ w (B as stored) and d = y @ w^T (B transposed), with an update of a State counter
// when `training`, which makes every product of the graph a training one.
Graph bothLayoutsGraph(bool training) {
  Graph g;
  NodeId x = input(g, "x", DType::F32, {kBatch, 37});
  NodeId w = testing::param(g, "w", {37, 29});
  NodeId y = op(g, OpKind::MatMul, {x, w});
  NodeId d = op(g, OpKind::MatMul, {y, w}, {{"transpose_a", int64_t{0}}, {"transpose_b", int64_t{1}}});
  g.outputs.push_back({"y", y});
  g.outputs.push_back({"d", d});
  if (training) {
    NodeId s = g.addLeaf(OpKind::State, "steps", TensorType{DType::F32, Shape(std::vector<int64_t>{1})});
    g.updates.push_back({s, op(g, OpKind::Add, {s, s})});
  }
  return g;
}

TEST(GemmSmallM, TrainingProductsPackAtEveryBatch) {
  testing::expectMatchesInterpreter(bothLayoutsGraph(true), {}, {1, 2, 3, 5, 8, 17});
}

TEST(GemmSmallM, ModuleCarriesTheKernelsOfItsInferenceLayoutsOnly) {
  Graph inference = bothLayoutsGraph(false);
  inference.outputs.pop_back();  // y = x @ w only: B as stored
  Graph training = bothLayoutsGraph(true);
  auto ir = optimizedLLVMIR(inference, &training);
  ASSERT_TRUE(ir.ok()) << ir.error().message;
  EXPECT_NE(ir->find("@nnc.gemm.small.b."), std::string::npos);
  EXPECT_EQ(ir->find("@nnc.gemm.small.bt."), std::string::npos);
}

}  // namespace
}  // namespace nnc
