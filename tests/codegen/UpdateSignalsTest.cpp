// Signalled updates (CompileOptions::signalUpdates, UpdateSignals.h): a data-parallel gradient
// entry writes gradients whose state slot nothing reads straight into the state, from a
// product or a reduction as well as an elementwise loop, and calls nnc_update_ready once
// each is final, after the last kernel that reads it. The bytes at the moment of the signal
// must be the step's final values; without the option nothing is signalled.
#include <gtest/gtest.h>

#include <cstring>

#include "compiler/train/TrainingGraph.h"
#include "runtime/distributed/UpdateSignal.h"
#include "tests/codegen/CodegenTestUtil.h"

namespace nnc {
namespace {

using namespace nnc::testing;

struct SignalRecorder final : distributed::UpdateListener {
  struct Heard {
    int64_t offset, bytes;
    std::vector<float> values;  // the bytes when the signal came
  };
  std::vector<Heard> heard;
  void updateReady(void* state, int64_t offset, int64_t bytes) override {
    std::vector<float> v(size_t(bytes / 4));
    std::memcpy(v.data(), static_cast<char*>(state) + offset, size_t(bytes));
    heard.push_back({offset, bytes, std::move(v)});
  }
};

// gW = a @ c (a product), gb = sum over the batch of d (a reduction), gs = 2 * gb (an
// elementwise loop); a later kernel reads gW (its row sums are an output). Each goes to a "<name>/grad" slot.
struct GradientGraph {
  Graph g;
  NodeId gW, gb, gs;
  GradientGraph() {
    TensorType scalar{DType::F32, Shape{}};
    g.addLeaf(OpKind::Hyper, kLearningRateName, scalar);
    g.addLeaf(OpKind::Hyper, kStepName, scalar);
    NodeId a = input(g, "a", DType::F32, {6, 5});
    NodeId c = input(g, "c", DType::F32, {5, 4});
    NodeId d = input(g, "d", DType::F32, {kBatch, 4});
    gW = op(g, OpKind::MatMul, {a, c});
    gb = op(g, OpKind::ReduceSum, {d}, {{"axes", std::vector<int64_t>{0}}, {"keepdims", int64_t(0)}});
    gs = op(g, OpKind::Mul, {gb, g.addScalar(2.0)});
    g.outputs.push_back({"later", op(g, OpKind::ReduceSum, {gW}, {{"axes", std::vector<int64_t>{1}}, {"keepdims", int64_t(0)}})});
    for (auto [name, value] : {std::pair<const char*, NodeId>{"W/grad", gW}, {"b/grad", gb}, {"s/grad", gs}}) {
      NodeId slot = g.addLeaf(OpKind::State, name, g.type(value));
      g.updates.push_back({slot, value});
    }
  }
};

std::vector<SignalRecorder::Heard> runStep(bool signal, std::unique_ptr<CompiledModel>& m) {
  GradientGraph gg;
  Graph inference;
  inference.outputs.push_back({"a", input(inference, "a", DType::F32, {6, 5})});
  CompileOptions opt;
  opt.signalUpdates = signal;
  opt.chunkWork = 1;  // kernels split across threads: the signal still follows all of them
  auto compiled = jitCompile(inference, &gg.g, opt);
  EXPECT_TRUE(compiled.ok()) << compiled.error().message;
  if (!compiled.ok()) return {};
  m = std::move(*compiled);
  const int64_t batch = 3;
  std::vector<float> a(30), c(20), d(size_t(batch * 4));
  for (size_t i = 0; i < a.size(); ++i) a[i] = float(i % 7) - 3;
  for (size_t i = 0; i < c.size(); ++i) c[i] = float(i % 5) * 0.5f;
  for (size_t i = 0; i < d.size(); ++i) d[i] = float(i) + 1;
  std::vector<float> later(6);
  std::vector<const void*> in{a.data(), c.data(), d.data()};
  std::vector<void*> outs{later.data()};
  SignalRecorder recorder;
  distributed::setUpdateListener(&recorder);
  Result<void> ok = m->trainStep(in, batch, 0.1f, 1.0f, nullptr, outs);
  distributed::setUpdateListener(nullptr);
  EXPECT_TRUE(ok.ok()) << (ok.ok() ? "" : ok.error().message);
  // The step's results, whatever the signals: W/grad = a @ c, b/grad = column sums of d.
  std::span<float> w = m->tensor("W/grad"), b = m->tensor("b/grad"), s = m->tensor("s/grad");
  for (int i = 0; i < 6; ++i) {
    float rowSum = 0;
    for (int j = 0; j < 4; ++j) {
      float want = 0;
      for (int k = 0; k < 5; ++k) want += a[size_t(i * 5 + k)] * c[size_t(k * 4 + j)];
      EXPECT_FLOAT_EQ(w[size_t(i * 4 + j)], want);
      rowSum += want;
    }
    EXPECT_FLOAT_EQ(later[size_t(i)], rowSum);
  }
  for (int j = 0; j < 4; ++j) {
    EXPECT_FLOAT_EQ(b[size_t(j)], d[size_t(j)] + d[size_t(4 + j)] + d[size_t(8 + j)]);
    EXPECT_FLOAT_EQ(s[size_t(j)], 2 * b[size_t(j)]);
  }
  return recorder.heard;
}

TEST(UpdateSignals, EachGradientIsSignalledOnceWithItsFinalBytes) {
  std::unique_ptr<CompiledModel> m;
  std::vector<SignalRecorder::Heard> heard = runStep(true, m);
  ASSERT_TRUE(m);
  ASSERT_EQ(heard.size(), 3u);
  for (const char* name : {"W/grad", "b/grad", "s/grad"}) {
    SCOPED_TRACE(name);
    const StateEntry* e = m->stateLayout().find(name);
    ASSERT_NE(e, nullptr);
    int seen = 0;
    for (const SignalRecorder::Heard& h : heard) {
      if (h.offset != e->offset) continue;
      ++seen;
      EXPECT_EQ(h.bytes, e->bytes);
      std::span<float> final = m->tensor(name);
      ASSERT_EQ(h.values.size(), final.size());
      for (size_t i = 0; i < final.size(); ++i) EXPECT_EQ(h.values[i], final[i]) << i;
    }
    EXPECT_EQ(seen, 1);
  }
}

TEST(UpdateSignals, AnOrdinaryStepSignalsNothing) {
  std::unique_ptr<CompiledModel> m;
  EXPECT_TRUE(runStep(false, m).empty());
}

}  // namespace
}  // namespace nnc
