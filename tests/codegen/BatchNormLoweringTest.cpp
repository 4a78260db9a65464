// Batch normalisation in training (issue 14): the training graph's statistics and gradients
// are two independent per-channel sums in each direction (ModeLowering's y = d * scale +
// shift form) instead of the textbook form's seven, and every sum over the full-size tensor
// runs per sample (IRBuilder::reduce), so it is split across threads along the samples. The
// two sums of each direction are siblings (SiblingReductions.h): one kernel reads the tensor
// once for both. With NNC_FUSE_ROW_SUMS=1 the forward ones are sums along each output row
// first, which the convolution that computes the tensor takes (EpilogueRowSums.h), so the
// tensor is not read again for them. The
// lowered graph is checked here; TrainStepTest checks the numbers against
// the interpreter.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>

#include "compiler/ir/EpilogueRowSums.h"
#include "compiler/ir/TypedAttrs.h"
#include "compiler/lowering/Lowering.h"
#include "compiler/train/TrainingGraph.h"
#include "dsl/Frontend.h"
#include "tests/codegen/CodegenTestUtil.h"

namespace nnc {
namespace {

const char* kConvBn = R"(
model cbn
input x: f32[batch, 8, 8, 3]
input label: i32[batch]
c = conv2d(x, 16, kernel = 3, bias = false)
bn = batchnorm(c)
r = relu(bn)
logits = dense(flatten(r), 4)
output probs = softmax(logits)
train {
  loss = cross_entropy(logits, label)
  optimizer = sgd(lr = 0.1)
}
)";

// NNC_FUSE_ROW_SUMS=1 while the scope lives, when asked.
struct BatchNormRowSumsScope {
  explicit BatchNormRowSumsScope(bool on) {
    if (on) setenv("NNC_FUSE_ROW_SUMS", "1", 1);
  }
  ~BatchNormRowSumsScope() { unsetenv("NNC_FUSE_ROW_SUMS"); }
};

// withRowSums: with NNC_FUSE_ROW_SUMS=1 (the graph's row sums, fused into the convolution).
void expectBatchNormKernels(bool withRowSums) {
  SCOPED_TRACE(withRowSums ? "NNC_FUSE_ROW_SUMS=1" : "default");
  Result<Graph> g = makeError("not built");
  {
    BatchNormRowSumsScope scope(withRowSums);
    DiagnosticEngine diags("test.nn", kConvBn);
    std::optional<Model> model = compileModel(kConvBn, diags);
    ASSERT_TRUE(model.has_value()) << diags.renderToString();
    g = buildTrainingGraph(*model);
  }
  ASSERT_TRUE(g.ok()) << g.error().message;
  auto layout = StateLayout::build({&*g});
  ASSERT_TRUE(layout.ok());
  LoweringOptions options;
  options.fuseRowSums = withRowSums;
  auto lg = lowerGraph(*g, *layout, options);
  ASSERT_TRUE(lg.ok()) << lg.error().message;
  const Shape full{kBatch, 8, 8, 16}, rowSums{kBatch, 8, 16};
  int fullSums = 0, perSample = 0, batchSums = 0, fullKernels = 0, batchKernels = 0, rowSumSums = 0, rowSumKernels = 0;
  for (const Kernel& k : lg->kernels) {
    std::vector<NodeId> sums{k.root};
    for (NodeId f : k.fused)
      if (loweringKind(g->node(f).op) == LoweringKind::Reduce) sums.push_back(f);
    bool overFull = false, overBatch = false, overRowSums = false;
    for (NodeId s : sums) {
      const Node& sum = g->node(s);
      if (loweringKind(sum.op) != LoweringKind::Reduce) continue;
      const Shape& operand = g->type(sum.inputs[0]).shape;
      std::vector<int64_t> axes = AxesAttr::of(sum).axes;
      if (operand == full) {
        ++fullSums;
        overFull = true;
        // Per sample: the batch axis is kept, so the threads split the samples.
        perSample += std::find(axes.begin(), axes.end(), 0) == axes.end();
      }
      if (operand == Shape{kBatch, 16}) {
        ++batchSums;
        overBatch = true;
      }
      if (operand == rowSums) {
        ++rowSumSums;
        overRowSums = true;
      }
    }
    fullKernels += overFull;
    batchKernels += overBatch;
    rowSumKernels += overRowSums;
  }
  // Forward: E[d] and E[d^2]; backward: sum(dy) and sum(dy * d) (the textbook form: 7).
  EXPECT_EQ(fullSums, 4) << describeKernels(*lg);
  EXPECT_EQ(perSample, 4) << describeKernels(*lg);
  // One kernel reads (or writes) the tensor for both sums of a direction.
  EXPECT_EQ(fullKernels, 2) << describeKernels(*lg);
  int convEpilogues = 0, convRowSums = 0;
  for (const Kernel& k : lg->kernels) {
    if (g->node(k.root).op != OpKind::Conv2D || k.epilogue.empty()) continue;
    ++convEpilogues;
    for (NodeId f : k.fused) convRowSums += isEpilogueRowSum(*g, g->node(f), g->node(k.root).type.shape);
  }
  EXPECT_EQ(convEpilogues, 1) << describeKernels(*lg);
  if (withRowSums) {
    // Backward: per sample, then over the batch; forward: per output row, then over the
    // samples and rows.
    EXPECT_EQ(batchSums, 2) << describeKernels(*lg);
    EXPECT_EQ(batchKernels, 1) << describeKernels(*lg);
    EXPECT_EQ(rowSumSums, 2) << describeKernels(*lg);
    EXPECT_EQ(rowSumKernels, 1) << describeKernels(*lg);
    // The convolution's epilogue computes and stores d = conv - running mean and sums d and
    // d^2 along each output row, so d is not read again for them.
    EXPECT_EQ(convRowSums, 2) << describeKernels(*lg);
  } else {
    // Per sample, then over the batch, in both directions.
    EXPECT_EQ(batchSums, 4) << describeKernels(*lg);
    EXPECT_EQ(batchKernels, 2) << describeKernels(*lg);
    EXPECT_EQ(rowSumSums, 0) << describeKernels(*lg);
    // The forward sums read d, which the convolution's epilogue stores: they do not take d's
    // computation from it (that would write and read the product too).
    EXPECT_EQ(convRowSums, 0) << describeKernels(*lg);
  }
  // The normalisation and ReLU write one tensor: relu's gradient tests relu's output, so the
  // normalised pre-activation is not stored for the backward pass.
  int reluKernels = 0;
  for (const Kernel& k : lg->kernels)
    if (g->node(k.root).op == OpKind::Relu) {
      ++reluKernels;
      EXPECT_TRUE(k.stored.empty()) << describeKernels(*lg);
    }
  EXPECT_EQ(reluKernels, 1) << describeKernels(*lg);
}

TEST(BatchNormLowering, TwoPerSampleSumsInEachDirection) { expectBatchNormKernels(false); }

TEST(BatchNormLowering, ForwardSumsInTheConvolutionWithRowSums) { expectBatchNormKernels(true); }

}  // namespace
}  // namespace nnc
