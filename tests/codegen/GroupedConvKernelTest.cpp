// The grouped, dilated and depthwise convolution kernels (EmitConvGrouped.cpp,
// EmitDepthwiseConv.cpp): forward, input gradient and filter gradient against the reference
// interpreter at odd shapes (channels not a multiple of the vector width, strides 1 and 2,
// dilations 1 to 3, groups 2 and 4, depthwise with multipliers 1, 2, 3 and 8, same and valid
// padding), at batch 1 and 5, bit-identical on 1 and 2 threads with every kernel split as
// finely as possible, and for the AVX-512, AVX2 and SSE blockings.
#include <gtest/gtest.h>

#include <initializer_list>

#include "compiler/codegen/kernels/conv/ConvVectorUnit.h"
#include "tests/codegen/CodegenTestUtil.h"

namespace nnc {
namespace {

using namespace nnc::testing;

struct GroupedConvShape {
  int64_t h, w, c, f, k, stride, dilation, groups;
  bool same;
};

std::string describeGrouped(const GroupedConvShape& s) {
  return std::to_string(s.h) + "x" + std::to_string(s.w) + "x" + std::to_string(s.c) + " -> " + std::to_string(s.f) +
         ", kernel " + std::to_string(s.k) + ", stride " + std::to_string(s.stride) + ", dilation " +
         std::to_string(s.dilation) + ", groups " + std::to_string(s.groups) + (s.same ? ", same" : ", valid");
}

// TensorFlow's `same` pads of one axis for a dilated window.
std::pair<int64_t, int64_t> groupedSamePads(int64_t in, int64_t span, int64_t s) {
  int64_t out = (in + s - 1) / s;
  int64_t total = std::max<int64_t>((out - 1) * s + span - in, 0);
  return {total / 2, total - total / 2};
}

Graph groupedConvGraph(const GroupedConvShape& s) {
  int64_t span = (s.k - 1) * s.dilation + 1;
  std::vector<int64_t> pads{0, 0, 0, 0};
  if (s.same) {
    auto [t, bo] = groupedSamePads(s.h, span, s.stride);
    auto [l, r] = groupedSamePads(s.w, span, s.stride);
    pads = {t, l, bo, r};
  }
  Attrs geo{{"strides", std::vector<int64_t>{s.stride, s.stride}},
            {"pads", pads},
            {"dilations", std::vector<int64_t>{s.dilation, s.dilation}},
            {"groups", s.groups}};
  Graph g;
  NodeId x = input(g, "x", DType::F32, {kBatch, s.h, s.w, s.c});
  NodeId w = param(g, "w", {s.k, s.k, s.c / s.groups, s.f});
  NodeId y = op(g, OpKind::Conv2D, {x, w}, geo);
  g.outputs.push_back({"y", y});
  if (y == kNoNode) return g;
  const Shape& ys = g.type(y).shape;
  NodeId dy = input(g, "dy", DType::F32, {kBatch, ys[1], ys[2], s.f});
  Attrs gi = geo;
  gi.set("input_hw", std::vector<int64_t>{s.h, s.w});
  g.outputs.push_back({"dx", op(g, OpKind::Conv2DGradInput, {dy, w}, gi)});
  Attrs gf = geo;
  gf.set("kernel", std::vector<int64_t>{s.k, s.k});
  g.outputs.push_back({"dw", op(g, OpKind::Conv2DGradFilter, {x, dy}, gf)});
  return g;
}

void expectGroupedConvMatches(const GroupedConvShape& s) {
  SCOPED_TRACE(describeGrouped(s));
  Graph g = groupedConvGraph(s);
  for (const Output& o : g.outputs) ASSERT_NE(o.node, kNoNode);
  MatchOptions o = convolutionMatchOptions();
  o.seed = [&](int64_t batch) { return static_cast<uint64_t>(batch * 977 + s.c * 13 + s.f + s.groups); };
  expectMatchesInterpreter(g, o);
}

struct GroupedVectorUnitScope {
  explicit GroupedVectorUnitScope(codegen::VectorUnit u) { codegen::overrideConvVectorUnit(u); }
  ~GroupedVectorUnitScope() { codegen::clearConvVectorUnitOverride(); }
};

// The shapes again with the AVX-512 and SSE register files (other lanes, blocks and tails).
void expectGroupedConvMatchesOnOtherVectorUnits(std::initializer_list<GroupedConvShape> shapes) {
  for (codegen::VectorUnit unit : {codegen::VectorUnit{16, 32}, codegen::VectorUnit{4, 16}}) {
    SCOPED_TRACE("lanes " + std::to_string(unit.lanes));
    GroupedVectorUnitScope scope(unit);
    for (const GroupedConvShape& s : shapes) expectGroupedConvMatches(s);
  }
}

TEST(GroupedConvKernel, Dilated) {
  for (int64_t stride : {1, 2}) {
    expectGroupedConvMatches({11, 13, 3, 17, 3, stride, 2, 1, stride == 1});
    expectGroupedConvMatches({12, 9, 8, 16, 3, stride, 3, 1, stride == 2});
  }
  expectGroupedConvMatches({5, 5, 4, 9, 3, 1, 2, 1, true});  // window as wide as the image
}

TEST(GroupedConvKernel, Grouped) {
  expectGroupedConvMatches({9, 11, 12, 20, 3, 1, 1, 2, true});
  expectGroupedConvMatches({9, 11, 12, 20, 3, 2, 1, 4, false});
  expectGroupedConvMatches({10, 7, 8, 40, 3, 2, 2, 2, true});
  expectGroupedConvMatches({10, 7, 8, 40, 3, 1, 2, 4, false});
  expectGroupedConvMatches({6, 19, 36, 36, 1, 1, 1, 4, false});
}

// groups = channels: multiplier 1, 2 (divides the lanes), 3 (does not: the generic path)
// and 8 (a multiple of 4 and 8 lanes).
TEST(GroupedConvKernel, Depthwise) {
  for (int64_t m : {1, 2, 3, 8}) {
    expectGroupedConvMatches({9, 13, 11, 11 * m, 3, 1, 1, 11, true});
    expectGroupedConvMatches({9, 13, 11, 11 * m, 3, 2, 1, 11, m % 2 == 0});
  }
  expectGroupedConvMatches({10, 12, 20, 20, 3, 1, 2, 20, true});
  expectGroupedConvMatches({8, 9, 5, 10, 5, 2, 2, 5, true});
  expectGroupedConvMatches({16, 16, 24, 24, 5, 1, 1, 24, true});  // 25 taps: two tap blocks
}

// Depthwise filter gradients over rows wider than one strip (the units take turns over strips
// of an output row that fit L1): several strips, strips with an odd pixel left after the
// pairs, stride 2, a dilated 5 x 5 window (two tap blocks on AVX2), multiplier 2, and a
// channel count that leaves a narrow last vector.
TEST(GroupedConvKernel, DepthwiseFilterGradientStrips) {
  expectGroupedConvMatches({5, 75, 40, 40, 3, 1, 1, 40, true});
  expectGroupedConvMatches({6, 75, 40, 80, 3, 2, 1, 40, false});
  expectGroupedConvMatches({5, 70, 36, 36, 5, 1, 2, 36, true});
  expectGroupedConvMatches({4, 90, 27, 27, 3, 2, 1, 27, true});
}

// Depthwise input gradients whose blocks share dy columns across taps (the phase's filter
// vectors held in registers): a row narrower than a block, a tail vector of channels, a 5 x 5
// window at stride 2, stride 3 with valid padding, a dilated window whose odd columns get no
// tap at all (an empty phase), and a 7-wide window that falls back to loading per tap; on
// the AVX-512 and SSE register files too.
TEST(GroupedConvKernel, DepthwiseInputGradientSharedColumns) {
  expectGroupedConvMatches({7, 3, 10, 10, 3, 1, 1, 10, true});
  expectGroupedConvMatches({9, 21, 13, 13, 3, 1, 1, 13, true});
  expectGroupedConvMatches({8, 23, 16, 16, 5, 2, 1, 16, true});
  expectGroupedConvMatches({10, 17, 9, 9, 3, 3, 1, 9, false});
  expectGroupedConvMatches({9, 19, 24, 24, 3, 2, 2, 24, true});
  expectGroupedConvMatches({6, 14, 8, 8, 7, 1, 1, 8, true});
  expectGroupedConvMatchesOnOtherVectorUnits({{9, 21, 37, 37, 3, 1, 1, 37, true},
                                               {8, 23, 20, 20, 3, 2, 1, 20, true}});
}

// Input gradients through the transposed copy of the filter (a vector of channels or more per
// group, EmitConvGradInputTransposed.cpp): rows cut into even blocks (28 columns in blocks of
// 6, 6, 6, 5, 5 at one pixel count, 7 x 4 at another, phases of 9 and 8 columns at stride 2),
// filters taken in pairs with an odd one left (13 and 11 per group), a dilated window, a
// group of 24 channels (the copy's blocks of 16 and 8), and conv_bench's grouped 3 x 3 at a
// smaller size; on the AVX-512 and SSE register files too.
TEST(GroupedConvKernel, InputGradientTransposedWeights) {
  expectGroupedConvMatches({4, 28, 64, 64, 3, 1, 1, 4, true});
  expectGroupedConvMatches({5, 13, 48, 40, 3, 1, 1, 2, true});
  expectGroupedConvMatches({5, 28, 32, 32, 3, 1, 1, 4, true});
  expectGroupedConvMatches({5, 17, 18, 26, 3, 2, 1, 2, true});
  expectGroupedConvMatches({7, 23, 16, 22, 3, 1, 2, 2, false});
  expectGroupedConvMatchesOnOtherVectorUnits({{4, 28, 64, 64, 3, 1, 1, 2, true},
                                               {5, 17, 18, 26, 3, 2, 1, 2, true}});
}

// A bias and an activation after the convolution run as its epilogue, on each register
// block right after it is stored (grouped, dilated and depthwise forward alike).
TEST(GroupedConvKernel, Epilogue) {
  for (int64_t groups : {1, 4, 12}) {
    SCOPED_TRACE("groups " + std::to_string(groups));
    Attrs geo{{"strides", std::vector<int64_t>{1, 1}},
              {"pads", std::vector<int64_t>{2, 2, 2, 2}},
              {"dilations", std::vector<int64_t>{2, 2}},
              {"groups", groups}};
    Graph g;
    NodeId x = input(g, "x", DType::F32, {kBatch, 9, 11, 12});
    NodeId w = param(g, "w", {3, 3, 12 / groups, 12});
    NodeId bias = param(g, "bias", {12});
    NodeId y = op(g, OpKind::Add, {op(g, OpKind::Conv2D, {x, w}, geo), bias});
    g.outputs.push_back({"y", op(g, OpKind::Relu, {y})});
    MatchOptions o = convolutionMatchOptions();
    expectMatchesInterpreter(g, o);
  }
}

TEST(GroupedConvKernel, OtherVectorUnits) {
  expectGroupedConvMatchesOnOtherVectorUnits({{9, 13, 11, 22, 3, 2, 1, 11, true},
                                               {9, 13, 19, 19, 3, 1, 2, 19, true},
                                               {9, 11, 12, 20, 3, 2, 2, 4, true},
                                               {11, 13, 3, 17, 3, 1, 2, 1, false}});
}

}  // namespace
}  // namespace nnc
