// A weight gradient's fused optimizer update run by row panels (GemmEmitter.cpp, rowPanels):
// a product with several row blocks whose epilogue streams the parameter and its state
// finishes MR whole rows at a time, its sums reusing the slice's first rows when K fits one
// block. The same tiles run, so the state after a step must be the same bits as with the
// update in a kernel of its own (NNC_FUSE_EPILOGUES=0), and match the interpreter.
#include <gtest/gtest.h>

#include <cstdlib>

#include "compiler/interp/Interpreter.h"
#include "compiler/train/Optimizers.h"
#include "compiler/train/TrainingGraph.h"
#include "tests/codegen/CodegenTestUtil.h"

namespace nnc {
namespace {

using namespace nnc::testing;

enum class RowPanelOptimizer { Sgd, Momentum, Adam };

// grad = x^T dy [in, out] over k rows; plain SGD, momentum SGD (b' = 0.9 b + grad,
// w' = w - lr b'), or Adam as the train block writes it (Optimizers.cpp).
struct RowPanelUpdate {
  Graph g, inference;
  NodeId lr = kNoNode, stepLeaf = kNoNode, w2 = kNoNode, b2 = kNoNode;
  std::vector<std::string> state{"w"};
  RowPanelUpdate(int64_t in, int64_t out, int64_t k, RowPanelOptimizer opt) {
    NodeId x = input(g, "x", DType::F32, {k, in});
    NodeId dy = input(g, "dy", DType::F32, {k, out});
    NodeId w = param(g, "w", {in, out});
    lr = g.addLeaf(OpKind::Hyper, kLearningRateName, TensorType{DType::F32, Shape{}});
    NodeId grad = op(g, OpKind::MatMul, {x, dy}, {{"transpose_a", int64_t(1)}});
    NodeId step = grad;
    g.loss = op(g, OpKind::ReduceSum, {dy}, {{"axes", std::vector<int64_t>{0, 1}}, {"keepdims", int64_t(0)}});
    NodeId ix = input(inference, "x", DType::F32, {kBatch, in});
    inference.outputs.push_back({"y", op(inference, OpKind::MatMul, {ix, param(inference, "w", {in, out})})});
    if (opt == RowPanelOptimizer::Adam) {
      stepLeaf = g.addLeaf(OpKind::Hyper, kStepName, TensorType{DType::F32, Shape{}});
      OptimizerConfig config{AdamHyper{}};
      auto ok = emitOptimizerUpdates(g, config, {ParamGradient{w, grad}}, lr, stepLeaf);
      EXPECT_TRUE(ok.ok());
      for (const Update& u : g.updates) {
        if (u.target == w) w2 = u.value;
        if (u.target != w) state.push_back(g.node(u.target).name);
      }
      return;
    }
    if (opt == RowPanelOptimizer::Momentum) {
      state.push_back("w/sgd.momentum");
      NodeId b = g.addLeaf(OpKind::State, "w/sgd.momentum", TensorType{DType::F32, Shape{in, out}});
      b2 = op(g, OpKind::Add, {op(g, OpKind::Mul, {b, g.addScalar(0.9)}), grad});
      step = b2;
      g.updates.push_back({b, b2});
    }
    w2 = op(g, OpKind::Sub, {w, op(g, OpKind::Mul, {lr, step})});
    g.updates.insert(g.updates.begin(), {w, w2});
  }
};

std::unique_ptr<CompiledModel> compileRowPanelUpdate(RowPanelUpdate& u, bool fuse) {
  if (!fuse) setenv("NNC_FUSE_EPILOGUES", "0", 1);
  CompileOptions opt;
  opt.useCache = false;
  auto compiled = jitCompile(u.inference, &u.g, opt);
  if (!fuse) unsetenv("NNC_FUSE_EPILOGUES");
  EXPECT_TRUE(compiled.ok()) << compiled.error().message;
  if (!compiled.ok()) return nullptr;
  return std::move(*compiled);
}

// One step of both models from the same state and inputs: the fused model's state must be the
// unfused one's bits, and near the interpreter's.
void expectRowPanelStepSameBits(RowPanelUpdate& u, CompiledModel& fused, CompiledModel& apart, int64_t batch, int threads) {
  ThreadsScope ts(threads);
  std::vector<std::vector<float>> after[2];
  std::vector<Tensor> want;
  const float stepValue = 3;
  for (int which = 0; which < 2; ++which) {
    CompiledModel& m = which == 0 ? fused : apart;
    std::mt19937_64 rng(static_cast<uint64_t>(batch) * 7 + 1);
    Leaves l = makeLeaves(u.g, m, batch, rng);
    std::vector<HostTensor> hostInputs;
    for (const TensorSpec& s : m.training()->inputs) {
      Tensor t = randomTensor(s.type, batch, Range{}, rng);
      l.values[u.g.findLeaf(OpKind::Input, s.name)] = t;
      hostInputs.push_back(toHost(t));
    }
    std::vector<const void*> in;
    for (HostTensor& h : hostInputs) in.push_back(h.data());
    // Adam's quotient of random moments is too sensitive for a tolerance against the
    // interpreter (the peers tests check it against PyTorch): its bits against the update
    // apart are the point here.
    if (which == 0 && u.stepLeaf == kNoNode) {
      l.values[u.lr] = Tensor::scalar(0.05);
      std::vector<NodeId> outs{u.w2};
      if (u.b2 != kNoNode) outs.push_back(u.b2);
      auto got = interpret(u.g, l.values, outs, Precision::F32);
      ASSERT_TRUE(got.ok()) << got.error().message;
      want = *got;
    }
    float loss = 0;
    auto ok = m.trainStep(in, batch, 0.05f, stepValue, &loss);
    ASSERT_TRUE(ok.ok()) << ok.error().message;
    for (const std::string& name : u.state) {
      std::span<float> t = m.tensor(name);
      after[which].emplace_back(t.begin(), t.end());
    }
  }
  for (size_t i = 0; i < after[0].size(); ++i) {
    const std::string& name = u.state[i];
    ASSERT_EQ(after[0][i].size(), after[1][i].size());
    size_t differ = 0;
    for (size_t e = 0; e < after[0][i].size(); ++e)
      differ += std::memcmp(&after[0][i][e], &after[1][i][e], sizeof(float)) != 0;
    EXPECT_EQ(differ, 0u) << name << " batch " << batch << " threads " << threads;
    if (i >= want.size()) continue;
    HostTensor h;
    h.f = after[0][i];
    EXPECT_TRUE(closeTo(want[i], h)) << name << " batch " << batch << " threads " << threads;
  }
}

TEST(GemmRowPanels, FusedUpdateIsTheUnfusedStepBitForBit) {
  // 200 rows: three row blocks of MC = 96 (AVX2), so the driver takes row panels. 80 columns
  // (5 panels of NR): the tasks split by columns, and K = 240 fits one block: the sums reuse
  // the slice's first rows (K * N is large enough for the shared driver, as a weight
  // gradient's batch K always is). 40 columns and K = 100: split by rows, in the product's
  // own task, sums in place. K = 600: several K blocks, whose partial sums go through C.
  // Adam: its six streams through the same row panels (a fixed K, so the rule of Fusion.cpp
  // that keeps it apart from a product over the batch does not apply).
  struct Case {
    int64_t in, out, k;
    RowPanelOptimizer opt;
  };
  using O = RowPanelOptimizer;
  for (Case c : {Case{200, 80, 240, O::Momentum}, Case{200, 40, 100, O::Momentum}, Case{200, 80, 600, O::Momentum},
                 Case{301, 80, 240, O::Sgd}, Case{200, 80, 240, O::Adam}}) {
    RowPanelUpdate u(c.in, c.out, c.k, c.opt);
    auto fused = compileRowPanelUpdate(u, true);
    auto apart = compileRowPanelUpdate(u, false);
    ASSERT_TRUE(fused && apart);
    ASSERT_NE(fused->training()->kernelListing.find("[epilogue:"), std::string::npos)
        << fused->training()->kernelListing;
    ASSERT_EQ(apart->training()->kernelListing.find("[epilogue:"), std::string::npos);
    for (int threads : {1, 2}) expectRowPanelStepSameBits(u, *fused, *apart, 4, threads);
  }
}

}  // namespace
}  // namespace nnc
