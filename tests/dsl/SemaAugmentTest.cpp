// random_flip and random_translation in the front end: the ops and attributes they become,
// their summary rows, and their located errors.
#include <gtest/gtest.h>

#include "compiler/ir/TypedAttrs.h"
#include "tests/dsl/SemaTestHelpers.h"

namespace nnc::testing {
namespace {

const Node* firstOf(const Model& m, OpKind op) {
  for (const Node& n : m.graph.nodes())
    if (n.op == op) return &n;
  return nullptr;
}

TEST(SemaAugment, FlipAndTranslationBecomeTheirModeDependentOps) {
  Model m = compileOk(withImages(
      "px = reshape(image, [28, 28, 1])\n"
      "f = random_flip(px)\n"
      "v = random_flip(f, mode = both)\n"
      "t = random_translation(v, height = 0.1, width = 0.25)\n"));
  const Node* flip = firstOf(m, OpKind::RandomFlip);
  ASSERT_NE(flip, nullptr);
  EXPECT_EQ(FlipAttr::of(*flip).mode, "horizontal");  // the default
  const Node* shift = firstOf(m, OpKind::RandomTranslation);
  ASSERT_NE(shift, nullptr);
  EXPECT_DOUBLE_EQ(TranslationAttr::of(*shift).height, 0.1);
  EXPECT_DOUBLE_EQ(TranslationAttr::of(*shift).width, 0.25);
  EXPECT_EQ(typeOf(m, "t"), (TensorType{DType::F32, Shape{kBatch, 28, 28, 1}}));
  ASSERT_GE(m.layers.size(), 3u);
  EXPECT_EQ(m.layers[m.layers.size() - 3].kind, "RandomFlip");
  EXPECT_EQ(m.layers.back().kind, "RandomTranslation");
  EXPECT_EQ(m.layers.back().trainableParams, 0);
}

TEST(SemaAugment, RankThreeImagesAreOneChannel) {
  Model m = compileOk(withImages("f = random_flip(image, mode = vertical)\nt = random_translation(f, height = 0, width = 1)\n"));
  EXPECT_EQ(typeOf(m, "t"), (TensorType{DType::F32, Shape{kBatch, 28, 28}}));
}

TEST(SemaAugment, LocatedErrors) {
  std::string mode = compileErrors(withImages("f = random_flip(image, mode = diagonal)\n"));
  EXPECT_NE(mode.find("unknown flip mode 'diagonal'"), std::string::npos) << mode;
  EXPECT_NE(mode.find("test.nn:4:"), std::string::npos) << mode;

  std::string fraction = compileErrors(withImages("t = random_translation(image, height = 1.5, width = 0.1)\n"));
  EXPECT_NE(fraction.find("height"), std::string::npos) << fraction;
  EXPECT_NE(fraction.find("[0, 1]"), std::string::npos) << fraction;
  EXPECT_NE(fraction.find("test.nn:4:"), std::string::npos) << fraction;
  std::string negative = errorMessages(withImages("t = random_translation(image, height = 0.1, width = -0.2)\n"));
  EXPECT_NE(negative.find("width"), std::string::npos) << negative;

  std::string missing = errorMessages(withImages("t = random_translation(image, height = 0.1)\n"));
  EXPECT_NE(missing.find("width"), std::string::npos) << missing;

  std::string rank2 = compileErrors("model t\ninput x: f32[batch, 12]\nf = random_flip(x)\n");
  EXPECT_NE(rank2.find("[batch, height, width, channels] or [batch, height, width]"), std::string::npos) << rank2;
  EXPECT_NE(rank2.find("test.nn:3:"), std::string::npos) << rank2;
  std::string rank5 = errorMessages("model t\ninput x: f32[batch, 2, 3, 4, 5]\nf = random_translation(x, height = 0.1, width = 0.1)\n");
  EXPECT_NE(rank5.find("rank"), std::string::npos) << rank5;
}

}  // namespace
}  // namespace nnc::testing
