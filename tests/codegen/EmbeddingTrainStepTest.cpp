// `embedding` (issue 13) compiled: training steps against the interpreter (the sparse SGD
// step and the dense gradient other optimizers take), the rows a sparse step leaves alone
// bit for bit, the in-place plan, and the run-time error for an id out of range. Also the
// new loss forms and pow / where, whole models through the front end.
#include <gtest/gtest.h>

#include <cstring>
#include <set>

#include "compiler/train/EmbeddingGradBuffers.h"
#include "compiler/train/Initializers.h"
#include "compiler/train/TrainingGraph.h"
#include "dsl/Frontend.h"
#include "tests/codegen/CodegenTestUtil.h"

namespace nnc {
namespace {

using namespace nnc::testing;

// Ids [batch, 5] into 40 rows of 6; the mean over the ids, then dense layers.
std::string embeddingModelSource(const std::string& optimizer, const std::string& loss = "cross_entropy(logits, label)") {
  return R"(
model emb
input ids: i32[batch, 5]
input label: i32[batch]
e = embedding(ids, 40, 6)
pooled = mean(e, axis = 1)
h = dense(pooled, 8, activation = tanh)
logits = dense(h, 3)
output probs = softmax(logits)
train {
  loss = )" + loss + R"(
  optimizer = )" + optimizer + R"(
}
)";
}

struct EmbeddingCompiled {
  Model model;
  Graph training, inference;
  std::unique_ptr<CompiledModel> code;
};

// `gradBuffers` false: the dense embedding gradient of before the persistent buffers.
std::unique_ptr<EmbeddingCompiled> compileEmbeddingSource(const std::string& source, bool gradBuffers = true) {
  DiagnosticEngine diags("test.nn", source);
  std::optional<Model> model = compileModel(source, diags);
  EXPECT_TRUE(model.has_value()) << diags.renderToString();
  if (!model) return nullptr;
  auto c = std::make_unique<EmbeddingCompiled>();
  c->model = std::move(*model);
  auto tg = buildTrainingGraph(c->model, gradBuffers);
  EXPECT_TRUE(tg.ok()) << (tg.ok() ? "" : tg.error().message);
  auto ig = buildInferenceGraph(c->model);
  EXPECT_TRUE(ig.ok()) << (ig.ok() ? "" : ig.error().message);
  if (!tg || !ig) return nullptr;
  c->training = std::move(*tg);
  c->inference = std::move(*ig);
  CompileOptions opt;
  opt.chunkWork = 1;  // split every kernel, so the parallel paths are what is checked
  auto code = jitCompile(c->inference, &c->training, opt);
  EXPECT_TRUE(code.ok()) << (code.ok() ? "" : code.error().message);
  if (!code) return nullptr;
  c->code = std::move(*code);
  return c;
}

void loadEmbeddingState(const Graph& g, const LeafValues& values, CompiledModel& m) {
  for (const StateEntry& e : m.stateLayout().entries()) {
    NodeId id = g.findLeaf(e.trainable ? OpKind::Param : OpKind::State, e.name);
    if (id == kNoNode) continue;
    const Tensor& t = values.at(id);
    std::span<float> dst = m.tensor(e.name);
    ASSERT_EQ(dst.size(), t.data.size()) << e.name;
    for (size_t k = 0; k < dst.size(); ++k) dst[k] = static_cast<float>(t.data[k]);
  }
}

// Inputs: ids in [0, vocab), labels in [0, classes), f32 inputs in [0, 1] (probabilities
// are normalised per row by the model's own softmax, so any non-negative values do).
Leaves embeddingInputs(const Graph& g, const CompiledModel& m, int64_t batch, uint64_t seed, int64_t vocab,
                       int64_t classes) {
  std::mt19937_64 rng(seed);
  Leaves l;
  for (const TensorSpec& s : m.training()->inputs) {
    Range r = s.type.dtype == DType::F32 ? Range{0, 1} : Range{0, double(s.name == "ids" ? vocab : classes), true};
    Tensor t = randomTensor(s.type, batch, r, rng);
    l.inputs.push_back(toHost(t));
    l.values[g.findLeaf(OpKind::Input, s.name)] = t;
  }
  return l;
}

void expectEmbeddingStepsMatch(const std::string& source, int64_t vocab, int64_t classes, float lrValue = 0.5f) {
  auto c = compileEmbeddingSource(source);
  ASSERT_TRUE(c);
  const Graph& g = c->training;
  CompiledModel& m = *c->code;
  auto init = initialValues(g, 11);
  ASSERT_TRUE(init.ok()) << init.error().message;
  LeafValues state = std::move(*init);
  NodeId lr = g.findLeaf(OpKind::Hyper, kLearningRateName), stepLeaf = g.findLeaf(OpKind::Hyper, kStepName);
  std::vector<NodeId> wanted{g.loss};
  for (const Update& u : g.updates) wanted.push_back(u.value);
  for (int64_t batch : {1, 9}) {
    for (int step = 0; step < 2; ++step) {
      Leaves in = embeddingInputs(g, m, batch, 300 + static_cast<uint64_t>(step), vocab, classes);
      LeafValues leaves = state;
      for (auto& [id, t] : in.values) leaves[id] = t;
      if (lr != kNoNode) leaves[lr] = Tensor::scalar(lrValue);
      if (stepLeaf != kNoNode) leaves[stepLeaf] = Tensor::scalar(step);
      auto want = interpret(g, leaves, wanted, Precision::F32);
      ASSERT_TRUE(want.ok()) << want.error().message;
      for (int threads : {1, 2}) {
        ThreadsScope ts(threads);
        loadEmbeddingState(g, state, m);
        std::vector<const void*> inputs;
        for (HostTensor& h : in.inputs) inputs.push_back(h.data());
        float loss = NAN;
        auto ok = m.trainStep(inputs, batch, lrValue, static_cast<float>(step), &loss);
        ASSERT_TRUE(ok.ok()) << ok.error().message;
        SCOPED_TRACE("batch " + std::to_string(batch) + " step " + std::to_string(step) + " threads " +
                     std::to_string(threads));
        HostTensor lossHost;
        lossHost.f = {loss};
        EXPECT_TRUE(closeTo((*want)[0], lossHost)) << "loss";
        for (size_t u = 0; u < g.updates.size(); ++u) {
          const std::string& name = g.node(g.updates[u].target).name;
          std::span<float> got = m.tensor(name);
          HostTensor h;
          h.f.assign(got.begin(), got.end());
          EXPECT_TRUE(closeTo((*want)[u + 1], h)) << name;
        }
      }
      for (size_t u = 0; u < g.updates.size(); ++u) state[g.updates[u].target] = (*want)[u + 1];
    }
  }
}

bool hasUpdateOp(const Graph& g, OpKind op) {
  for (const Update& u : g.updates)
    if (g.node(u.value).op == op) return true;
  return false;
}

TEST(EmbeddingTrainStep, SparseSgdStepMatchesTheInterpreter) {
  std::string src = embeddingModelSource("sgd(lr = 0.5)");
  auto c = compileEmbeddingSource(src);
  ASSERT_TRUE(c);
  EXPECT_TRUE(hasUpdateOp(c->training, OpKind::EmbeddingSgdUpdate));
  expectEmbeddingStepsMatch(src, 40, 3);
}

TEST(EmbeddingTrainStep, DenseGradientWithAdamAndMomentumMatchesTheInterpreter) {
  for (const char* opt : {"adam(lr = 0.01)", "sgd(lr = 0.1, momentum = 0.9)", "adagrad(lr = 0.1)"}) {
    SCOPED_TRACE(opt);
    std::string src = embeddingModelSource(opt);
    auto c = compileEmbeddingSource(src);
    ASSERT_TRUE(c);
    EXPECT_FALSE(hasUpdateOp(c->training, OpKind::EmbeddingSgdUpdate));
    expectEmbeddingStepsMatch(src, 40, 3);
  }
}

TEST(EmbeddingTrainStep, WeightDecayTakesTheDenseStep) {
  std::string src = embeddingModelSource("sgd(lr = 0.5)\n  weight_decay = 0.01");
  auto c = compileEmbeddingSource(src);
  ASSERT_TRUE(c);
  EXPECT_FALSE(hasUpdateOp(c->training, OpKind::EmbeddingSgdUpdate));
  expectEmbeddingStepsMatch(src, 40, 3);
}

TEST(EmbeddingTrainStep, SparseStepIsWrittenInPlace) {
  auto c = compileEmbeddingSource(embeddingModelSource("sgd(lr = 0.5)"));
  ASSERT_TRUE(c);
  const Graph& g = c->training;
  LoweredGraph lg = lowerOrFail(g);
  bool found = false;
  for (size_t u = 0; u < g.updates.size(); ++u) {
    if (g.node(g.updates[u].value).op != OpKind::EmbeddingSgdUpdate) continue;
    found = true;
    // Written in place: the update's value is a view of the table's own bytes.
    EXPECT_EQ(lg.storageRoot(g.updates[u].value), g.updates[u].target)
        << "the sparse step must write into the table itself\n" << describeKernels(lg);
  }
  EXPECT_TRUE(found);
  // The dense gradient is not computed at all.
  for (size_t i = 0; i < g.size(); ++i)
    if (g.nodes()[i].op == OpKind::EmbeddingGrad) {
      EXPECT_FALSE(lg.live[i]) << "a dense embedding gradient is computed";
    }
}

// With SGD, rows no id of the batch names are bit-identical after a step; named rows move.
TEST(EmbeddingTrainStep, SgdStepLeavesUntouchedRowsBitIdentical) {
  auto c = compileEmbeddingSource(embeddingModelSource("sgd(lr = 0.5)"));
  ASSERT_TRUE(c);
  CompiledModel& m = *c->code;
  auto init = initialValues(c->training, 5);
  ASSERT_TRUE(init.ok());
  loadEmbeddingState(c->training, *init, m);
  std::span<float> table = m.tensor("e.weight");
  ASSERT_EQ(table.size(), 40u * 6u);
  // Distinctive bits in every row, NaN payloads included: a rewrite of any value shows.
  for (size_t k = 0; k < table.size(); ++k) table[k] = static_cast<float>(k % 7) * 0.01f - 0.03f;
  table[6 * 39 + 2] = -0.0f;
  std::vector<float> before(table.begin(), table.end());
  std::vector<int32_t> ids{3, 3, 17, 0, 22, 17, 3, 8, 8, 0};  // two samples of five ids
  std::vector<int32_t> labels{1, 2};
  const void* inputs[] = {ids.data(), labels.data()};
  for (int threads : {1, 2}) {
    ThreadsScope ts(threads);
    float loss = 0;
    ASSERT_TRUE(m.trainStep(inputs, 2, 0.5f, 0.0f, &loss).ok());
  }
  std::set<int32_t> touched(ids.begin(), ids.end());
  for (int32_t row = 0; row < 40; ++row) {
    bool moved = false;
    for (int d = 0; d < 6; ++d) {
      size_t k = static_cast<size_t>(row * 6 + d);
      if (std::memcmp(&before[k], &table[k], sizeof(float)) != 0) moved = true;
    }
    if (touched.count(row))
      EXPECT_TRUE(moved) << "row " << row << " is in the batch but did not change";
    else
      EXPECT_FALSE(moved) << "row " << row << " is not in the batch but changed";
  }
}

TEST(EmbeddingTrainStep, IdOutOfRangeIsAnErrorNamingTheInput) {
  auto c = compileEmbeddingSource(embeddingModelSource("sgd(lr = 0.5)"));
  ASSERT_TRUE(c);
  CompiledModel& m = *c->code;
  auto init = initialValues(c->training, 5);
  ASSERT_TRUE(init.ok());
  loadEmbeddingState(c->training, *init, m);
  std::vector<float> before(m.tensor("e.weight").begin(), m.tensor("e.weight").end());
  for (int32_t bad : {40, -1, 1 << 30}) {
    std::vector<int32_t> ids{1, 2, 3, 4, 5, 6, 7, bad, 9, 10};
    std::vector<int32_t> labels{0, 1};
    const void* inputs[] = {ids.data(), labels.data()};
    float loss = 0;
    auto r = m.trainStep(inputs, 2, 0.5f, 0.0f, &loss);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("input 'ids'"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("id " + std::to_string(bad) + " at [1, 2]"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("[0, 40)"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("embedding 'e'"), std::string::npos) << r.error().message;
    std::vector<float> probs(2 * 3);
    void* outs[] = {probs.data()};
    const void* fin[] = {ids.data(), nullptr};  // the labels are not used by the forward pass
    auto f = m.forward(fin, outs, 2);
    ASSERT_FALSE(f.ok());
    EXPECT_NE(f.error().message.find("input 'ids'"), std::string::npos) << f.error().message;
  }
  std::vector<float> after(m.tensor("e.weight").begin(), m.tensor("e.weight").end());
  EXPECT_TRUE(before == after) << "a refused step changed the table";
}

TEST(EmbeddingTrainStep, InterpreterRefusesAnIdOutOfRange) {
  auto c = compileEmbeddingSource(embeddingModelSource("sgd(lr = 0.5)"));
  ASSERT_TRUE(c);
  const Graph& g = c->inference;
  auto init = initialValues(g, 5);
  ASSERT_TRUE(init.ok());
  LeafValues leaves = *init;
  leaves[g.findLeaf(OpKind::Input, "ids")] = Tensor(DType::I32, {1, 5}, {0, 1, 2, 40, 3});
  auto r = interpret(g, leaves, {g.outputs[0].node});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("input 'ids': id 40 at [0, 3] is outside [0, 40)"), std::string::npos)
      << r.error().message;
}

// The new losses, with the sparse step and the dense one.
TEST(EmbeddingTrainStep, LabelSmoothingAndClassWeightsMatchTheInterpreter) {
  expectEmbeddingStepsMatch(embeddingModelSource("sgd(lr = 0.5)", "cross_entropy(logits, label, label_smoothing = 0.2)"), 40, 3);
  expectEmbeddingStepsMatch(
      embeddingModelSource("adam(lr = 0.01)", "cross_entropy(logits, label, class_weights = [0.5, 2, 1], label_smoothing = 0.1)"),
      40, 3);
}

const char* kProbabilityTargets = R"(
model probs
input x: f32[batch, 6]
input t: f32[batch, 4]
h = dense(x, 8, activation = relu)
logits = dense(h, 4)
target = softmax(t * 3)
train {
  loss = cross_entropy(logits, target, label_smoothing = 0.1) + huber(h, where(h - 0.5, pow(h + 1, 1.5), h), delta = 0.3)
  optimizer = sgd(lr = 0.1)
}
)";

TEST(EmbeddingTrainStep, ProbabilityTargetsHuberPowWhereMatchTheInterpreter) {
  expectEmbeddingStepsMatch(kProbabilityTargets, 0, 0);
}

// ---- The persistent gradient buffer (EmbeddingGradBuffers.h) ---------------------------------

const char* const kBufferOptimizers[] = {
    "adam(lr = 0.01)",
    "sgd(lr = 0.1, momentum = 0.9)",
    "sgd(lr = 0.1, momentum = 0.9, nesterov = true)",
    "rmsprop(lr = 0.01)",
    "rmsprop(lr = 0.01, momentum = 0.5)",
    "adadelta(lr = 1)",
    "adagrad(lr = 0.1)",
    "sgd(lr = 0.5)\n  weight_decay = 0.01",
    "adam(lr = 0.01)\n  weight_decay = 0.1",
};

// Ids for three steps of two samples: repeated ids, then ids disjoint from the first step's,
// then the first step's rows again.
const std::vector<std::vector<int32_t>> kBufferStepIds = {
    {3, 3, 17, 0, 22, 17, 3, 8, 8, 0},
    {1, 2, 4, 5, 6, 7, 9, 10, 11, 12},
    {0, 3, 3, 3, 39, 17, 22, 22, 8, 39},
};

bool hasEmbeddingBufferOp(const Graph& g, OpKind op) {
  for (const Node& n : g.nodes())
    if (n.op == op) return true;
  return false;
}

// Every optimizer but plain SGD keeps the table's gradient in a buffer; their steps agree
// with the interpreter's (at a rate where RMSprop's first steps, +-lr / sqrt(1 - rho), stay
// well conditioned in f32).
TEST(EmbeddingGradBuffer, EveryStatefulOptimizerMatchesTheInterpreter) {
  for (const char* opt : kBufferOptimizers) {
    SCOPED_TRACE(opt);
    std::string src = embeddingModelSource(opt);
    auto c = compileEmbeddingSource(src);
    ASSERT_TRUE(c);
    EXPECT_TRUE(hasEmbeddingBufferOp(c->training, OpKind::EmbeddingGradAccumulate));
    expectEmbeddingStepsMatch(src, 40, 3, 0.01f);
  }
}

// The buffer's step gives the dense gradient's results bit for bit, step after step, with
// repeated and disjoint ids, on one thread and two.
TEST(EmbeddingGradBuffer, BitIdenticalToTheDenseGradient) {
  for (const char* opt : kBufferOptimizers) {
    SCOPED_TRACE(opt);
    std::string src = embeddingModelSource(opt);
    auto sparse = compileEmbeddingSource(src, true), dense = compileEmbeddingSource(src, false);
    ASSERT_TRUE(sparse && dense);
    EXPECT_FALSE(hasEmbeddingBufferOp(dense->training, OpKind::EmbeddingGradAccumulate));
    auto init = initialValues(dense->training, 7);
    ASSERT_TRUE(init.ok()) << init.error().message;
    for (int threads : {1, 2}) {
      ThreadsScope ts(threads);
      loadEmbeddingState(dense->training, *init, *dense->code);
      loadEmbeddingState(dense->training, *init, *sparse->code);
      for (size_t step = 0; step < kBufferStepIds.size(); ++step) {
        std::vector<int32_t> ids = kBufferStepIds[step];
        std::vector<int32_t> labels{int32_t(step % 3), int32_t((step + 1) % 3)};
        const void* inputs[] = {ids.data(), labels.data()};
        float lossDense = 0, lossSparse = 0;
        ASSERT_TRUE(dense->code->trainStep(inputs, 2, 0.05f, float(step), &lossDense).ok());
        ASSERT_TRUE(sparse->code->trainStep(inputs, 2, 0.05f, float(step), &lossSparse).ok());
        EXPECT_EQ(std::memcmp(&lossDense, &lossSparse, sizeof(float)), 0) << "step " << step;
        for (const StateEntry& e : dense->code->stateLayout().entries()) {
          std::span<float> a = dense->code->tensor(e.name), b = sparse->code->tensor(e.name);
          ASSERT_EQ(a.size(), b.size()) << e.name;
          EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size_bytes()), 0)
              << e.name << " differs after step " << step << " with " << threads << " threads";
        }
        std::span<float> buffer = sparse->code->tensor(std::string("e.weight") + kEmbeddingGradBufferSuffix);
        ASSERT_EQ(buffer.size(), 40u * 6u);
        for (float v : buffer) ASSERT_EQ(v, 0.0f) << "the buffer is not zero after step " << step;
      }
    }
  }
}

// The plan: the accumulation and the clearing live in the buffer's own bytes, and no kernel
// computes a dense gradient.
TEST(EmbeddingGradBuffer, AccumulatesAndClearsInPlace) {
  auto c = compileEmbeddingSource(embeddingModelSource("adam(lr = 0.01)"));
  ASSERT_TRUE(c);
  const Graph& g = c->training;
  LoweredGraph lg = lowerOrFail(g);
  NodeId buffer = g.findLeaf(OpKind::State, std::string("e.weight") + kEmbeddingGradBufferSuffix);
  ASSERT_NE(buffer, kNoNode);
  bool accumulates = false, clears = false;
  for (size_t i = 0; i < g.size(); ++i) {
    const Node& n = g.nodes()[i];
    if (n.op == OpKind::EmbeddingGrad) {
      EXPECT_FALSE(lg.live[i]) << "a dense embedding gradient is computed";
    }
    if (n.op == OpKind::EmbeddingGradAccumulate) {
      accumulates = true;
      EXPECT_EQ(lg.storageRoot(NodeId(i)), buffer) << describeKernels(lg);
    }
  }
  for (const Update& u : g.updates) {
    if (u.target != buffer) continue;
    clears = g.node(u.value).op == OpKind::EmbeddingGradClear;
    EXPECT_EQ(lg.storageRoot(u.value), buffer) << describeKernels(lg);
  }
  EXPECT_TRUE(accumulates && clears);
  // No workspace buffer the size of the table.
  for (size_t b = 0; b < lg.buffers.size(); ++b)
    EXPECT_NE(lg.buffers[b].bytes, 40 * 6 * 4) << "buffer " << b << " holds %" << lg.bufferNode[b];
}

// At run time: a step writes the buffer only in the rows its ids name. A value planted in an
// untouched row survives the step (a kernel writing the whole table would overwrite it),
// and every touched row is zero again afterwards.
TEST(EmbeddingGradBuffer, StepWritesOnlyTheRowsTheIdsName) {
  auto c = compileEmbeddingSource(embeddingModelSource("adam(lr = 0.01)"));
  ASSERT_TRUE(c);
  CompiledModel& m = *c->code;
  auto init = initialValues(c->training, 5);
  ASSERT_TRUE(init.ok());
  loadEmbeddingState(c->training, *init, m);
  std::span<float> buffer = m.tensor(std::string("e.weight") + kEmbeddingGradBufferSuffix);
  ASSERT_EQ(buffer.size(), 40u * 6u);
  const std::vector<int32_t>& ids = kBufferStepIds[0];
  std::set<int32_t> touched(ids.begin(), ids.end());
  for (int threads : {1, 2}) {
    ThreadsScope ts(threads);
    for (size_t k = 0; k < buffer.size(); ++k) buffer[k] = touched.count(int32_t(k / 6)) ? 0.0f : 1234.5f;
    std::vector<int32_t> labels{1, 2};
    const void* inputs[] = {ids.data(), labels.data()};
    float loss = 0;
    ASSERT_TRUE(m.trainStep(inputs, 2, 0.01f, 0.0f, &loss).ok());
    for (size_t k = 0; k < buffer.size(); ++k) {
      float want = touched.count(int32_t(k / 6)) ? 0.0f : 1234.5f;
      ASSERT_EQ(buffer[k], want) << "row " << k / 6 << " column " << k % 6 << " with " << threads << " threads";
    }
  }
}

}  // namespace
}  // namespace nnc
