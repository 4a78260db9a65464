// Reference interpreter: dilated and grouped conv2d by hand-computed values, and a grouped
// convolution (with its two adjoints) equal to its groups run one by one on channel slices.
#include <gtest/gtest.h>

#include <random>

#include "tests/compiler/InterpTestUtil.h"

namespace nnc {
namespace {

using namespace interp_test;

using GInts = std::vector<int64_t>;

Attrs groupedConvAttrs(GInts strides, GInts pads, GInts dilations, int64_t groups) {
  return Attrs{{"strides", std::move(strides)},
               {"pads", std::move(pads)},
               {"dilations", std::move(dilations)},
               {"groups", groups}};
}

// A [1, h, w, 1] image holding 1, 2, 3, ... row by row.
Tensor countingImage(int64_t h, int64_t w) {
  Tensor t(DType::F32, {1, h, w, 1});
  for (size_t i = 0; i < t.data.size(); ++i) t.data[i] = static_cast<double>(i + 1);
  return t;
}

TEST(InterpGroupedConv, DilationSpacesTheTaps) {
  // 2x2 filter [[1, 2], [3, 4]] dilated by 2 over a 4x4 image 1..16: output (0, 0) reads
  // cells (0, 0), (0, 2), (2, 0), (2, 2) = 1, 3, 9, 11 -> 1 + 6 + 27 + 44 = 78.
  Tensor w = tensor({2, 2, 1, 1}, {1, 2, 3, 4});
  EXPECT_TRUE(matches(run(OpKind::Conv2D, {countingImage(4, 4), w}, groupedConvAttrs({1, 1}, {0, 0, 0, 0}, {2, 2}, 1)),
                      {1, 2, 2, 1}, {78, 88, 118, 128}));
  // Rows dilated by 1, columns by 3: (0, 0) reads 1, 4, 5, 8 -> 1 + 8 + 15 + 32 = 56.
  EXPECT_TRUE(matches(run(OpKind::Conv2D, {countingImage(4, 4), w}, groupedConvAttrs({1, 1}, {0, 0, 0, 0}, {1, 3}, 1)),
                      {1, 3, 1, 1}, {56, 96, 136}));
}

TEST(InterpGroupedConv, GroupsReadOnlyTheirChannels) {
  // One pixel, 4 channels [1, 2, 3, 4], 2 groups, 1x1 filters [2 in-group channels, 4 filters]:
  // filters 0, 1 read channels 0, 1; filters 2, 3 read channels 2, 3.
  Tensor x = tensor({1, 1, 1, 4}, {1, 2, 3, 4});
  Tensor w = tensor({1, 1, 2, 4}, {1, 10, 100, 1000, 2, 20, 200, 2000});
  EXPECT_TRUE(matches(run(OpKind::Conv2D, {x, w}, groupedConvAttrs({1, 1}, {0, 0, 0, 0}, {1, 1}, 2)), {1, 1, 1, 4},
                      {1 + 4, 10 + 40, 300 + 800, 3000 + 8000}));
}

Tensor groupedRandomTensor(std::vector<int64_t> shape, std::mt19937& rng) {
  std::uniform_real_distribution<double> u(-1, 1);
  Tensor t(DType::F32, shape);
  for (double& v : t.data) v = u(rng);
  return t;
}

// t[..., lo:hi] of an NHWC (or HWIO) tensor: the last axis sliced.
Tensor lastAxisSlice(const Tensor& t, int64_t lo, int64_t hi) {
  std::vector<int64_t> shape = t.shape;
  int64_t last = shape.back();
  shape.back() = hi - lo;
  Tensor out(DType::F32, shape);
  for (size_t i = 0, o = 0; i < t.data.size(); ++i)
    if (int64_t c = static_cast<int64_t>(i) % last; c >= lo && c < hi) out.data[o++] = t.data[i];
  return out;
}

TEST(InterpGroupedConv, GroupedEqualsGroupsOneByOne) {
  std::mt19937 rng(7);
  const int64_t G = 3, Cg = 2, Fg = 4;
  Tensor x = groupedRandomTensor({2, 7, 6, G * Cg}, rng), w = groupedRandomTensor({3, 3, Cg, G * Fg}, rng);
  Attrs grouped = groupedConvAttrs({2, 1}, {1, 1, 1, 1}, {2, 1}, G);
  Attrs single = groupedConvAttrs({2, 1}, {1, 1, 1, 1}, {2, 1}, 1);
  Tensor y = run(OpKind::Conv2D, {x, w}, grouped);
  Tensor dy = groupedRandomTensor(y.shape, rng);
  Attrs gi = grouped, gf = grouped, si = single, sf = single;
  gi.set("input_hw", GInts{7, 6});
  si.set("input_hw", GInts{7, 6});
  gf.set("kernel", GInts{3, 3});
  sf.set("kernel", GInts{3, 3});
  Tensor dx = run(OpKind::Conv2DGradInput, {dy, w}, gi), dw = run(OpKind::Conv2DGradFilter, {x, dy}, gf);
  for (int64_t g = 0; g < G; ++g) {
    SCOPED_TRACE("group " + std::to_string(g));
    Tensor xg = lastAxisSlice(x, g * Cg, (g + 1) * Cg), wg = lastAxisSlice(w, g * Fg, (g + 1) * Fg);
    Tensor dyg = lastAxisSlice(dy, g * Fg, (g + 1) * Fg);
    Tensor yg = run(OpKind::Conv2D, {xg, wg}, single);
    EXPECT_TRUE(matches(lastAxisSlice(y, g * Fg, (g + 1) * Fg), yg.shape, yg.data));
    Tensor dxg = run(OpKind::Conv2DGradInput, {dyg, wg}, si);
    EXPECT_TRUE(matches(lastAxisSlice(dx, g * Cg, (g + 1) * Cg), dxg.shape, dxg.data));
    Tensor dwg = run(OpKind::Conv2DGradFilter, {xg, dyg}, sf);
    EXPECT_TRUE(matches(lastAxisSlice(dw, g * Fg, (g + 1) * Fg), dwg.shape, dwg.data));
  }
}

}  // namespace
}  // namespace nnc
