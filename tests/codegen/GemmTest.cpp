// The packed-panel GEMM (GemmEmitter): every transpose form, sizes around the microkernel's
// and the cache blocks' edges, batched forms, against a double-precision reference with an
// f32 error bound; and bit-identical results for 1 and 2 threads (chunkWork 1 splits every
// product across the threads, by rows or by column panels).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
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

struct Product {
  std::vector<int64_t> a, b;  // operand dims as stored (kBatch allowed)
  bool ta = false, tb = false;
};

std::string describe(const Product& p) {
  auto dims = [](const std::vector<int64_t>& d) {
    std::string s = "[";
    for (size_t i = 0; i < d.size(); ++i) {
      if (i) s += ",";
      s += d[i] == kBatch ? std::string("B") : std::to_string(d[i]);
    }
    return s + "]";
  };
  return dims(p.a) + (p.ta ? "^T" : "") + " @ " + dims(p.b) + (p.tb ? "^T" : "");
}

std::vector<int64_t> concreteDims(std::vector<int64_t> d, int64_t batch) {
  for (int64_t& x : d)
    if (x == kBatch) x = batch;
  return d;
}

int64_t count(const std::vector<int64_t>& d) {
  int64_t n = 1;
  for (int64_t x : d) n *= x;
  return n;
}

// C = op(A) @ op(B) per leading index, in double, and the f32 error bound of each element:
// a chain of K fused multiply-adds errs by at most about K * 2^-24 * sum |a_k b_k|.
void reference(const Product& p, int64_t batch, const std::vector<float>& a, const std::vector<float>& b,
               std::vector<double>* c, std::vector<double>* bound) {
  std::vector<int64_t> da = concreteDims(p.a, batch), db = concreteDims(p.b, batch);
  size_t ra = da.size(), rb = db.size();
  int64_t M = p.ta ? da[ra - 1] : da[ra - 2], K = p.ta ? da[ra - 2] : da[ra - 1];
  int64_t N = p.tb ? db[rb - 2] : db[rb - 1];
  int64_t L = count(da) / (M * K);
  bool bBatched = rb > 2;
  c->assign(static_cast<size_t>(L * M * N), 0.0);
  bound->assign(c->size(), 0.0);
  for (int64_t l = 0; l < L; ++l)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        double s = 0, mag = 0;
        for (int64_t k = 0; k < K; ++k) {
          double x = a[static_cast<size_t>(l * M * K + (p.ta ? k * M + i : i * K + k))];
          double y = b[static_cast<size_t>((bBatched ? l * K * N : 0) + (p.tb ? j * K + k : k * N + j))];
          s += x * y;
          mag += std::fabs(x * y);
        }
        size_t at = static_cast<size_t>((l * M + i) * N + j);
        (*c)[at] = s;
        (*bound)[at] = static_cast<double>(K + 2) * 1.2e-7 * mag + 1e-30;
      }
}

// Compiles the product once; for each batch runs it at 1 and 2 threads, checks the result
// against the reference and the two runs against each other, bit for bit.
void checkProduct(const Product& p, std::vector<int64_t> batches = {1}) {
  SCOPED_TRACE(describe(p));
  Graph g;
  NodeId a = input(g, "a", DType::F32, p.a);
  NodeId b = input(g, "b", DType::F32, p.b);
  NodeId c = op(g, OpKind::MatMul, {a, b}, {{"transpose_a", int64_t(p.ta)}, {"transpose_b", int64_t(p.tb)}});
  ASSERT_NE(c, kNoNode);
  g.outputs.push_back({"c", c});
  CompileOptions opt;
  opt.chunkWork = 1;
  auto compiled = jitCompile(g, nullptr, opt);
  ASSERT_TRUE(compiled.ok()) << compiled.error().message;
  CompiledModel& m = **compiled;
  for (int64_t batch : batches) {
    SCOPED_TRACE("batch " + std::to_string(batch));
    std::mt19937_64 rng(static_cast<uint64_t>(batch) * 31 + p.a.size());
    std::uniform_real_distribution<float> u(-2.0f, 2.0f);
    std::vector<float> av(static_cast<size_t>(count(concreteDims(p.a, batch))));
    std::vector<float> bv(static_cast<size_t>(count(concreteDims(p.b, batch))));
    for (float& x : av) x = u(rng);
    for (float& x : bv) x = u(rng);
    std::vector<double> want, bound;
    reference(p, batch, av, bv, &want, &bound);
    std::vector<std::vector<float>> got;
    for (int threads : {1, 2}) {
      ThreadsScope ts(threads);
      std::vector<float> out(want.size(), std::nanf(""));
      std::vector<const void*> in{av.data(), bv.data()};
      std::vector<void*> outs{out.data()};
      auto ok = m.forward(in, outs, batch);
      ASSERT_TRUE(ok.ok()) << ok.error().message;
      got.push_back(std::move(out));
    }
    int bad = 0;
    for (size_t i = 0; i < want.size() && bad < 5; ++i)
      if (!(std::fabs(got[0][i] - want[i]) <= bound[i])) {
        ++bad;
        ADD_FAILURE() << "[" << i << "] got " << got[0][i] << " want " << want[i] << " (bound " << bound[i] << ")";
      }
    EXPECT_EQ(std::memcmp(got[0].data(), got[1].data(), got[0].size() * sizeof(float)), 0)
        << "1 and 2 threads differ";
  }
}

// Sizes 1..70 on every side, across the microkernel's edges (6 or 14 rows, 16 or 32
// columns) and the direct path's (at most 4 rows). M is the batch, so one compilation
// covers many row counts.
TEST(Gemm, OddSizesEveryTransposeForm) {
  const std::vector<std::pair<int64_t, int64_t>> kn{{1, 1}, {3, 70}, {16, 17}, {33, 31}, {70, 5},
                                                    {7, 48}, {64, 64}, {29, 65}, {2, 33}};
  const std::vector<int64_t> fixedM{1, 5, 13, 70, 6, 3, 64, 19, 2};  // A^T is [K, M]: M fixed
  for (size_t c = 0; c < kn.size(); ++c)
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        auto [k, n] = kn[c];
        Product p;
        p.ta = ta;
        p.tb = tb;
        p.a = ta ? std::vector<int64_t>{k, fixedM[c]} : std::vector<int64_t>{kBatch, k};
        p.b = tb ? std::vector<int64_t>{n, k} : std::vector<int64_t>{k, n};
        checkProduct(p, ta ? std::vector<int64_t>{1} : std::vector<int64_t>{1, 2, 4, 5, 6, 7, 13, 70});
      }
}

// K as the batch (the weight gradient x^T dy), the direct path's rows, and M = 1.
TEST(Gemm, BatchAsK) {
  checkProduct({{kBatch, 37}, {kBatch, 19}, true, false}, {1, 3, 64, 300});   // N narrow: split by rows
  checkProduct({{kBatch, 37}, {kBatch, 70}, true, false}, {1, 3, 64, 300});   // by column panels
  checkProduct({{kBatch, 300}, {300, 129}, false, false}, {1, 2, 3, 4});
  checkProduct({{kBatch, 300}, {129, 300}, false, true}, {1, 2, 3, 4});
}

// Beyond one cache block on every side (KC 256, MC 96 or 112, NC 512), all four forms, and a
// narrow N that splits by rows.
TEST(Gemm, LargerThanTheCacheBlocks) {
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      Product p;
      p.ta = ta;
      p.tb = tb;
      p.a = ta ? std::vector<int64_t>{300, 257} : std::vector<int64_t>{257, 300};
      p.b = tb ? std::vector<int64_t>{129, 300} : std::vector<int64_t>{300, 129};
      checkProduct(p);
    }
  checkProduct({{kBatch, 520}, {520, 600}, false, false}, {131});
  checkProduct({{kBatch, 300}, {300, 20}, false, false}, {257});
  checkProduct({{kBatch, 300}, {20, 300}, false, true}, {257});
}

// A dense layer's shapes at a small batch (fashion_cnn's fc, scaled down): many K blocks and
// several NC blocks of B, in both layouts, where each tile also prefetches the source of the
// next B block (the next K block, or the next columns after the last one); odd M and N. And
// the weight gradient x^T dy, whose A^T panels are copied a vector per k (x contiguous).
TEST(Gemm, DenseLayerManyBlocksBothLayouts) {
  for (bool tb : {false, true}) {
    std::vector<int64_t> b = tb ? std::vector<int64_t>{1100, 777} : std::vector<int64_t>{777, 1100};
    checkProduct({{kBatch, 777}, b, false, tb}, {64, 9});
  }
  checkProduct({{kBatch, 130}, {kBatch, 1100}, true, false}, {64, 7});
  checkProduct({{kBatch, 13}, {kBatch, 21}, true, false}, {5, 64});  // A^T narrower than a vector
}

// Leading (batched-matmul) dims: per-sample matrices, B shared or per sample.
TEST(Gemm, Batched) {
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      std::vector<int64_t> a = ta ? std::vector<int64_t>{kBatch, 29, 37} : std::vector<int64_t>{kBatch, 37, 29};
      std::vector<int64_t> bOwn = tb ? std::vector<int64_t>{kBatch, 41, 29} : std::vector<int64_t>{kBatch, 29, 41};
      std::vector<int64_t> bShared = tb ? std::vector<int64_t>{41, 29} : std::vector<int64_t>{29, 41};
      checkProduct({a, bOwn, ta, tb}, {1, 3});
      checkProduct({a, bShared, ta, tb}, {1, 3});
    }
  checkProduct({{3, 2, 37, 29}, {29, 70}, false, false});
  checkProduct({{kBatch, 2, 1, 29}, {kBatch, 2, 29, 70}, false, false}, {3});  // M = 1 per slice
}

// The AVX-512 (14 x 32), AVX2 (6 x 16) and SSE (6 x 8) microkernels, generated on whatever
// CPU runs the tests: the same arithmetic, so the same checks hold.
TEST(Gemm, OtherVectorWidths) {
  for (int lanes : {16, 8, 4}) {
    SCOPED_TRACE("lanes " + std::to_string(lanes));
    codegen::overrideGemmLanes(lanes);
    codegen::GemmBlocking g = codegen::hostGemmBlocking();
    EXPECT_EQ(g.lanes, lanes);
    EXPECT_LE(g.mr * g.vectors + g.vectors + 1, lanes == 16 ? 32 : 16);
    checkProduct({{kBatch, 70}, {70, 75}, false, false}, {1, 3, 15, 29});
    checkProduct({{kBatch, 300}, {75, 300}, false, true}, {2, 29});
    checkProduct({{300, 33}, {70, 300}, true, true});
    checkProduct({{kBatch, 33}, {kBatch, 45}, true, false}, {1, 300});
    checkProduct({{kBatch, 300}, {300, 40}, false, false}, {31});
    codegen::overrideGemmLanes(0);
  }
}

// Epilogue fusion: bias add and activation computed on each output tile of the product.
// Checked against the interpreter at 1 and 2 threads, several batches (the direct path at
// batch 1, the packed one beyond), and in the kernel listing.
void expectFusedAndCorrect(const Graph& g) {
  CompileOptions opt;
  opt.useCache = false;
  auto m = jitCompile(g, nullptr, opt);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_NE((*m)->inference().kernelListing.find("[epilogue:"), std::string::npos) << (*m)->inference().kernelListing;
  // Small weights: sums near zero then carry little absolute rounding (the interpreter adds
  // in another order), so the relative tolerance stays meaningful after the activation.
  testing::expectMatchesInterpreter(g, {{"x", {-1, 1}}, {"w", {-0.3, 0.3}}}, {1, 7, 70});
}

TEST(GemmEpilogue, BiasAndActivation) {
  Graph g;
  NodeId x = input(g, "x", DType::F32, {kBatch, 37});
  NodeId w = testing::param(g, "w", {37, 70});
  NodeId b = testing::param(g, "b", {70});
  NodeId h = op(g, OpKind::Relu, {op(g, OpKind::Add, {op(g, OpKind::MatMul, {x, w}), b})});
  g.outputs.push_back({"h", op(g, OpKind::Tanh, {h})});
  expectFusedAndCorrect(g);
}

TEST(GemmEpilogue, StoredMemberAndBroadcastOverLeadingDims) {
  // The pre-activation is an output too (stored by the epilogue); the bias broadcasts along
  // the batch and the rows of each slice, and varies along a leading dim.
  Graph g;
  NodeId x = input(g, "x", DType::F32, {kBatch, 3, 5, 7});
  NodeId w = testing::param(g, "w", {7, 40});
  NodeId b = testing::param(g, "b", {3, 1, 40});
  NodeId pre = op(g, OpKind::Add, {op(g, OpKind::MatMul, {x, w}), b});
  g.outputs.push_back({"pre", pre});
  g.outputs.push_back({"y", op(g, OpKind::Sigmoid, {pre})});
  expectFusedAndCorrect(g);
}

TEST(GemmEpilogue, TheKnobTurnsItOff) {
  setenv("NNC_FUSE_EPILOGUES", "0", 1);
  Graph g;
  NodeId x = input(g, "x", DType::F32, {kBatch, 8});
  NodeId w = testing::param(g, "w", {8, 4});
  g.outputs.push_back({"y", op(g, OpKind::Relu, {op(g, OpKind::MatMul, {x, w})})});
  CompileOptions opt;
  opt.useCache = false;
  auto m = jitCompile(g, nullptr, opt);
  unsetenv("NNC_FUSE_EPILOGUES");
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ((*m)->inference().kernelListing.find("[epilogue:"), std::string::npos);
}

}  // namespace
}  // namespace nnc
