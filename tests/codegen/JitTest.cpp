// The JIT's interface: caching, stage timings, IR retention, the state layout, and errors as
// values (bad graphs, bad batch sizes, missing inputs).
#include <gtest/gtest.h>

#include "tests/codegen/CodegenTestUtil.h"

namespace nnc {
namespace {

using namespace nnc::testing;

Graph smallModel(double scale) {
  Graph g;
  NodeId x = input(g, "x", DType::F32, {kBatch, 4});
  NodeId w = param(g, "w", {4, 3});
  NodeId y = op(g, OpKind::MatMul, {x, w});
  g.outputs.push_back({"y", op(g, OpKind::Mul, {y, g.addScalar(scale)})});
  return g;
}

TEST(Jit, IdenticalModelsCompileOnce) {
  clearJitCache();
  auto a = jitCompile(smallModel(2.0), nullptr);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_FALSE((*a)->times().cacheHit);
  auto b = jitCompile(smallModel(2.0), nullptr);
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE((*b)->times().cacheHit);
  EXPECT_EQ((*b)->times().optimize, 0.0);
  auto c = jitCompile(smallModel(3.0), nullptr);  // a different model
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE((*c)->times().cacheHit);
  CompileOptions noCache;
  noCache.useCache = false;
  auto d = jitCompile(smallModel(2.0), nullptr, noCache);
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE((*d)->times().cacheHit);
  // Models sharing code still have their own state.
  (*a)->tensor("w")[0] = 1;
  EXPECT_EQ((*b)->tensor("w")[0], 0);
}

TEST(Jit, ReportsStageTimesAndKeepsIR) {
  CompileOptions opt;
  opt.keepIR = true;
  opt.useCache = false;
  auto m = jitCompile(smallModel(5.0), nullptr, opt);
  ASSERT_TRUE(m.ok()) << m.error().message;
  const CompileTimes& t = (*m)->times();
  EXPECT_GT(t.total, 0);
  EXPECT_GT(t.optimize, 0);
  EXPECT_GT(t.codegen, 0);
  EXPECT_GE(t.total, t.lowering + t.irGen + t.optimize + t.codegen - 1e-9);
  EXPECT_NE((*m)->llvmIR().find("define i32 @nnc_forward("), std::string::npos);
  EXPECT_NE((*m)->llvmIR().find("nnc_parallel_for"), std::string::npos);
  EXPECT_NE((*m)->optimizedIR().find("@nnc_forward"), std::string::npos);
}

TEST(Jit, StateLayoutByName) {
  auto m = jitCompile(smallModel(1.0), nullptr);
  ASSERT_TRUE(m.ok());
  const StateEntry* w = (*m)->stateLayout().find("w");
  ASSERT_NE(w, nullptr);
  EXPECT_TRUE(w->trainable);
  EXPECT_EQ(w->offset % 64, 0);
  EXPECT_EQ(w->bytes, 4 * 3 * 4);
  EXPECT_EQ((*m)->tensor("w").size(), 12u);
  EXPECT_TRUE((*m)->tensor("nope").empty());
  EXPECT_EQ((*m)->training(), nullptr);
}

TEST(Jit, RunsAndReportsTheWorkspace) {
  auto m = jitCompile(smallModel(2.0), nullptr);
  ASSERT_TRUE(m.ok());
  std::span<float> w = (*m)->tensor("w");
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(i);  // w[k][j] = 3k + j
  std::vector<float> x{1, 2, 3, 4, -1, 0, 0, 1}, y(6, 0);
  std::vector<const void*> in{x.data()};
  std::vector<void*> out{y.data()};
  ASSERT_TRUE((*m)->forward(in, out, 2).ok());
  // Row 0: sum_k x_k (3k + j) = 3 * 20 + 10 j; times 2.
  EXPECT_EQ(y[0], 2 * 60.f);
  EXPECT_EQ(y[1], 2 * 70.f);
  EXPECT_EQ(y[2], 2 * 80.f);
  // Row 1: -1 * j + (9 + j) = 9; times 2.
  EXPECT_EQ(y[3], 18.f);
  EXPECT_EQ(y[5], 18.f);
  const EntryInfo& info = (*m)->inference();
  EXPECT_EQ(info.inputs.size(), 1u);
  EXPECT_EQ(info.outputs.size(), 1u);
  EXPECT_GE(info.kernels, 1);
  EXPECT_GT(info.workspaceBytes(64), info.workspaceBytes(1));
  EXPECT_LE(info.workspaceBytes(64), info.workspaceNaiveFixedBytes + 64 * info.workspaceNaiveBytesPerBatch);
}

TEST(Jit, RunErrorsAreValues) {
  auto m = jitCompile(smallModel(2.0), nullptr);
  ASSERT_TRUE(m.ok());
  std::vector<float> x(8), y(6);
  std::vector<const void*> in{x.data()};
  std::vector<void*> out{y.data()};
  EXPECT_FALSE((*m)->forward(in, out, 0).ok());
  EXPECT_FALSE((*m)->forward(in, out, -3).ok());
  EXPECT_FALSE((*m)->forward(in, out, int64_t(1) << 50).ok());
  EXPECT_FALSE((*m)->forward({}, out, 2).ok());
  std::vector<const void*> nullIn{nullptr};
  EXPECT_FALSE((*m)->forward(nullIn, out, 2).ok());
  std::vector<void*> twoOut{y.data(), y.data()};
  EXPECT_FALSE((*m)->forward(in, twoOut, 2).ok());
  EXPECT_TRUE((*m)->forward(in, {}, 2).ok());  // no outputs wanted
  EXPECT_FALSE((*m)->trainStep(in, 2, 0.1f, 0, nullptr).ok());  // no training step compiled
}

TEST(Jit, CompileErrorsAreValues) {
  // An operand after its user: the verifier rejects the graph.
  Graph bad;
  NodeId x = input(bad, "x", DType::F32, {kBatch, 4});
  NodeId y = bad.addWithType(OpKind::Neg, {x + 5}, {}, TensorType{DType::F32, Shape{kBatch, 4}});
  bad.outputs.push_back({"y", y});
  EXPECT_FALSE(jitCompile(bad, nullptr).ok());

  // An unknown run-time scalar.
  Graph h;
  NodeId s = h.addLeaf(OpKind::Hyper, "temperature", TensorType{DType::F32, Shape{}});
  h.outputs.push_back({"s", op(h, OpKind::Neg, {s})});
  auto r = jitCompile(h, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("temperature"), std::string::npos);
}

TEST(Jit, EveryBatchSizeWithoutRecompiling) {
  auto m = jitCompile(smallModel(1.0), nullptr);
  ASSERT_TRUE(m.ok());
  std::span<float> w = (*m)->tensor("w");
  for (float& v : w) v = 1;
  for (int64_t batch : {1, 2, 3, 64, 1000, 5}) {
    std::vector<float> x(static_cast<size_t>(batch * 4), 0.5f), y(static_cast<size_t>(batch * 3), 0);
    std::vector<const void*> in{x.data()};
    std::vector<void*> out{y.data()};
    ASSERT_TRUE((*m)->forward(in, out, batch).ok());
    for (float v : y) ASSERT_EQ(v, 2.0f);
  }
}

}  // namespace
}  // namespace nnc
