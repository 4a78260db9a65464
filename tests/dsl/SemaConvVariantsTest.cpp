// The convolution variants: conv2d's `dilation` and `groups`, depthwise_conv2d,
// separable_conv2d and conv1d: parameters, shapes, the Conv2D attributes they expand into
// (TensorFlow's `same` padding of the dilated window), and their located errors.
#include <gtest/gtest.h>

#include "compiler/ir/ShapeRules.h"
#include "tests/dsl/SemaTestHelpers.h"

namespace nnc::testing {
namespace {

const char* kConvImage = "model t\ninput x: f32[batch, 9, 10, 8]\n";

std::vector<const Node*> convNodes(const Model& m) {
  std::vector<const Node*> convs;
  for (const Node& n : m.graph.nodes())
    if (n.op == OpKind::Conv2D) convs.push_back(&n);
  return convs;
}

TEST(SemaConvVariants, DilationPadsTheDilatedWindow) {
  Model m = compileOk(std::string(kConvImage) +
                      "a = conv2d(x, 4, kernel = 3, dilation = 2)\n"
                      "b = conv2d(x, 4, kernel = 3, dilation = [2, 3], padding = valid)\n"
                      "c = conv2d(x, 4, kernel = 3, stride = 2, dilation = 2)\n");
  EXPECT_EQ(typeOf(m, "a"), (TensorType{DType::F32, Shape{kBatch, 9, 10, 4}}));
  EXPECT_EQ(typeOf(m, "b"), (TensorType{DType::F32, Shape{kBatch, 5, 4, 4}}));
  EXPECT_EQ(typeOf(m, "c"), (TensorType{DType::F32, Shape{kBatch, 5, 5, 4}}));
  auto convs = convNodes(m);
  ASSERT_EQ(convs.size(), 3u);
  EXPECT_EQ(convs[0]->attrs.getInts("pads"), (std::vector<int64_t>{2, 2, 2, 2}));  // span 5
  EXPECT_EQ(convs[0]->attrs.getInts("dilations"), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(convs[1]->attrs.getInts("dilations"), (std::vector<int64_t>{2, 3}));
  // Span 5, stride 2: 9 rows need (5 - 1) * 2 + 5 - 9 = 4 rows of padding, 10 columns 3
  // (the odd one at the right). [top, left, bottom, right]:
  EXPECT_EQ(convs[2]->attrs.getInts("pads"), (std::vector<int64_t>{2, 1, 2, 2}));
}

TEST(SemaConvVariants, GroupsSplitTheFilter) {
  Model m = compileOk(std::string(kConvImage) + "g = conv2d(x, 12, kernel = 3, groups = 4)\n");
  EXPECT_EQ(m.graph.type(leaf(m, OpKind::Param, "g.weight")).shape, (Shape{3, 3, 2, 12}));
  EXPECT_EQ(typeOf(m, "g"), (TensorType{DType::F32, Shape{kBatch, 9, 10, 12}}));
  ASSERT_EQ(convNodes(m).size(), 1u);
  EXPECT_EQ(convNodes(m)[0]->attrs.getInt("groups"), 4);
  EXPECT_FALSE(convNodes(m)[0]->attrs.has("dilations"));
}

TEST(SemaConvVariants, DepthwiseIsAGroupPerChannel) {
  Model m = compileOk(std::string(kConvImage) +
                      "d = depthwise_conv2d(x, kernel = 3, multiplier = 2, stride = 2, dilation = 2)\n");
  EXPECT_EQ(m.graph.type(leaf(m, OpKind::Param, "d.weight")).shape, (Shape{3, 3, 8, 2}));
  EXPECT_EQ(m.graph.type(leaf(m, OpKind::Param, "d.bias")).shape, (Shape{16}));
  EXPECT_EQ(typeOf(m, "d"), (TensorType{DType::F32, Shape{kBatch, 5, 5, 16}}));
  ASSERT_EQ(convNodes(m).size(), 1u);
  EXPECT_EQ(convNodes(m)[0]->attrs.getInt("groups"), 8);
  EXPECT_EQ(m.graph.type(convNodes(m)[0]->inputs[1]).shape, (Shape{3, 3, 1, 16}));
  EXPECT_EQ(m.layers.back().kind, "DepthwiseConv2D");
}

TEST(SemaConvVariants, SeparableIsDepthwiseThenPointwise) {
  Model m = compileOk(std::string(kConvImage) + "s = separable_conv2d(x, 5, kernel = 3, padding = valid)\n");
  EXPECT_EQ(m.graph.type(leaf(m, OpKind::Param, "s.depthwise")).shape, (Shape{3, 3, 8, 1}));
  EXPECT_EQ(m.graph.type(leaf(m, OpKind::Param, "s.pointwise")).shape, (Shape{1, 1, 8, 5}));
  EXPECT_EQ(m.graph.type(leaf(m, OpKind::Param, "s.bias")).shape, (Shape{5}));
  EXPECT_EQ(typeOf(m, "s"), (TensorType{DType::F32, Shape{kBatch, 7, 8, 5}}));
  EXPECT_EQ(convNodes(m).size(), 2u);
  EXPECT_EQ(totalParams(m), 3 * 3 * 8 + 8 * 5 + 5);
}

TEST(SemaConvVariants, Conv1DOverTime) {
  Model m = compileOk(
      "model t\ninput s: f32[batch, 11, 3]\n"
      "a = conv1d(s, 6, kernel = 3, dilation = 2)\n"
      "b = conv1d(s, 4, kernel = 4, stride = 2, padding = valid, bias = false)\n");
  EXPECT_EQ(m.graph.type(leaf(m, OpKind::Param, "a.weight")).shape, (Shape{3, 3, 6}));
  EXPECT_EQ(typeOf(m, "a"), (TensorType{DType::F32, Shape{kBatch, 11, 6}}));
  EXPECT_EQ(typeOf(m, "b"), (TensorType{DType::F32, Shape{kBatch, 4, 4}}));
  EXPECT_EQ(leaf(m, OpKind::Param, "b.bias"), kNoNode);
  EXPECT_EQ(m.layers.back().kind, "Conv1D");
}

TEST(SemaConvVariants, LocatedErrors) {
  EXPECT_EQ(errorMessages(std::string(kConvImage) + "g = conv2d(x, 12, kernel = 3, groups = 3)\n"),
            "conv2d: groups = 3 does not divide the 8 input channels\n");
  EXPECT_EQ(errorMessages(std::string(kConvImage) + "g = conv2d(x, 10, kernel = 3, groups = 4)\n"),
            "conv2d: groups = 4 does not divide the 10 filters\n");
  EXPECT_EQ(errorMessages(std::string(kConvImage) + "d = conv2d(x, 4, kernel = 3, dilation = 5, padding = valid)\n"),
            "conv2d: window 3x3 (dilated to 11x11) does not fit the 9x10 input with this padding\n");
  EXPECT_EQ(errorMessages(std::string(kConvImage) + "d = depthwise_conv2d(x, kernel = 11, padding = valid)\n"),
            "conv2d: window 11x11 does not fit the 9x10 input with this padding\n");
  EXPECT_EQ(errorMessages("model t\ninput s: f32[batch, 4, 3]\nc = conv1d(s, 2, kernel = 3, dilation = 2, padding = valid)\n"),
            "conv2d: window 1x3 (dilated to 1x5) does not fit the 1x4 input with this padding\n");
  // The position is the call's.
  std::string rendered = compileErrors(std::string(kConvImage) + "g = conv2d(x, 12, kernel = 3, groups = 3)\n");
  EXPECT_NE(rendered.find("test.nn:3:5: error:"), std::string::npos) << rendered;
  EXPECT_NE(errorMessages(std::string(kConvImage) + "g = conv2d(x, 8, kernel = 3, groups = 0)\n").find("groups"),
            std::string::npos);
  EXPECT_NE(errorMessages(std::string(kConvImage) + "d = depthwise_conv2d(x, kernel = 3, multiplier = 0)\n")
                .find("multiplier"),
            std::string::npos);
}

}  // namespace
}  // namespace nnc::testing
