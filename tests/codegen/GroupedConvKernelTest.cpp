// The grouped, dilated and depthwise convolution kernels (EmitConvGrouped.cpp,
// EmitDepthwiseConv.cpp): forward, input gradient and filter gradient against the reference
// interpreter at odd shapes (channels not a multiple of the vector width, strides 1 and 2,
// dilations 1 to 3, groups 2 and 4, depthwise with multipliers 1, 2, 3 and 8, same and valid
// padding), at batch 1 and 5, bit-identical on 1 and 2 threads with every kernel split as
// finely as possible, and for the AVX-512, AVX2 and SSE blockings.
#include <gtest/gtest.h>

#include <cstring>

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
  CompileOptions opt;
  opt.chunkWork = 1;
  auto compiled = jitCompile(g, nullptr, opt);
  ASSERT_TRUE(compiled.ok()) << compiled.error().message;
  CompiledModel& m = **compiled;
  std::vector<NodeId> wanted;
  for (const Output& o : g.outputs) wanted.push_back(o.node);
  for (int64_t batch : {1, 5}) {
    std::mt19937_64 rng(static_cast<uint64_t>(batch * 977 + s.c * 13 + s.f + s.groups));
    Leaves l = makeLeaves(g, m, batch, rng);
    auto want = interpret(g, l.values, wanted, Precision::F32);
    ASSERT_TRUE(want.ok()) << want.error().message;
    std::vector<std::vector<HostTensor>> byThreads;
    for (int threads : {1, 2}) {
      ThreadsScope ts(threads);
      std::vector<HostTensor> outs;
      for (const TensorSpec& t : m.inference().outputs) outs.push_back(hostBuffer(t.type, batch));
      std::vector<const void*> in;
      for (HostTensor& h : l.inputs) in.push_back(h.data());
      std::vector<void*> out;
      for (HostTensor& h : outs) out.push_back(h.data());
      auto ok = m.forward(in, out, batch);
      ASSERT_TRUE(ok.ok()) << ok.error().message;
      for (size_t i = 0; i < outs.size(); ++i)
        EXPECT_TRUE(closeTo((*want)[i], outs[i], 1e-3))
            << "output " << g.outputs[i].name << " batch " << batch << " threads " << threads;
      byThreads.push_back(std::move(outs));
    }
    for (size_t i = 0; i < byThreads[0].size(); ++i) {
      const std::vector<float>&a = byThreads[0][i].f, &b = byThreads[1][i].f;
      ASSERT_EQ(a.size(), b.size());
      EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0)
          << "output " << g.outputs[i].name << " batch " << batch << " differs between 1 and 2 threads";
    }
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

struct GroupedVectorUnitScope {
  explicit GroupedVectorUnitScope(codegen::VectorUnit u) { codegen::overrideConvVectorUnit(u); }
  ~GroupedVectorUnitScope() { codegen::clearConvVectorUnitOverride(); }
};

TEST(GroupedConvKernel, OtherVectorUnits) {
  for (codegen::VectorUnit unit : {codegen::VectorUnit{16, 32}, codegen::VectorUnit{4, 16}}) {
    SCOPED_TRACE("lanes " + std::to_string(unit.lanes));
    GroupedVectorUnitScope scope(unit);
    expectGroupedConvMatches({9, 13, 11, 22, 3, 2, 1, 11, true});
    expectGroupedConvMatches({9, 13, 19, 19, 3, 1, 2, 19, true});
    expectGroupedConvMatches({9, 11, 12, 20, 3, 2, 2, 4, true});
    expectGroupedConvMatches({11, 13, 3, 17, 3, 1, 2, 1, false});
  }
}

}  // namespace
}  // namespace nnc
