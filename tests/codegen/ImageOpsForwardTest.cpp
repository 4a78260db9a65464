// upsample, pad and their gradients, and the transposed convolution (conv2d_grad_input applied to
// an image), compiled by the JIT against the reference interpreter at odd sizes: batch 1, 7
// and 16, on 1 and 2 threads, every kernel split across threads.
#include <gtest/gtest.h>

#include "tests/codegen/CodegenTestUtil.h"

namespace nnc {
namespace {

using namespace nnc::testing;
using V = std::vector<int64_t>;
constexpr DType F = DType::F32;

TEST(ImageOps, UpsampleAndItsGradient) {
  for (const char* mode : {"nearest", "bilinear"})
    for (V scale : {V{2, 2}, V{3, 1}, V{1, 4}}) {
      Attrs a{{"scale", scale}, {"mode", std::string(mode)}};
      Graph g;
      NodeId x = input(g, "x", F, {kBatch, 5, 3, 7});
      NodeId y = op(g, OpKind::Upsample, {x}, a);
      g.outputs.push_back({"y", y});
      const Shape& ys = g.type(y).shape;
      NodeId dy = input(g, "dy", F, {kBatch, ys[1], ys[2], 7});
      Attrs ga = a;
      ga.set("input_hw", V{5, 3});
      g.outputs.push_back({"dx", op(g, OpKind::UpsampleGrad, {dy}, ga)});
      SCOPED_TRACE(std::string(mode) + " " + attrValueStr(scale));
      expectMatchesInterpreter(g);
    }
}

TEST(ImageOps, PadAndItsGradient) {
  for (const char* mode : {"constant", "reflect"})
    for (V pads : {V{1, 2, 2, 1}, V{0, 3, 4, 0}, V{0, 0, 0, 0}}) {
      Attrs a{{"pads", pads}, {"mode", std::string(mode)}, {"value", -1.5}};
      Graph g;
      NodeId x = input(g, "x", F, {kBatch, 5, 4, 9});
      NodeId y = op(g, OpKind::Pad, {x}, a);
      g.outputs.push_back({"y", y});
      const Shape& ys = g.type(y).shape;
      NodeId dy = input(g, "dy", F, {kBatch, ys[1], ys[2], 9});
      Attrs ga = a;
      ga.set("input_hw", V{5, 4});
      g.outputs.push_back({"dx", op(g, OpKind::PadGrad, {dy}, ga)});
      SCOPED_TRACE(std::string(mode) + " " + attrValueStr(pads));
      expectMatchesInterpreter(g);
    }
}

TEST(ImageOps, TransposedConvolutionAndItsGradients) {
  struct Case {
    int64_t k, s, outH, outW;
    V pads;
  };
  // x [batch, 5, 3, 6] -> [batch, outH, outW, 5]
  for (const Case& c : std::vector<Case>{{4, 2, 10, 6, {1, 1, 1, 1}}, {3, 2, 10, 6, {0, 0, 1, 1}}, {3, 2, 11, 7, {0, 0, 0, 0}},
                                          {2, 3, 15, 9, {0, 0, 0, 0}}}) {
    Attrs geo{{"strides", V{c.s, c.s}}, {"pads", c.pads}};
    Attrs t = geo;
    t.set("input_hw", V{c.outH, c.outW});
    Graph g;
    NodeId x = input(g, "x", F, {kBatch, 5, 3, 6});
    NodeId w = param(g, "w", {c.k, c.k, 5, 6});
    g.outputs.push_back({"y", op(g, OpKind::Conv2DGradInput, {x, w}, t)});
    NodeId dy = input(g, "dy", F, {kBatch, c.outH, c.outW, 5});
    g.outputs.push_back({"dx", op(g, OpKind::Conv2D, {dy, w}, geo)});
    Attrs f = geo;
    f.set("kernel", V{c.k, c.k});
    g.outputs.push_back({"dw", op(g, OpKind::Conv2DGradFilter, {dy, x}, f)});
    SCOPED_TRACE("k" + std::to_string(c.k) + " s" + std::to_string(c.s));
    expectMatchesInterpreter(g);
  }
}

}  // namespace
}  // namespace nnc
