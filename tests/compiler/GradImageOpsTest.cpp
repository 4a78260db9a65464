// Gradient checks of conv2d_transpose (conv2d_grad_input with x in the output gradient's place),
// upsample and pad against central finite differences in f64, at odd sizes; and gradcheck of a
// small `.nn` autoencoder built from them through the front end.
#include <gtest/gtest.h>

#include "compiler/train/GradCheck.h"
#include "dsl/Frontend.h"
#include "tests/compiler/GradTestHelpers.h"

namespace nnc {
namespace {

using testing::OpHarness;
using V = std::vector<int64_t>;

TEST(GradImageOps, TransposedConvolution) {
  struct Case {
    int64_t h, w, kh, kw, s, outH, outW;
    V pads;
  };
  const std::vector<Case> cases = {
      {3, 4, 4, 4, 2, 6, 8, {1, 1, 1, 1}},   // same, k4 s2
      {3, 3, 3, 3, 2, 6, 6, {0, 0, 1, 1}},   // same, odd total padding: the extra at the bottom/right
      {3, 2, 3, 2, 2, 7, 4, {0, 0, 0, 0}},   // valid: (in - 1) * s + k
      {2, 3, 1, 1, 3, 6, 9, {0, 0, 0, 0}},   // kernel < stride: zeros between
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::to_string(c.h) + "x" + std::to_string(c.w) + " k" + std::to_string(c.kh) + " s" + std::to_string(c.s));
    OpHarness h;
    NodeId x = h.leaf(Shape{kBatch, c.h, c.w, 3});
    NodeId w = h.leaf(Shape{c.kh, c.kw, 2, 3});  // [kh, kw, filters, in]
    h.check(h.op(OpKind::Conv2DGradInput, {x, w},
                 Attrs{{"strides", V{c.s, c.s}}, {"pads", c.pads}, {"input_hw", V{c.outH, c.outW}}}));
  }
}

TEST(GradImageOps, Upsample) {
  for (const char* mode : {"nearest", "bilinear"})
    for (V scale : {V{2, 2}, V{3, 1}, V{1, 2}}) {
      SCOPED_TRACE(std::string(mode) + " " + attrValueStr(scale));
      OpHarness h;
      NodeId x = h.leaf(Shape{kBatch, 3, 5, 2});
      h.check(h.op(OpKind::Upsample, {x}, Attrs{{"scale", scale}, {"mode", std::string(mode)}}));
    }
}

TEST(GradImageOps, Pad) {
  for (const char* mode : {"constant", "reflect"})
    for (V pads : {V{1, 2, 2, 0}, V{2, 3, 0, 1}, V{0, 0, 0, 0}}) {
      SCOPED_TRACE(std::string(mode) + " " + attrValueStr(pads));
      OpHarness h;
      NodeId x = h.leaf(Shape{kBatch, 3, 4, 2});
      h.check(h.op(OpKind::Pad, {x}, Attrs{{"pads", pads}, {"mode", std::string(mode)}, {"value", 0.5}}));
    }
}

TEST(GradImageOps, AutoencoderModelPassesGradcheck) {
  const std::string source = R"(model ae
input image: f32[batch, 6, 6, 2]
input label: i32[batch]
e1 = conv2d(image, 3, kernel = 3, stride = 2, activation = tanh)
p1 = pad(e1, [[1, 2], [2, 1]], mode = reflect)
u1 = upsample(p1, 2, mode = bilinear)
t1 = conv2d_transpose(e1, 2, kernel = 4, stride = 2, activation = tanh)
t2 = conv2d_transpose(t1, 2, kernel = 3, stride = [2, 1], padding = valid)
u2 = upsample(e1, [2, 1])
seq = reshape(t2, [26, 8])
s1 = maxpool(seq, 3, stride = 2, padding = same)
s2 = pad(upsample(s1, 2, mode = bilinear), [[2, 1]], mode = reflect)
flat = concat([global_maxpool(u1), flatten(u2), flatten(pad(t2, 1, value = 0.5)), flatten(s2), global_avgpool(s2)], axis = -1)
logits = dense(flat, 3)
train { loss = cross_entropy(logits, label) }
)";
  DiagnosticEngine diags("ae.nn", source);
  std::optional<Model> m = compileModel(source, diags);
  ASSERT_TRUE(m.has_value()) << diags.renderToString();
  Result<GradCheckReport> r = gradCheck(*m, GradCheckOptions{});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->passed()) << formatGradCheckReport(*r);
  EXPECT_GE(r->params.size(), 6u);
}

}  // namespace
}  // namespace nnc
