// Fusions of issue #4: softmax with cross-entropy as one row kernel per direction, epilogues
// on forward convolutions, and outputs written in place by the kernel that computes them.
// Each is checked structurally (the lowered graph) and numerically (JIT against the
// interpreter at batch 1, a training batch and an odd batch, on 1 and 2 threads).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "compiler/lowering/Lowering.h"
#include "compiler/train/TrainingGraph.h"
#include "dsl/Frontend.h"
#include "tests/codegen/CodegenTestUtil.h"

namespace nnc {
namespace {

using namespace nnc::testing;

struct Lowered {
  StateLayout layout;
  LoweredGraph lg;
};

std::unique_ptr<Lowered> lower(const Graph& g, const LoweringOptions& options = {}) {
  auto out = std::make_unique<Lowered>();
  auto layout = StateLayout::build({&g});
  EXPECT_TRUE(layout.ok());
  if (!layout) return nullptr;
  out->layout = std::move(*layout);
  auto lg = lowerGraph(g, out->layout, options);
  EXPECT_TRUE(lg.ok()) << (lg.ok() ? "" : lg.error().message);
  if (!lg) return nullptr;
  out->lg = std::move(*lg);
  return out;
}

Model modelFrom(const std::string& source) {
  DiagnosticEngine diags("test.nn", source);
  std::optional<Model> model = compileModel(source, diags);
  EXPECT_TRUE(model.has_value()) << diags.renderToString();
  return model ? std::move(*model) : Model{};
}

std::string exampleSource(const char* name) {
  std::ifstream in(std::filesystem::path(NNC_SOURCE_DIR) / "examples" / name);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

int countKernels(const LoweredGraph& lg, OpKind rootOp, bool rows) {
  int n = 0;
  for (const Kernel& k : lg.kernels) n += lg.graph->node(k.root).op == rootOp && k.rows == rows;
  return n;
}

int countRoots(const LoweredGraph& lg, OpKind rootOp) {
  int n = 0;
  for (const Kernel& k : lg.kernels) n += lg.graph->node(k.root).op == rootOp;
  return n;
}

// ---- softmax with cross-entropy ----------------------------------------------------------

TEST(SoftmaxCrossEntropy, FashionMlpTrainingStepHasOneRowKernelPerDirection) {
  Model model = modelFrom(exampleSource("fashion_mlp.nn"));
  auto tg = buildTrainingGraph(model);
  ASSERT_TRUE(tg.ok()) << tg.error().message;
  auto l = lower(*tg);
  ASSERT_TRUE(l);
  const LoweredGraph& lg = l->lg;
  std::string kernels = describeKernels(lg);
  // Forward: the per-row loss is one row kernel (the mean over the batch is another kernel,
  // since no reduction is split across threads); backward: d logits is one row kernel.
  EXPECT_EQ(countKernels(lg, OpKind::ReduceSum, true), 1) << kernels;
  EXPECT_EQ(countKernels(lg, OpKind::Sub, true), 1) << kernels;
  int rowKernels = 0;
  for (const Kernel& k : lg.kernels) rowKernels += k.rows;
  EXPECT_EQ(rowKernels, 2) << kernels;
  // Neither the log-probabilities nor the one-hot labels are kernels (or stored) any more.
  EXPECT_EQ(countRoots(lg, OpKind::LogSoftmax), 0) << kernels;
  EXPECT_EQ(countRoots(lg, OpKind::OneHot), 0) << kernels;
  EXPECT_EQ(countRoots(lg, OpKind::BroadcastTo), 0) << kernels;  // the loss gradient's broadcast
  // The probabilities output comes from the forward row kernel, which has the statistics.
  EXPECT_EQ(countRoots(lg, OpKind::Softmax), 0) << kernels;
  {
    // The debugging knob (NNC_FUSE_ROWS=0) turns it off.
    LoweringOptions noRows;
    noRows.fuseRows = false;
    auto off = lower(*tg, noRows);
    ASSERT_TRUE(off);
    for (const Kernel& k : off->lg.kernels) EXPECT_FALSE(k.rows);
    EXPECT_EQ(countRoots(off->lg, OpKind::LogSoftmax), 1);
  }
  for (size_t i = 0; i < tg->size(); ++i) {
    OpKind op = tg->nodes()[i].op;
    if (lg.live[i] && (op == OpKind::LogSoftmax || op == OpKind::OneHot)) {
      EXPECT_EQ(lg.storage[i].kind, StorageKind::Inline) << "%" << i;
    }
  }
}

// The cross-entropy pattern as the front end writes it, forward and backward, with class
// weights: every intermediate an output too in `exposeAll` (then they must be stored).
Graph crossEntropyGraph(bool weighted, bool exposeAll) {
  Graph g;
  NodeId logits = input(g, "logits", DType::F32, {kBatch, 10});
  NodeId label = input(g, "label", DType::I32, {kBatch});
  // As the front end orders them: the probabilities output before the loss.
  NodeId probs = exposeAll ? op(g, OpKind::Softmax, {logits}, {{"axis", int64_t(-1)}}) : kNoNode;
  NodeId logp = op(g, OpKind::LogSoftmax, {logits}, {{"axis", int64_t(1)}});
  NodeId onehot = op(g, OpKind::OneHot, {label}, {{"depth", int64_t(10)}});
  NodeId picked = op(g, OpKind::ReduceSum, {op(g, OpKind::Mul, {onehot, logp})},
                     {{"axes", std::vector<int64_t>{1}}, {"keepdims", int64_t(0)}});
  NodeId perRow = op(g, OpKind::Neg, {picked});
  // The loss gradient per row, broadcast along the row as autodiff writes it.
  NodeId rowGrad = op(g, OpKind::Reshape, {op(g, OpKind::Neg, {input(g, "row_grad", DType::F32, {kBatch})})},
                      {{"shape", std::vector<int64_t>{kBatch, 1}}});
  NodeId upstream = op(g, OpKind::Mul, {op(g, OpKind::BroadcastTo, {rowGrad}, {{"shape", std::vector<int64_t>{kBatch, 10}}}), onehot});
  if (weighted) {
    NodeId w = param(g, "w", {10});
    NodeId rowWeight = op(g, OpKind::ReduceSum, {op(g, OpKind::Mul, {onehot, w})},
                          {{"axes", std::vector<int64_t>{1}}, {"keepdims", int64_t(1)}});
    upstream = op(g, OpKind::Mul, {upstream, rowWeight});
    g.outputs.push_back({"row_weight", rowWeight});
  }
  NodeId s = op(g, OpKind::ReduceSum, {upstream}, {{"axes", std::vector<int64_t>{1}}, {"keepdims", int64_t(1)}});
  NodeId d = op(g, OpKind::Sub, {upstream, op(g, OpKind::Mul, {op(g, OpKind::Exp, {logp}), s})});
  g.outputs.push_back({"loss_per_row", perRow});
  g.outputs.push_back({"d_logits", d});
  if (exposeAll) {
    g.outputs.push_back({"logp", logp});
    g.outputs.push_back({"probs", probs});
  }
  return g;
}

TEST(SoftmaxCrossEntropy, RowKernelsMatchTheInterpreter) {
  for (bool weighted : {false, true}) {
    for (bool exposeAll : {false, true}) {
      SCOPED_TRACE(std::string(weighted ? "weighted" : "plain") + (exposeAll ? ", all exposed" : ""));
      Graph g = crossEntropyGraph(weighted, exposeAll);
      auto l = lower(g);
      ASSERT_TRUE(l);
      EXPECT_EQ(countRoots(l->lg, OpKind::OneHot), 0) << describeKernels(l->lg);
      // Exposed log-probabilities and probabilities are stored by a row kernel, not kernels.
      EXPECT_EQ(countRoots(l->lg, OpKind::LogSoftmax), 0) << describeKernels(l->lg);
      EXPECT_EQ(countRoots(l->lg, OpKind::Softmax), 0) << describeKernels(l->lg);
      // Labels include -1 and 10 (out of range: an all-zero one-hot row).
      expectMatchesInterpreter(g, {{"label", Range{-1, 11, true}}, {"logits", Range{-30, 30}}}, {1, 64, 7});
    }
  }
}

// ---- epilogues on convolutions -----------------------------------------------------------

const char* kConvNet = R"(
model cnn
input image: f32[batch, 9, 9]
input label: i32[batch]
pixels = reshape(image, [9, 9, 1])
c1 = conv2d(pixels, 4, kernel = 3, padding = same, activation = relu)
p1 = maxpool(c1, 2)
c2 = conv2d(p1, 19, kernel = 3, stride = 2, padding = valid, activation = elu)
flat = flatten(c2)
logits = dense(flat, 3)
output probs = softmax(logits)
train {
  loss = cross_entropy(logits, label)
  optimizer = sgd(lr = 0.1)
}
)";

TEST(ConvEpilogue, BiasAndActivationRunInTheConvolutionKernel) {
  Model model = modelFrom(kConvNet);
  auto ig = buildInferenceGraph(model);
  ASSERT_TRUE(ig.ok()) << ig.error().message;
  {
    auto l = lower(*ig);
    ASSERT_TRUE(l);
    std::string kernels = describeKernels(l->lg);
    ASSERT_EQ(countRoots(l->lg, OpKind::Conv2D), 2) << kernels;
    for (const Kernel& k : l->lg.kernels) {
      if (ig->node(k.root).op == OpKind::Conv2D) {
        EXPECT_FALSE(k.epilogue.empty()) << kernels;
      }
    }
    EXPECT_EQ(countRoots(l->lg, OpKind::Relu), 0) << kernels;
    EXPECT_EQ(countRoots(l->lg, OpKind::Elu), 0) << kernels;
  }
  {
    LoweringOptions noEpilogues;  // NNC_FUSE_EPILOGUES=0
    noEpilogues.fuseEpilogues = false;
    auto l = lower(*ig, noEpilogues);
    ASSERT_TRUE(l);
    for (const Kernel& k : l->lg.kernels) EXPECT_TRUE(k.epilogue.empty()) << describeKernels(l->lg);
    EXPECT_EQ(countRoots(l->lg, OpKind::Relu), 1) << describeKernels(l->lg);
  }
  expectMatchesInterpreter(*ig, {}, {1, 64, 7});
}

// ---- outputs written in place ------------------------------------------------------------

TEST(OutputsInPlace, ForwardEntryOfFashionMlpHasNoCopy) {
  Model model = modelFrom(exampleSource("fashion_mlp.nn"));
  auto ig = buildInferenceGraph(model);
  ASSERT_TRUE(ig.ok()) << ig.error().message;
  auto l = lower(*ig);
  ASSERT_TRUE(l);
  EXPECT_TRUE(l->lg.copies.empty());
  NodeId probs = ig->outputs[0].node;
  EXPECT_EQ(l->lg.storage[static_cast<size_t>(probs)].output, 0);
}

// Outputs that cannot be written in place: an input, a value that is two outputs; and one
// that can, through a reshape view.
Graph outputsGraph() {
  Graph g;
  NodeId x = input(g, "x", DType::F32, {kBatch, 6});
  NodeId y = op(g, OpKind::Relu, {x});
  NodeId z = op(g, OpKind::Exp, {x});
  NodeId v = op(g, OpKind::Reshape, {z}, {{"shape", std::vector<int64_t>{kBatch, 2, 3}}});
  NodeId m = op(g, OpKind::Sigmoid, {op(g, OpKind::MatMul, {x, param(g, "w", {6, 5})})});
  g.outputs.push_back({"y", y});
  g.outputs.push_back({"x", x});
  g.outputs.push_back({"y_again", y});
  g.outputs.push_back({"z_view", v});
  g.outputs.push_back({"m", m});
  return g;
}

TEST(OutputsInPlace, CopiesOnlyWhereNeeded) {
  Graph g = outputsGraph();
  auto l = lower(g);
  ASSERT_TRUE(l);
  std::vector<int64_t> copied;
  for (const CopyStep& c : l->lg.copies) copied.push_back(c.dst);
  EXPECT_EQ(copied, (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(l->lg.storage[static_cast<size_t>(l->lg.storageRoot(g.outputs[3].node))].output, 3);
  expectMatchesInterpreter(g, {}, {1, 64, 7});
}

TEST(OutputsInPlace, NullOutputPointersAreAllowed) {
  Graph g = outputsGraph();
  auto compiled = jitCompile(g, nullptr, CompileOptions{});
  ASSERT_TRUE(compiled.ok()) << compiled.error().message;
  CompiledModel& m = **compiled;
  std::mt19937_64 rng(5);
  const int64_t batch = 3;
  Leaves l = makeLeaves(g, m, batch, rng);
  std::vector<NodeId> wanted;
  for (const Output& o : g.outputs) wanted.push_back(o.node);
  auto want = interpret(g, l.values, wanted, Precision::F32);
  ASSERT_TRUE(want.ok()) << want.error().message;
  // Each output in turn is the only one the caller asks for.
  for (size_t only = 0; only < g.outputs.size(); ++only) {
    HostTensor out = hostBuffer(m.inference().outputs[only].type, batch);
    std::vector<void*> outs(g.outputs.size(), nullptr);
    outs[only] = out.data();
    std::vector<const void*> in;
    for (HostTensor& h : l.inputs) in.push_back(h.data());
    ASSERT_TRUE(m.forward(in, outs, batch).ok());
    EXPECT_TRUE(closeTo((*want)[only], out)) << g.outputs[only].name;
  }
}

}  // namespace
}  // namespace nnc
