// How the entry point splits tasks across threads (TaskSplit.h): the decision for small
// kernels over samples and over anything else, and a transformer block's training step with
// the default split (not the tests' usual chunkWork = 1) bit-identical on 1 and 2 threads.
#include <gtest/gtest.h>

#include <cstring>

#include "compiler/codegen/TaskSplit.h"
#include "compiler/train/Initializers.h"
#include "compiler/train/TrainingGraph.h"
#include "dsl/Frontend.h"
#include "runtime/parallel/ThreadPool.h"
#include "tests/codegen/CodegenTestUtil.h"

namespace nnc {
namespace {

using namespace nnc::testing;
using codegen::taskGrain;
using codegen::taskSplit;

const int64_t kDefaultChunkWork = CompileOptions{}.chunkWork;

// The chunks a task gets at this batch on this many threads, as the runtime cuts it.
int64_t splitChunks(Extent range, Extent work, int64_t batch, int threads, int64_t chunkWork = kDefaultChunkWork) {
  codegen::TaskSplit s = taskSplit(range, work, chunkWork);
  if (s.direct) return 1;
  int64_t n = range.batched ? range.k * batch : range.k;
  return rt::chunkCount(n, taskGrain(s, work, batch), threads);
}

TEST(TaskSplit, SmallKernelsOverSamplesSplitAlongTheBatch) {
  // tiny_transformer's head transposes: [batch, 12, 4, 8], 2 work units an element. At batch
  // 32 (24,576 units, under chunkWork) they used to run on one thread between products split
  // by rows; now they split the same way.
  const Extent elements{12 * 4 * 8, true}, perElement{2, false};
  EXPECT_EQ(splitChunks(elements, perElement, 32, 2), 2);
  EXPECT_EQ(splitChunks(elements, perElement, 32, 1), 1);
  // A layernorm's row statistics: [batch * 12] rows of 32 features.
  EXPECT_EQ(splitChunks(Extent{12, true}, Extent{64, false}, 32, 2), 2);
  // Still one thread when even the whole batch is too little work for two chunks.
  EXPECT_EQ(splitChunks(elements, perElement, 1, 2), 1);
  EXPECT_EQ(splitChunks(Extent{1, true}, Extent{10, false}, 64, 2), 1);
}

TEST(TaskSplit, OtherRangesKeepTheWholeChunkWork) {
  // A bias gradient's 32 channels (a sum over 384 rows each): not over samples, so it stays
  // on one thread unless each half has chunkWork of its own.
  codegen::TaskSplit s = taskSplit(Extent{32, false}, Extent{384, false}, kDefaultChunkWork);
  EXPECT_TRUE(s.direct);
  EXPECT_EQ(taskGrain(s, Extent{384, false}, 32), 0);
  EXPECT_EQ(splitChunks(Extent{4096, false}, Extent{16, false}, 32, 2), 2);   // 2 x 32768 units
  EXPECT_EQ(splitChunks(Extent{4095, false}, Extent{16, false}, 32, 2), 1);
  // Work that grows with the batch (a sum over samples per channel) is never called directly.
  codegen::TaskSplit perChannel = taskSplit(Extent{32, false}, Extent{12, true}, kDefaultChunkWork);
  EXPECT_FALSE(perChannel.direct);
  EXPECT_EQ(taskGrain(perChannel, Extent{12, true}, 1024), (kDefaultChunkWork + 12 * 1024 - 1) / (12 * 1024));
}

TEST(TaskSplit, ChunkWorkOneSplitsEverything) {
  EXPECT_EQ(splitChunks(Extent{3, false}, Extent{1, false}, 1, 2, 1), 2);
  EXPECT_EQ(splitChunks(Extent{1, true}, Extent{1, false}, 2, 2, 1), 2);
  EXPECT_EQ(taskGrain(taskSplit(Extent{7, true}, Extent{1000, false}, 1), Extent{1000, false}, 3), 1);
}

TEST(TaskSplit, ProductsOverSamplesSplitTheirRowsUnlessTheWeightDominates) {
  using codegen::splitProductByColumns;
  // tiny_transformer's feed-forward layer: 12 rows a sample, 32 -> 64 (4 panels of 16).
  EXPECT_FALSE(splitProductByColumns(Extent{12, true}, Extent{32, false}, 64, 4, 4));
  // Its backward through the same layer with the ReLU gradient: 64 -> 32 would be 2 panels.
  EXPECT_FALSE(splitProductByColumns(Extent{12, true}, Extent{64, false}, 32, 2, 4));
  // Dense layers over a batch of single rows against wide weights keep their columns:
  // fashion_cnn's 3136 -> 1024, fashion_mlp's 784 -> 256 and 256 -> 128.
  EXPECT_TRUE(splitProductByColumns(Extent{1, true}, Extent{3136, false}, 1024, 64, 4));
  EXPECT_TRUE(splitProductByColumns(Extent{1, true}, Extent{784, false}, 256, 16, 4));
  EXPECT_TRUE(splitProductByColumns(Extent{1, true}, Extent{256, false}, 128, 8, 4));
  // Rows that are not samples (a weight gradient's input features) keep the columns, and
  // too few panels never split by columns.
  EXPECT_TRUE(splitProductByColumns(Extent{32, false}, Extent{12, true}, 64, 4, 4));
  EXPECT_FALSE(splitProductByColumns(Extent{1, true}, Extent{3136, false}, 48, 3, 4));
}

// A transformer block as in examples/tiny_transformer.nn: products split by rows, the head
// transposes, attention rows, layernorm rows and the sums over samples all at their default
// split, so that at batch 32 the small kernels over samples now run on both threads.
const char* kSplitTransformer = R"(
model splitxf
input seq: f32[batch, 12, 18]
input label: i32[batch]
h      = dense(seq, 32)
att    = multi_head_attention(h, h, heads = 4, key_dim = 8, causal = true)
n1     = layernorm(h + att)
ff1    = dense(n1, 64, activation = relu)
ff2    = dense(ff1, 32)
n2     = layernorm(n1 + ff2)
pooled = max(n2, axis = 1)
logits = dense(pooled, 5)
output probs = softmax(logits)
train {
  loss      = cross_entropy(logits, label)
  optimizer = adam(lr = 3e-3)
}
)";

std::vector<std::byte> splitTestTrain(const Graph& training, CompiledModel& m, int threads, int64_t batch, int steps) {
  ThreadsScope ts(threads);
  auto init = initialValues(training, 11);
  EXPECT_TRUE(init.ok());
  if (!init) return {};
  for (const StateEntry& e : m.stateLayout().entries()) {
    NodeId id = training.findLeaf(e.trainable ? OpKind::Param : OpKind::State, e.name);
    if (id == kNoNode) continue;
    const Tensor& t = init->at(id);
    std::span<float> dst = m.tensor(e.name);
    for (size_t k = 0; k < dst.size(); ++k) dst[k] = static_cast<float>(t.data[k]);
  }
  for (int step = 0; step < steps; ++step) {
    std::mt19937_64 rng(900 + static_cast<uint64_t>(step));
    std::vector<HostTensor> host;
    for (const TensorSpec& s : m.training()->inputs) {
      Range r = s.type.dtype == DType::I32 ? Range{0, 5, true} : Range{-2, 2};
      host.push_back(toHost(randomTensor(s.type, batch, r, rng)));
    }
    std::vector<const void*> inputs;
    for (HostTensor& h : host) inputs.push_back(h.data());
    float loss = 0;
    auto ok = m.trainStep(inputs, batch, 3e-3f, static_cast<float>(step), &loss);
    EXPECT_TRUE(ok.ok()) << (ok.ok() ? "" : ok.error().message);
    EXPECT_TRUE(std::isfinite(loss));
  }
  return std::vector<std::byte>(m.stateData(), m.stateData() + m.stateLayout().bytes());
}

TEST(TaskSplit, TransformerStepBitIdenticalOnOneAndTwoThreadsWithTheDefaultSplit) {
  DiagnosticEngine diags("splitxf.nn", kSplitTransformer);
  std::optional<Model> model = compileModel(kSplitTransformer, diags);
  ASSERT_TRUE(model.has_value()) << diags.renderToString();
  auto training = buildTrainingGraph(*model);
  ASSERT_TRUE(training.ok()) << training.error().message;
  auto inference = buildInferenceGraph(*model);
  ASSERT_TRUE(inference.ok()) << inference.error().message;
  CompileOptions opt;  // the default chunkWork: the split a user gets
  auto code = jitCompile(*inference, &*training, opt);
  ASSERT_TRUE(code.ok()) << code.error().message;
  for (int64_t batch : {32, 31, 3}) {
    std::vector<std::byte> one = splitTestTrain(*training, **code, 1, batch, 3);
    std::vector<std::byte> two = splitTestTrain(*training, **code, 2, batch, 3);
    ASSERT_FALSE(one.empty());
    EXPECT_TRUE(one == two) << "batch " << batch << ": 1 and 2 threads differ";
  }
}

}  // namespace
}  // namespace nnc
