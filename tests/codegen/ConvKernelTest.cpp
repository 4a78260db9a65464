// The register-blocked convolution kernels (EmitConv.cpp, EmitConvBackward.cpp): forward,
// input gradient and filter gradient against the reference interpreter over many shapes
// (strides 1 and 2, same and valid padding, 1x1 / 3x3 / 5x5 kernels, channel counts that
// are and are not multiples of the vector width, tiny and border-only images), at batch 1
// and 7, and bit-identical on 1 and 2 threads with every kernel split as finely as possible.
#include <gtest/gtest.h>


#include "compiler/codegen/kernels/conv/ConvVectorUnit.h"
#include "tests/codegen/CodegenTestUtil.h"

namespace nnc {
namespace {

using namespace nnc::testing;

struct ConvShape {
  int64_t h, w, c, f, k, stride;
  bool same;
  int64_t kw = 0;  // 0: square kernel
};

std::string describe(const ConvShape& s) {
  return std::to_string(s.h) + "x" + std::to_string(s.w) + "x" + std::to_string(s.c) + " -> " + std::to_string(s.f) +
         ", kernel " + std::to_string(s.k) + "x" + std::to_string(s.kw ? s.kw : s.k) + ", stride " +
         std::to_string(s.stride) + (s.same ? ", same" : ", valid");
}

// Pads of one axis, as the DSL's `same` computes them (the extra one at the end).
std::pair<int64_t, int64_t> samePads(int64_t in, int64_t k, int64_t s) {
  int64_t out = (in + s - 1) / s;
  int64_t total = std::max<int64_t>((out - 1) * s + k - in, 0);
  return {total / 2, total - total / 2};
}

// y = conv(x, w), dx = grad_input(dy, w), dw = grad_filter(x, dy), all outputs of one graph.
Graph convGraph(const ConvShape& s) {
  int64_t kh = s.k, kw = s.kw ? s.kw : s.k;
  std::vector<int64_t> pads{0, 0, 0, 0};
  if (s.same) {
    auto [t, bo] = samePads(s.h, kh, s.stride);
    auto [l, r] = samePads(s.w, kw, s.stride);
    pads = {t, l, bo, r};
  }
  Attrs geo{{"strides", std::vector<int64_t>{s.stride, s.stride}}, {"pads", pads}};
  Graph g;
  NodeId x = input(g, "x", DType::F32, {kBatch, s.h, s.w, s.c});
  NodeId w = param(g, "w", {kh, kw, s.c, s.f});
  NodeId y = op(g, OpKind::Conv2D, {x, w}, geo);
  g.outputs.push_back({"y", y});
  if (y == kNoNode) return g;
  const Shape& ys = g.type(y).shape;
  NodeId dy = input(g, "dy", DType::F32, {kBatch, ys[1], ys[2], s.f});
  Attrs gi = geo;
  gi.set("input_hw", std::vector<int64_t>{s.h, s.w});
  g.outputs.push_back({"dx", op(g, OpKind::Conv2DGradInput, {dy, w}, gi)});
  Attrs gf = geo;
  gf.set("kernel", std::vector<int64_t>{kh, kw});
  g.outputs.push_back({"dw", op(g, OpKind::Conv2DGradFilter, {x, dy}, gf)});
  return g;
}

void expectConvMatches(const ConvShape& s) {
  SCOPED_TRACE(describe(s));
  Graph g = convGraph(s);
  for (const Output& o : g.outputs) ASSERT_NE(o.node, kNoNode);
  MatchOptions o;
  o.batches = {1, 7};
  o.rtol = 1e-3;
  o.chunkWork = 1;  // split every kernel into single rows / units
  o.bitIdenticalAcrossThreads = true;
  o.seed = [&](int64_t batch) { return static_cast<uint64_t>(batch * 131 + s.c * 7 + s.f); };
  expectMatchesInterpreter(g, o);
}

// Channel counts around the vector widths (4, 8, 16 lanes) and the register blocks.
TEST(ConvKernel, ChannelCounts) {
  for (int64_t c : {1, 3, 8})
    for (int64_t f : {1, 5, 8, 17, 32, 64}) expectConvMatches({7, 9, c, f, 3, 1, true});
}

TEST(ConvKernel, KernelSizesStridesAndPadding) {
  for (int64_t k : {1, 3, 5})
    for (int64_t stride : {1, 2})
      for (bool same : {true, false}) expectConvMatches({11, 13, 3, 17, k, stride, same});
}

// Rows long enough for several register blocks plus a remainder; odd sizes.
TEST(ConvKernel, WideRowsAndBlockRemainders) {
  expectConvMatches({5, 31, 8, 32, 3, 1, true});
  expectConvMatches({6, 23, 5, 24, 5, 1, true});
  expectConvMatches({9, 29, 4, 40, 3, 2, true});
  expectConvMatches({4, 19, 13, 9, 1, 1, false});
}

// Images smaller than the kernel (every output column a border column), large padding,
// non-square kernels, and stride 3.
TEST(ConvKernel, BorderOnlyAndUnusualWindows) {
  expectConvMatches({3, 2, 2, 8, 5, 1, true});
  expectConvMatches({2, 3, 3, 5, 5, 2, true});
  ConvShape tall{8, 7, 3, 9, 5, 1, true};
  tall.kw = 2;
  expectConvMatches(tall);
  expectConvMatches({10, 11, 2, 6, 3, 3, true});
  expectConvMatches({10, 11, 2, 6, 4, 3, false});
  // A kernel nearly as wide as the image: too many border blocks to unroll, so both the
  // forward and the input gradient take their one-pixel-at-a-time fallback.
  ConvShape wide{2, 100, 2, 3, 1, 1, true};
  wide.kw = 99;
  expectConvMatches(wide);
}

// Inputs with too few channels for a block of channels x filters (the first layer): the
// filter gradient blocks window columns instead (EmitConvGradFilterFewChannels.cpp). Kernels
// wider than one column block, with a narrower last block; a last vector of filters with a
// few lanes; strides and valid padding; rows where no column is valid for the whole block.
TEST(ConvKernel, FewChannelFilterGradientColumnBlocks) {
  ConvShape wide{6, 40, 1, 20, 3, 1, true};
  wide.kw = 17;  // 17 columns: 15 + 2 on AVX-512, 7 + 7 + 3 on AVX2
  expectConvMatches(wide);
  ConvShape strided{9, 21, 3, 9, 3, 2, true};
  strided.kw = 7;
  expectConvMatches(strided);
  expectConvMatches({8, 12, 1, 16, 5, 1, false});
  expectConvMatches({5, 4, 2, 33, 5, 1, true});  // narrower than the kernel
}

// The shapes of examples/fashion_cnn.nn.
TEST(ConvKernel, FashionCnnShapes) {
  expectConvMatches({28, 28, 1, 32, 5, 1, true});
  expectConvMatches({14, 14, 32, 64, 5, 1, true});
}

// The input gradient's paths: the dot product over filters (fewer channels than a vector,
// or a filter too large for a task's stack copy), the forward convolution of dy with a
// flipped copy of the filter (stride 1; padding at most the kernel less one), and phase
// blocks over a transposed copy (strides, larger padding; dilations and groups:
// GroupedConvKernelTest).
TEST(ConvKernel, InputGradientPaths) {
  expectConvMatches({6, 7, 9, 10, 3, 1, true});
  expectConvMatches({6, 7, 9, 10, 3, 1, false});
  expectConvMatches({7, 8, 16, 12, 4, 2, true});
  expectConvMatches({4, 5, 96, 100, 3, 1, true});  // 3 x 3 x 96 x 100 floats: past the copy's limit
  ConvShape wide{2, 60, 8, 3, 1, 1, true};  // the forward's one-pixel fallback
  wide.kw = 59;
  expectConvMatches(wide);
  // Padding of 3 around a 2 x 2 kernel.
  Attrs geo{{"strides", std::vector<int64_t>{1, 1}}, {"pads", std::vector<int64_t>{3, 3, 3, 3}}};
  Graph g;
  NodeId dy = input(g, "dy", DType::F32, {kBatch, 11, 12, 9});
  NodeId w = param(g, "w", {2, 2, 8, 9});
  geo.set("input_hw", std::vector<int64_t>{6, 7});
  g.outputs.push_back({"dx", op(g, OpKind::Conv2DGradInput, {dy, w}, geo)});
  MatchOptions o;
  o.rtol = 1e-3;
  o.bitIdenticalAcrossThreads = true;
  expectMatchesInterpreter(g, o);
}

// A bias and an activation fused after the direct forward convolution (its epilogue, run on
// each register block as it is stored): at the CNN's shapes, with a narrow last vector of
// channels, and with padding wider than the kernel, where some output rows have no filter
// row inside the image and are the bias alone.
TEST(ConvKernel, ForwardEpilogue) {
  struct Case {
    int64_t h, w, c, f, k, pad;
  };
  for (Case cs : {Case{14, 14, 32, 64, 5, 2}, Case{9, 23, 5, 21, 3, 1}, Case{6, 7, 3, 9, 2, 3}}) {
    SCOPED_TRACE(std::to_string(cs.h) + "x" + std::to_string(cs.w) + "x" + std::to_string(cs.c) + " -> " +
                 std::to_string(cs.f) + ", kernel " + std::to_string(cs.k) + ", pad " + std::to_string(cs.pad));
    Attrs geo{{"strides", std::vector<int64_t>{1, 1}}, {"pads", std::vector<int64_t>{cs.pad, cs.pad, cs.pad, cs.pad}}};
    Graph g;
    NodeId x = input(g, "x", DType::F32, {kBatch, cs.h, cs.w, cs.c});
    NodeId w = param(g, "w", {cs.k, cs.k, cs.c, cs.f});
    NodeId bias = param(g, "bias", {cs.f});
    NodeId y = op(g, OpKind::Add, {op(g, OpKind::Conv2D, {x, w}, geo), bias});
    g.outputs.push_back({"y", op(g, OpKind::Relu, {y})});
    MatchOptions o = convolutionMatchOptions();
    expectMatchesInterpreter(g, o);
  }
}

// The AVX-512 blocking (16 lanes, 32 registers), the AVX2 one (8 lanes, 16 registers) and
// the SSE one (4 lanes), emitted on whatever CPU runs the test: LLVM splits or joins the
// vectors, so their indexing and masks are checked here even where they are not fast.
struct VectorUnitScope {
  explicit VectorUnitScope(codegen::VectorUnit u) { codegen::overrideConvVectorUnit(u); }
  ~VectorUnitScope() { codegen::clearConvVectorUnitOverride(); }
};

TEST(ConvKernel, OtherVectorUnits) {
  for (codegen::VectorUnit unit : {codegen::VectorUnit{16, 32}, codegen::VectorUnit{8, 16}, codegen::VectorUnit{4, 16}}) {
    SCOPED_TRACE("lanes " + std::to_string(unit.lanes));
    VectorUnitScope scope(unit);
    expectConvMatches({7, 9, 3, 17, 3, 1, true});
    expectConvMatches({6, 23, 5, 24, 5, 1, true});
    expectConvMatches({9, 29, 4, 40, 3, 2, true});
    expectConvMatches({3, 2, 2, 8, 5, 1, true});
    expectConvMatches({5, 31, 1, 64, 3, 1, false});
    expectConvMatches({14, 14, 32, 64, 5, 1, true});
    expectConvMatches({28, 28, 1, 32, 5, 1, true});
    ConvShape wide{6, 40, 1, 20, 3, 1, true};
    wide.kw = 17;
    expectConvMatches(wide);
  }
}

}  // namespace
}  // namespace nnc
