// conv2d_transpose, upsample, pad, global_maxpool and one-dimensional pooling in the front end:
// result types, parameters, summary rows, and located errors.
#include <gtest/gtest.h>

#include "tests/dsl/SemaTestHelpers.h"

namespace nnc::testing {
namespace {

const char* kImageInputs =
    "model t\n"
    "input img: f32[batch, 7, 6, 3]\n"
    "input seq: f32[batch, 10, 4]\n";

TensorType typeOfExpr(const std::string& expr) {
  Model m = compileOk(std::string(kImageInputs) + "r = " + expr + "\n");
  return typeOf(m, "r");
}

TensorType F(std::initializer_list<int64_t> d) { return TensorType{DType::F32, Shape(d)}; }
constexpr int64_t B = kBatch;

TEST(SemaImageOps, ResultTypes) {
  EXPECT_EQ(typeOfExpr("conv2d_transpose(img, 5, kernel = 4, stride = 2)"), F({B, 14, 12, 5}));
  EXPECT_EQ(typeOfExpr("conv2d_transpose(img, 5, kernel = 3, stride = 2, padding = valid)"), F({B, 15, 13, 5}));
  EXPECT_EQ(typeOfExpr("conv2d_transpose(img, 5, kernel = [1, 3], stride = [3, 1], padding = valid)"), F({B, 19, 8, 5}));
  EXPECT_EQ(typeOfExpr("conv2d_transpose(img, 2, kernel = 1, stride = 3)"), F({B, 21, 18, 2}));
  EXPECT_EQ(typeOfExpr("upsample(img)"), F({B, 14, 12, 3}));
  EXPECT_EQ(typeOfExpr("upsample(img, [3, 1], mode = bilinear)"), F({B, 21, 6, 3}));
  EXPECT_EQ(typeOfExpr("upsample(seq, 3, mode = bilinear)"), F({B, 30, 4}));
  EXPECT_EQ(typeOfExpr("pad(img, [[1, 2], [0, 3]])"), F({B, 10, 9, 3}));
  EXPECT_EQ(typeOfExpr("pad(img, 2, mode = reflect)"), F({B, 11, 10, 3}));
  EXPECT_EQ(typeOfExpr("pad(seq, [[3, 1]], mode = reflect, value = 2)"), F({B, 14, 4}));
  EXPECT_EQ(typeOfExpr("global_maxpool(img)"), F({B, 3}));
  EXPECT_EQ(typeOfExpr("global_maxpool(seq)"), F({B, 4}));
  EXPECT_EQ(typeOfExpr("global_avgpool(seq)"), F({B, 4}));
  EXPECT_EQ(typeOfExpr("maxpool(seq, 2)"), F({B, 5, 4}));
  EXPECT_EQ(typeOfExpr("avgpool(seq, 3, stride = 2, padding = same)"), F({B, 5, 4}));
  EXPECT_EQ(typeOfExpr("maxpool(seq, 3, stride = 1)"), F({B, 8, 4}));
}

// Summary rows name the form (1D for a sequence, 2D for an image) and pad's mode, as Keras'
// layers and PyTorch's ReflectionPad do.
TEST(SemaImageOps, SummaryKindsNameTheFormAndThePaddingMode) {
  auto kindOf = [](const std::string& expr) {
    Model m = compileOk(std::string(kImageInputs) + "r = " + expr + "\n");
    return m.layers.empty() ? std::string("(no row)") : m.layers.back().kind;
  };
  EXPECT_EQ(kindOf("maxpool(seq, 2)"), "MaxPooling1D");
  EXPECT_EQ(kindOf("maxpool(img, 2)"), "MaxPooling2D");
  EXPECT_EQ(kindOf("avgpool(seq, 3, stride = 2, padding = same)"), "AveragePooling1D");
  EXPECT_EQ(kindOf("avgpool(img, 2)"), "AveragePooling2D");
  EXPECT_EQ(kindOf("global_maxpool(seq)"), "GlobalMaxPooling1D");
  EXPECT_EQ(kindOf("global_maxpool(img)"), "GlobalMaxPooling2D");
  EXPECT_EQ(kindOf("global_avgpool(seq)"), "GlobalAveragePooling1D");
  EXPECT_EQ(kindOf("global_avgpool(img)"), "GlobalAveragePooling2D");
  EXPECT_EQ(kindOf("upsample(seq, 3)"), "UpSampling1D");
  EXPECT_EQ(kindOf("upsample(img)"), "UpSampling2D");
  EXPECT_EQ(kindOf("pad(img, 2, mode = reflect)"), "ReflectionPadding2D");
  EXPECT_EQ(kindOf("pad(seq, [[3, 1]], mode = reflect)"), "ReflectionPadding1D");
  EXPECT_EQ(kindOf("pad(img, [[1, 2], [0, 3]])"), "ZeroPadding2D");
  EXPECT_EQ(kindOf("pad(seq, 1)"), "ZeroPadding1D");
  EXPECT_EQ(kindOf("pad(img, 1, value = -1)"), "ConstantPadding2D");
  // Nested in a layer's argument, the kind is the call's too (the layer has the row).
  Model nested = compileOk(std::string(kImageInputs) + "r = dense(global_maxpool(maxpool(seq, 2)), 3)\n");
  ASSERT_FALSE(nested.layers.empty());
  EXPECT_EQ(nested.layers.back().kind, "Dense");
}

TEST(SemaImageOps, TransposedConvolutionParametersAndIr) {
  Model m = compileOk(std::string(kImageInputs) + "up = conv2d_transpose(img, 5, kernel = 4, stride = 2, activation = relu)\n");
  NodeId w = leaf(m, OpKind::Param, "up.weight"), b = leaf(m, OpKind::Param, "up.bias");
  ASSERT_NE(w, kNoNode);
  ASSERT_NE(b, kNoNode);
  EXPECT_EQ(m.graph.type(w).shape, Shape({4, 4, 5, 3}));  // [kh, kw, filters, in]
  EXPECT_EQ(m.graph.type(b).shape, Shape({5}));
  const Node* conv = nullptr;
  for (const Node& n : m.graph.nodes())
    if (n.op == OpKind::Conv2DGradInput) conv = &n;
  ASSERT_NE(conv, nullptr);
  EXPECT_EQ(conv->attrs.getInts("pads"), (std::vector<int64_t>{1, 1, 1, 1}));  // same, k4 s2
  EXPECT_EQ(totalParams(m), 4 * 4 * 5 * 3 + 5);
  ASSERT_FALSE(m.layers.empty());
  EXPECT_EQ(m.layers.back().kind, "Conv2DTranspose");
  EXPECT_EQ(m.layers.back().outputShape, Shape({B, 14, 12, 5}));
}

TEST(SemaImageOps, Errors) {
  auto errs = [](const std::string& line) { return errorMessages(std::string(kImageInputs) + line + "\n"); };
  EXPECT_EQ(errs("r = pad(img, [[7, 0], [0, 0]], mode = reflect)"),
            "reflect padding top = 7 must be smaller than the input's height 7 (the edge cell is not repeated)\n");
  EXPECT_EQ(errs("r = pad(img, [[0, 0], [1, 6]], mode = reflect)"),
            "reflect padding right = 6 must be smaller than the input's width 6 (the edge cell is not repeated)\n");
  EXPECT_EQ(errs("r = pad(seq, 10, mode = reflect)"),
            "reflect padding left = 10 must be smaller than the input's length 10 (the edge cell is not repeated)\n");
  EXPECT_EQ(errs("r = pad(img, [[1, 1]])"),
            "argument 'padding' of 'pad' needs two pairs [[top, bottom], [left, right]], got [[1, 1]]\n");
  EXPECT_EQ(errs("r = pad(img, [1, 2])"),
            "argument 'padding' of 'pad' must be an integer or a list of [before, after] pairs such as "
            "[[1, 1], [2, 2]], got [1, 2]\n");
  EXPECT_EQ(errs("r = pad(img, -1)"), "argument 'padding' of 'pad' must be in [0, 1000000], got -1\n");
  EXPECT_EQ(errs("r = pad(img, 1, mode = edge)"), "unknown padding mode 'edge'; expected one of constant, reflect\n");
  EXPECT_EQ(errs("r = upsample(img, 2, mode = bicubic)"),
            "unknown upsampling mode 'bicubic'; expected one of nearest, bilinear\n");
  EXPECT_EQ(errs("r = upsample(seq, [2, 2])"),
            "argument 'size' of 'upsample' must be one integer for a sequence [batch, time, channels], got [2, 2]\n");
  EXPECT_EQ(errs("r = maxpool(seq, [1, 2])"),
            "argument 'size' of 'maxpool' must be one integer for a sequence [batch, time, channels], got [1, 2]\n");
  EXPECT_EQ(errs("r = conv2d_transpose(seq, 2, kernel = 3)"),
            "conv2d_transpose expects an input of rank 4 [batch, height, width, channels], got f32[batch, 10, 4]\n");
}

TEST(SemaImageOps, ReflectErrorIsLocatedAtThePadding) {
  std::string out = compileErrors(std::string(kImageInputs) + "r = pad(img, [[0, 0], [1, 6]], mode = reflect)\n");
  EXPECT_NE(out.find("test.nn:4:14: error: reflect padding right = 6"), std::string::npos) << out;
}

}  // namespace
}  // namespace nnc::testing
