// maxpool_grad over disjoint windows (kernels/EmitMaxPoolGrad.cpp), which gathers and hosts
// the ReLU gradient after it as an epilogue (FusionRoles: EpilogueHost): checked against the
// interpreter on odd shapes (channels not a multiple of the vector width, odd heights and
// widths, stride above the window, padding, ties), and structurally, so the fusion cannot
// silently stop happening.
#include <gtest/gtest.h>

#include "compiler/ir/Attrs.h"
#include "compiler/lowering/Lowering.h"
#include "compiler/train/TrainingGraph.h"
#include "dsl/Frontend.h"
#include "tests/codegen/CodegenTestUtil.h"

namespace nnc {
namespace {

using namespace nnc::testing;

struct PoolGradCase {
  int64_t k, s;
  std::vector<int64_t> pads;
  int64_t H, W, C;
};

Attrs poolGradWindow(const PoolGradCase& c) {
  return Attrs{{"window", std::vector<int64_t>{c.k, c.k}}, {"strides", std::vector<int64_t>{c.s, c.s}}, {"pads", c.pads}};
}

// relu(x), and the gradient autodiff writes through maxpool and relu: select(c > 0, dx, 0).
// Also the plain maxpool_grad of x (no epilogue) as a second output, on its own kernel.
Graph poolReluGradGraph(const PoolGradCase& c, bool plainToo) {
  Graph g;
  NodeId x = input(g, "x", DType::F32, {kBatch, c.H, c.W, c.C});
  NodeId relu = op(g, OpKind::Relu, {x});
  Attrs geo = poolGradWindow(c);
  NodeId pooled = op(g, OpKind::MaxPool, {relu}, geo);
  const Shape& ys = g.type(pooled).shape;
  NodeId dy = input(g, "dy", DType::F32, {kBatch, ys[1], ys[2], c.C});
  NodeId dx = op(g, OpKind::MaxPoolGrad, {relu, dy}, geo);
  NodeId zero = g.addScalar(0.0);
  NodeId mask = op(g, OpKind::Greater, {relu, zero});
  g.outputs.push_back({"dconv", op(g, OpKind::Select, {mask, dx, zero})});
  if (plainToo) g.outputs.push_back({"dx_plain", op(g, OpKind::MaxPoolGrad, {x, dy}, geo)});
  return g;
}

const std::vector<PoolGradCase> kPoolGradCases = {
    {2, 2, {0, 0, 0, 0}, 8, 8, 16},   // tiles exactly, two vectors of channels
    {2, 2, {0, 0, 0, 0}, 9, 7, 13},   // odd sizes: the last row and column belong to no window
    {3, 3, {1, 1, 1, 1}, 7, 10, 5},   // padding: taps clamped into the window
    {2, 3, {1, 0, 0, 1}, 8, 9, 3},    // stride above the window: cells between windows
    {1, 2, {0, 0, 0, 0}, 5, 6, 9},    // 1x1 windows, every other cell
    {3, 3, {0, 0, 0, 0}, 9, 9, 1},    // one channel
};

std::string poolGradName(const PoolGradCase& c) {
  return "pool " + std::to_string(c.k) + " stride " + std::to_string(c.s) + " pads " + attrValueStr(c.pads) + " on " +
         std::to_string(c.H) + "x" + std::to_string(c.W) + "x" + std::to_string(c.C);
}

TEST(MaxPoolGradGather, MatchesTheInterpreterWithTiesAndOddShapes) {
  for (const PoolGradCase& c : kPoolGradCases) {
    SCOPED_TRACE(poolGradName(c));
    MatchOptions o;
    // Small integers: many ties (and many zeros after relu), so the first-maximum rule and
    // the mask are both exercised; the result is a copy of dy values, so exact.
    o.ranges = {{"x", {-3, 3, true}}, {"dy", {-4, 4}}};
    o.rtol = 0;
    o.bitIdenticalAcrossThreads = true;
    expectMatchesInterpreter(poolReluGradGraph(c, true), o);
  }
}

TEST(MaxPoolGradGather, NaNWinsItsWindowAsInTheInterpreter) {
  PoolGradCase c{2, 2, {0, 0, 0, 0}, 4, 4, 9};
  Graph g;
  NodeId x = input(g, "x", DType::F32, {kBatch, c.H, c.W, c.C});
  NodeId dy = input(g, "dy", DType::F32, {kBatch, 2, 2, c.C});
  g.outputs.push_back({"dx", op(g, OpKind::MaxPoolGrad, {x, dy}, poolGradWindow(c))});
  // log of [-1, 3): NaN for the negative third of the cells, -inf at 0.
  NodeId logX = op(g, OpKind::Log, {x});
  g.outputs.push_back({"dlog", op(g, OpKind::MaxPoolGrad, {logX, dy}, poolGradWindow(c))});
  expectMatchesInterpreter(g, {{"x", {-1, 3, true}}});
}

// The kernels of a lowered graph rooted at `op`.
std::vector<const Kernel*> poolGradKernelsRootedAt(const LoweredGraph& lg, OpKind rootOp) {
  std::vector<const Kernel*> out;
  for (const Kernel& k : lg.kernels)
    if (lg.graph->node(k.root).op == rootOp) out.push_back(&k);
  return out;
}

TEST(MaxPoolGradGather, HostsTheReluGradientOverSmallDisjointWindowsOnly) {
  // Disjoint; overlapping; disjoint but a window of 25 cells (the scattering loops).
  for (const PoolGradCase& c : {PoolGradCase{2, 2, {0, 0, 0, 0}, 9, 7, 13}, PoolGradCase{3, 1, {1, 1, 1, 1}, 6, 6, 4},
                                PoolGradCase{5, 5, {0, 0, 0, 0}, 10, 11, 3}}) {
    SCOPED_TRACE(poolGradName(c));
    Graph g = poolReluGradGraph(c, false);
    LoweredGraph lg = lowerOrFail(g);
    std::string kernels = describeKernels(lg);
    std::vector<const Kernel*> pools = poolGradKernelsRootedAt(lg, OpKind::MaxPoolGrad);
    ASSERT_EQ(pools.size(), 1u) << kernels;
    bool disjoint = c.s >= c.k && c.k * c.k <= 16;
    EXPECT_EQ(poolGradKernelsRootedAt(lg, OpKind::Select).size(), disjoint ? 0u : 1u) << kernels;
    ASSERT_EQ(pools[0]->epilogue.empty(), !disjoint) << kernels;
    if (disjoint) {
      EXPECT_EQ(g.node(pools[0]->epilogue.back()).op, OpKind::Select) << kernels;
    } else {
      expectMatchesInterpreter(g, {{"x", {-3, 3, true}}});  // the scatter path
    }
  }
}

TEST(MaxPoolGradGather, FashionCnnStepRunsEachReluGradientInItsPoolGradient) {
  const char* source = R"(
model cnn
input image: f32[batch, 28, 28]
input label: i32[batch]
pixels = reshape(image, [28, 28, 1])
conv1  = conv2d(pixels, 32, kernel = 5, padding = same, activation = relu)
pool1  = maxpool(conv1, 2)
conv2  = conv2d(pool1, 64, kernel = 5, padding = same, activation = relu)
pool2  = maxpool(conv2, 2)
flat   = flatten(pool2)
logits = dense(flat, 10)
output probs = softmax(logits)
train {
  loss      = cross_entropy(logits, label)
  optimizer = adam(lr = 1e-3)
}
)";
  DiagnosticEngine diags("test.nn", source);
  std::optional<Model> model = compileModel(source, diags);
  ASSERT_TRUE(model.has_value()) << diags.renderToString();
  auto tg = buildTrainingGraph(*model);
  ASSERT_TRUE(tg.ok()) << tg.error().message;
  LoweredGraph lg = lowerOrFail(*tg);
  std::string kernels = describeKernels(lg);
  std::vector<const Kernel*> pools = poolGradKernelsRootedAt(lg, OpKind::MaxPoolGrad);
  ASSERT_EQ(pools.size(), 2u) << kernels;
  for (const Kernel* k : pools) {
    ASSERT_FALSE(k->epilogue.empty()) << kernels;
    EXPECT_EQ(tg->node(k->epilogue.back()).op, OpKind::Select) << kernels;
  }
  EXPECT_TRUE(poolGradKernelsRootedAt(lg, OpKind::Select).empty()) << kernels;
}

}  // namespace
}  // namespace nnc
