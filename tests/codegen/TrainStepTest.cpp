// Whole training steps compiled by the JIT against the interpreter's training step, and the
// reproducibility of compiled training: small models written in the .nn language, through the
// real front end and training-graph builder.
#include <gtest/gtest.h>

#include "compiler/train/Initializers.h"
#include "compiler/train/TrainingGraph.h"
#include "dsl/Frontend.h"
#include "tests/codegen/CodegenTestUtil.h"

namespace nnc {
namespace {

using namespace nnc::testing;

const char* kMlp = R"(
model mlp
input x: f32[batch, 12]
input label: i32[batch]
h = dense(x, 16, activation = relu)
d = dropout(h, 0.3)
g = dense(d, 8, activation = tanh)
logits = dense(g, 5)
output probs = softmax(logits)
train {
  loss = cross_entropy(logits, label)
  optimizer = adam(lr = 1e-2)
  weight_decay = 1e-3
}
)";

const char* kCnn = R"(
model cnn
input image: f32[batch, 9, 9]
input label: i32[batch]
pixels = reshape(image, [9, 9, 1])
c1 = conv2d(pixels, 4, kernel = 3, padding = same, activation = relu)
p1 = maxpool(c1, 2)
c2 = conv2d(p1, 6, kernel = 3, stride = 2, padding = valid, activation = elu)
a2 = avgpool(c2, 1)
flat = flatten(a2)
logits = dense(flat, 3)
output probs = softmax(logits)
train {
  loss = cross_entropy(logits, label)
  optimizer = sgd(lr = 0.1, momentum = 0.9)
}
)";

const char* kMaxoutBatchnorm = R"(
model mb
input x: f32[batch, 10]
input label: i32[batch]
m1 = maxout(x, 6, pieces = 2)
bn = batchnorm(m1, momentum = 0.9)
logits = dense(bn, 4)
output probs = softmax(logits)
train {
  loss = cross_entropy(logits, label)
  optimizer = sgd(lr = 0.05, momentum = 0.9, nesterov = true)
}
)";

const char* kRegression = R"(
model reg
input x: f32[batch, 6]
input y: f32[batch, 2]
h = dense(x, 8, activation = gelu)
s = dense(h, 8, activation = softplus)
out = dense(s, 2)
output pred = out
train {
  loss = mse(out, y)
  optimizer = rmsprop(lr = 1e-2, momentum = 0.5)
}
)";

const char* kOtherOptimizers = R"(
model opt
input x: f32[batch, 6]
input y: f32[batch, 3]
a = dense(x, 5, activation = sigmoid)
b = dense(a, 3)
output pred = b
train {
  loss = binary_cross_entropy(b, y)
  optimizer = adadelta(lr = 1.0)
}
)";

struct Compiled {
  Model model;
  Graph training, inference;
  std::unique_ptr<CompiledModel> code;
};

std::unique_ptr<Compiled> compileSource(const char* source) {
  DiagnosticEngine diags("test.nn", source);
  std::optional<Model> model = compileModel(source, diags);
  EXPECT_TRUE(model.has_value()) << diags.renderToString();
  if (!model) return nullptr;
  auto c = std::make_unique<Compiled>();
  c->model = std::move(*model);
  auto tg = buildTrainingGraph(c->model);
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

// Writes interpreter leaf values of every Param/State into the compiled state.
void loadState(const Graph& g, const LeafValues& values, CompiledModel& m) {
  for (const StateEntry& e : m.stateLayout().entries()) {
    NodeId id = g.findLeaf(e.trainable ? OpKind::Param : OpKind::State, e.name);
    if (id == kNoNode) continue;  // an optimizer slot, when `g` is the inference graph
    const Tensor& t = values.at(id);
    std::span<float> dst = m.tensor(e.name);
    ASSERT_EQ(dst.size(), t.data.size()) << e.name;
    for (size_t k = 0; k < dst.size(); ++k) dst[k] = static_cast<float>(t.data[k]);
  }
}

// Input data for the training graph: labels in range, other inputs in [-2, 2] ([0, 1] for
// binary targets).
Leaves trainingInputs(const Graph& g, const CompiledModel& m, int64_t batch, uint64_t seed, int64_t classes) {
  std::mt19937_64 rng(seed);
  Leaves l;
  for (const TensorSpec& s : m.training()->inputs) {
    Range r = s.type.dtype == DType::I32 ? Range{0, static_cast<double>(classes), true} : Range{-2, 2};
    if (s.name == "y") r = {0, 1};
    Tensor t = randomTensor(s.type, batch, r, rng);
    l.inputs.push_back(toHost(t));
    l.values[g.findLeaf(OpKind::Input, s.name)] = t;
  }
  return l;
}

// For each step: the compiled step and the interpreter's step from the same state must give
// the same loss and the same new value of every Param and State.
void expectStepsMatch(const char* source, int64_t classes, int steps = 3) {
  auto c = compileSource(source);
  ASSERT_TRUE(c);
  const Graph& g = c->training;
  CompiledModel& m = *c->code;
  auto init = initialValues(g, 7);
  ASSERT_TRUE(init.ok()) << init.error().message;
  LeafValues state = std::move(*init);
  NodeId lr = g.findLeaf(OpKind::Hyper, kLearningRateName), stepLeaf = g.findLeaf(OpKind::Hyper, kStepName);
  std::vector<NodeId> wanted{g.loss};
  for (const Update& u : g.updates) wanted.push_back(u.value);
  for (int64_t batch : {1, 7, 16}) {
    for (int step = 0; step < steps; ++step) {
      Leaves in = trainingInputs(g, m, batch, 100 + static_cast<uint64_t>(step), classes);
      LeafValues leaves = state;
      for (auto& [id, t] : in.values) leaves[id] = t;
      float lrValue = 0.05f;
      if (lr != kNoNode) leaves[lr] = Tensor::scalar(lrValue);
      if (stepLeaf != kNoNode) leaves[stepLeaf] = Tensor::scalar(step);
      auto want = interpret(g, leaves, wanted, Precision::F32);
      ASSERT_TRUE(want.ok()) << want.error().message;
      for (int threads : {1, 2}) {
        ThreadsScope ts(threads);
        loadState(g, state, m);
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
      // Continue from the interpreter's state.
      for (size_t u = 0; u < g.updates.size(); ++u) state[g.updates[u].target] = (*want)[u + 1];
    }
  }
}

TEST(TrainStep, MlpWithDropoutAdamAndWeightDecay) { expectStepsMatch(kMlp, 5); }
TEST(TrainStep, ConvNetWithPoolingAndSgdMomentum) { expectStepsMatch(kCnn, 3); }
TEST(TrainStep, MaxoutBatchnormNesterov) { expectStepsMatch(kMaxoutBatchnorm, 4); }
TEST(TrainStep, RegressionWithRmsprop) { expectStepsMatch(kRegression, 0); }
TEST(TrainStep, BinaryCrossEntropyWithAdadelta) { expectStepsMatch(kOtherOptimizers, 0); }
// bf16 mixed precision: the compiled step rounds the products' operands as the interpreter does.
TEST(TrainStep, ConvNetInBf16MixedPrecision) {
  std::string source = kCnn;
  source.insert(source.find("}\n", source.find("optimizer")), "  precision = bf16\n");
  expectStepsMatch(source.c_str(), 3);
}

// Runs `steps` compiled steps from the initial state on `threads` threads; returns the state.
std::vector<std::byte> train(Compiled& c, int threads, int steps) {
  ThreadsScope ts(threads);
  CompiledModel& m = *c.code;
  auto init = initialValues(c.training, 3);
  EXPECT_TRUE(init.ok());
  loadState(c.training, *init, m);
  for (int step = 0; step < steps; ++step) {
    Leaves in = trainingInputs(c.training, m, 16, 500 + static_cast<uint64_t>(step), 5);
    std::vector<const void*> inputs;
    for (HostTensor& h : in.inputs) inputs.push_back(h.data());
    float loss = 0;
    EXPECT_TRUE(m.trainStep(inputs, 16, 0.01f, static_cast<float>(step), &loss).ok());
  }
  return std::vector<std::byte>(m.stateData(), m.stateData() + m.stateLayout().bytes());
}

TEST(TrainStep, BitReproducibleForAThreadCountAndAcrossThreadCounts) {
  auto c = compileSource(kMlp);
  ASSERT_TRUE(c);
  std::vector<std::byte> a = train(*c, 2, 6), b = train(*c, 2, 6), one = train(*c, 1, 6);
  EXPECT_TRUE(a == b) << "two runs on 2 threads differ";
  // Kernels never split a reduction across threads, so the thread count does not matter.
  EXPECT_TRUE(a == one) << "1 and 2 threads differ";
}

// Batch normalisation after a convolution (issue 14): statistics and gradients as per-sample
// sums, then sums over the batch (IRBuilder::reduce), with an odd channel count (7: one
// vector block does not divide it). The compiled step matches the
// interpreter's, and every sum has one order whatever the thread count. No bias before a
// batchnorm: its gradient is rounding noise (batchnorm subtracts the mean), which Adam
// amplifies into steps that no two summation orders agree on; the bit-identity test, which
// compares one order with itself, gives the first convolution its bias back (one more split
// per-channel sum).
const char* kConvBatchnorm = R"(
model cbn
input x: f32[batch, 6, 6, 2]
input label: i32[batch]
c = conv2d(x, 7, kernel = 3, bias = false)
bn = batchnorm(c, momentum = 0.8)
r = relu(bn)
c2 = conv2d(r, 9, kernel = 1, bias = false)
bn2 = batchnorm(c2)
logits = dense(flatten(bn2), 4)
output probs = softmax(logits)
train {
  loss = cross_entropy(logits, label)
  optimizer = adam(lr = 1e-2)
}
)";

TEST(TrainStep, ConvBatchnormOddChannels) { expectStepsMatch(kConvBatchnorm, 4); }

TEST(TrainStep, ConvBatchnormBitIdenticalAcrossThreadCounts) {
  std::string source = kConvBatchnorm;
  source.replace(source.find(", bias = false"), 14, "");
  auto c = compileSource(source.c_str());
  ASSERT_TRUE(c);
  std::vector<std::byte> two = train(*c, 2, 4), one = train(*c, 1, 4);
  EXPECT_TRUE(two == one) << "1 and 2 threads differ";
}

TEST(TrainStep, ForwardOfTheInferenceGraphMatches) {
  auto c = compileSource(kCnn);
  ASSERT_TRUE(c);
  const Graph& g = c->inference;
  CompiledModel& m = *c->code;
  auto init = initialValues(g, 9);
  ASSERT_TRUE(init.ok());
  loadState(g, *init, m);
  for (int64_t batch : {1, 7, 16}) {
    std::mt19937_64 rng(static_cast<uint64_t>(batch));
    LeafValues leaves = *init;
    std::vector<HostTensor> hostIn;
    for (const TensorSpec& s : m.inference().inputs) {
      Tensor t = randomTensor(s.type, batch, s.type.dtype == DType::I32 ? Range{0, 3, true} : Range{}, rng);
      hostIn.push_back(toHost(t));
      leaves[g.findLeaf(OpKind::Input, s.name)] = t;
    }
    std::vector<NodeId> wanted;
    for (const Output& o : g.outputs) wanted.push_back(o.node);
    auto want = interpret(g, leaves, wanted, Precision::F32);
    ASSERT_TRUE(want.ok()) << want.error().message;
    std::vector<HostTensor> outs;
    for (const TensorSpec& s : m.inference().outputs) outs.push_back(hostBuffer(s.type, batch));
    std::vector<const void*> in;
    for (HostTensor& h : hostIn) in.push_back(h.data());
    std::vector<void*> out;
    for (HostTensor& h : outs) out.push_back(h.data());
    ASSERT_TRUE(m.forward(in, out, batch).ok());
    for (size_t i = 0; i < outs.size(); ++i) EXPECT_TRUE(closeTo((*want)[i], outs[i])) << g.outputs[i].name;
  }
}

// ---- recurrences: the compiled time loops (forward and backward) against the interpreter's ----
const char* kRecurrentLoops = R"(
model loops
input seq: f32[batch, 6, 3]
input label: i32[batch]
r = rnn(seq, 5, activation = relu, sequences = true)
l = lstm(r, 4, sequences = true, bidirectional = true)
g = gru(l, 3, bidirectional = true)
e = rnn(seq, 2, activation = elu)
n = rnn(seq, 3, activation = none, bidirectional = true)
logits = dense(concat([g, e, n]), 3)
output probs = softmax(logits)
train {
  loss = cross_entropy(logits, label)
  optimizer = adam(lr = 1e-2)
}
)";

// Units that are not a multiple of the vector width, and a sequence of one step.
const char* kRecurrentOddSizes = R"(
model odd
input seq: f32[batch, 1, 5]
input more: f32[batch, 9, 2]
input label: i32[batch]
a = lstm(seq, 11, bidirectional = true)
b = gru(more, 13, sequences = true)
c = rnn(b, 9, activation = sigmoid)
logits = dense(concat([a, c]), 3)
train {
  loss = cross_entropy(logits, label)
  optimizer = sgd(lr = 0.1, momentum = 0.5)
}
)";

TEST(TrainStep, RecurrentLoopsEveryCellBothDirections) { expectStepsMatch(kRecurrentLoops, 3); }
TEST(TrainStep, RecurrentLoopsOddSizes) { expectStepsMatch(kRecurrentOddSizes, 3, 2); }

// The language promises 4096 steps: one loop, so it compiles like a short sequence and runs a
// training step (not timed).
TEST(TrainStep, LstmOf4096StepsCompilesAndRunsAStep) {
  auto c = compileSource(R"(
model long_lstm
input seq: f32[batch, 4096, 8]
input label: i32[batch]
h = lstm(seq, 32, bidirectional = true)
logits = dense(h, 5)
train {
  loss = cross_entropy(logits, label)
  optimizer = adam()
}
)");
  ASSERT_TRUE(c);
  CompiledModel& m = *c->code;
  Leaves in = trainingInputs(c->training, m, 2, 1, 5);
  std::vector<const void*> inputs;
  for (HostTensor& h : in.inputs) inputs.push_back(h.data());
  float loss = NAN;
  ASSERT_TRUE(m.trainStep(inputs, 2, 1e-3f, 0.0f, &loss).ok());
  EXPECT_TRUE(std::isfinite(loss)) << loss;
  EXPECT_GT(loss, 0.0f);
}

}  // namespace
}  // namespace nnc
