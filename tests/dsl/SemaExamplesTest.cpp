// The example models compile, verify, and have exactly the parameter counts `nnc summary`
// must print (Keras's counts for the same architectures).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "compiler/ir/Verifier.h"
#include "tests/dsl/SemaTestHelpers.h"

namespace nnc::testing {
namespace {

std::string readExample(const std::string& name) {
  std::ifstream in(std::string(NNC_SOURCE_DIR) + "/examples/" + name);
  EXPECT_TRUE(in.good()) << name;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct ExampleCase {
  const char* file;
  int64_t totalParams;
  int64_t nonTrainable;
};

class SemaExamples : public ::testing::TestWithParam<ExampleCase> {};

TEST_P(SemaExamples, CompilesWithExactParameterCount) {
  Model m = compileOk(readExample(GetParam().file));
  EXPECT_EQ(totalParams(m), GetParam().totalParams);
  int64_t nonTrainable = 0;
  for (const LayerRow& r : m.layers) nonTrainable += r.nonTrainableParams;
  EXPECT_EQ(nonTrainable, GetParam().nonTrainable);
  EXPECT_TRUE(verifyGraph(m.graph).ok());
  EXPECT_TRUE(m.train.has_value());
  EXPECT_FALSE(m.graph.outputs.empty());
  // Every Param and State leaf is counted by exactly one row.
  int64_t leaves = 0;
  for (const Node& n : m.graph.nodes())
    if ((n.op == OpKind::Param || n.op == OpKind::State) && n.name != "class_weights") leaves += n.type.shape.numElements();
  EXPECT_EQ(leaves, GetParam().totalParams);
}

INSTANTIATE_TEST_SUITE_P(All, SemaExamples,
                         ::testing::Values(ExampleCase{"fashion_mlp.nn", 235146, 0},
                                           ExampleCase{"fashion_cnn.nn", 3274634, 0},
                                           ExampleCase{"sequence_lstm.nn", 8 * 128 + 32 * 128 + 128 + 32 * 5 + 5, 0},
                                           ExampleCase{"maxout_batchnorm.nn", 470538, 256 * 2 + 128 * 2},
                                           ExampleCase{"explicit_params.nn", 784 * 256 + 256 + 256 * 10 + 10, 0},
                                           // embedding 12x8, bidirectional gru (2 x (8*48 + 16*48 + 48 + 48)), dense 32x2
                                           ExampleCase{"text_gru.nn", 12 * 8 + 2 * (8 * 48 + 16 * 48 + 48 + 48) + 32 * 2 + 2, 0},
                                           // convolutions without bias, four batchnorms (their running statistics)
                                           ExampleCase{"fashion_cnn_augmented.nn",
                                                       288 + 18432 + 36864 + 3136 * 256 + 256 * 10 + 10 + 4 * (32 + 64 + 64 + 256),
                                                       2 * (32 + 64 + 64 + 256)}),
                         [](const auto& info) {
                           std::string n = info.param.file;
                           return n.substr(0, n.find('.'));
                         });

TEST(SemaExamples, FashionMlpRows) {
  Model m = compileOk(readExample("fashion_mlp.nn"));
  std::vector<std::string> rows;
  for (const LayerRow& r : m.layers)
    rows.push_back(r.name + " " + r.kind + " " + r.outputShape.str() + " " + std::to_string(r.trainableParams));
  EXPECT_EQ(rows, (std::vector<std::string>{
                      "image InputLayer [batch, 28, 28] 0", "label InputLayer [batch] 0", "flat Flatten [batch, 784] 0",
                      "h1 Dense [batch, 256] 200960", "h2 Dense [batch, 128] 32896", "logits Dense [batch, 10] 1290",
                      "probs Activation [batch, 10] 0"}));
  ASSERT_TRUE(m.train);
  EXPECT_EQ(m.train->optimizer.kind(), OptimizerKind::Adam);
  EXPECT_EQ(m.train->batch, 64);
  EXPECT_EQ(m.train->epochs, 10);
  EXPECT_EQ(m.train->normalize, NormalizeKind::Scale);
  EXPECT_DOUBLE_EQ(m.train->normalizeScale, 1.0 / 255);
  EXPECT_EQ(m.name, "fashion_mlp");
  EXPECT_EQ(m.graph.name, "fashion_mlp");
}

TEST(SemaExamples, FashionCnnShapes) {
  Model m = compileOk(readExample("fashion_cnn.nn"));
  EXPECT_EQ(typeOf(m, "pool1").shape, (Shape{kBatch, 14, 14, 32}));
  EXPECT_EQ(typeOf(m, "pool2").shape, (Shape{kBatch, 7, 7, 64}));
  EXPECT_EQ(typeOf(m, "flat").shape, (Shape{kBatch, 3136}));
}

}  // namespace
}  // namespace nnc::testing
