// gradcheck on the convolution variants (dilated, grouped, depthwise with multipliers 1 and 2,
// separable, conv1d): the models of the PyTorch agreement test, three seeds each.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "compiler/train/GradCheck.h"
#include "dsl/Frontend.h"

namespace nnc {
namespace {

std::string readConvVariantModel(const std::string& name) {
  std::ifstream in(std::string(NNC_SOURCE_DIR) + "/tests/peers/models/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void expectConvVariantGradCheck(const std::string& file) {
  std::string source = readConvVariantModel(file);
  ASSERT_FALSE(source.empty()) << file;
  DiagnosticEngine diags(file, source);
  std::optional<Model> m = compileModel(source, diags);
  ASSERT_TRUE(m.has_value()) << diags.renderToString();
  for (uint64_t seed : {0u, 1u, 2u}) {
    SCOPED_TRACE(file + " seed " + std::to_string(seed));
    GradCheckOptions o;
    o.seed = seed;
    o.sampledEntries = 4;
    Result<GradCheckReport> r = gradCheck(*m, o);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_TRUE(r->passed()) << formatGradCheckReport(*r);
  }
}

TEST(GradCheckConvVariants, DilatedGroupedDepthwiseSeparable) { expectConvVariantGradCheck("conv_variants.nn"); }
TEST(GradCheckConvVariants, Conv1D) { expectConvVariantGradCheck("conv1d_seq.nn"); }

}  // namespace
}  // namespace nnc
