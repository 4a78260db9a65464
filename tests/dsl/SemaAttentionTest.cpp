// layernorm and multi_head_attention in the front end: their parameters, result types, the
// attention op they lower to, and located errors for bad arguments.
#include <gtest/gtest.h>

#include "tests/dsl/SemaTestHelpers.h"

namespace nnc {
namespace {

using namespace nnc::testing;

const char* kSequences = "model t\ninput q: f32[batch, 6, 8]\ninput v: f32[batch, 4, 5]\n";

Shape paramShape(const Model& m, const std::string& name) {
  NodeId id = leaf(m, OpKind::Param, name);
  EXPECT_NE(id, kNoNode) << name;
  return id == kNoNode ? Shape{} : m.graph.type(id).shape;
}

TEST(SemaAttention, LayerNormParametersAndType) {
  Model m = compileOk(std::string(kSequences) + "n = layernorm(q)\nk = layernorm(v, eps = 1e-3)\n");
  EXPECT_EQ(typeOf(m, "n"), (TensorType{DType::F32, Shape{kBatch, 6, 8}}));
  EXPECT_EQ(paramShape(m, "n.gamma"), (Shape{8}));
  EXPECT_EQ(paramShape(m, "n.beta"), (Shape{8}));
  EXPECT_EQ(paramShape(m, "k.gamma"), (Shape{5}));
  EXPECT_EQ(m.layers.back().kind, "LayerNormalization");
}

TEST(SemaAttention, MultiHeadAttentionParametersAndType) {
  Model m = compileOk(std::string(kSequences) + "a = multi_head_attention(q, v, heads = 3, key_dim = 2)\n");
  EXPECT_EQ(typeOf(m, "a"), (TensorType{DType::F32, Shape{kBatch, 6, 8}}));
  EXPECT_EQ(paramShape(m, "a.query"), (Shape{8, 6}));
  EXPECT_EQ(paramShape(m, "a.key"), (Shape{5, 6}));
  EXPECT_EQ(paramShape(m, "a.value"), (Shape{5, 6}));
  for (const char* b : {"a.query_bias", "a.key_bias", "a.value_bias"}) EXPECT_EQ(paramShape(m, b), (Shape{6}));
  EXPECT_EQ(paramShape(m, "a.output"), (Shape{6, 8}));
  EXPECT_EQ(paramShape(m, "a.output_bias"), (Shape{8}));
  EXPECT_EQ(m.layers.back().kind, "MultiHeadAttention");
  EXPECT_EQ(m.layers.back().trainableParams, 8 * 6 + 6 + 2 * (5 * 6 + 6) + 6 * 8 + 8);
}

// The scores go through one attention_softmax with scale 1/sqrt(key_dim) and the causal flag.
TEST(SemaAttention, LowersToTheFusedSoftmax) {
  for (bool causal : {false, true}) {
    Model m = compileOk(std::string(kSequences) + "a = multi_head_attention(q, q, heads = 2, key_dim = 4" +
                        (causal ? ", causal = true" : "") + ")\n");
    int found = 0;
    for (const Node& n : m.graph.nodes())
      if (n.op == OpKind::AttentionSoftmax) {
        ++found;
        EXPECT_DOUBLE_EQ(n.attrs.getFloat("scale"), 0.5);
        EXPECT_EQ(n.attrs.getInt("causal"), causal ? 1 : 0);
        EXPECT_EQ(n.type.shape, (Shape{kBatch, 2, 6, 6}));
      }
    EXPECT_EQ(found, 1);
  }
}

TEST(SemaAttention, KeyDimDefaultsToFeaturesOverHeads) {
  Model m = compileOk(std::string(kSequences) + "a = multi_head_attention(q, v, heads = 4)\n");
  EXPECT_EQ(paramShape(m, "a.query"), (Shape{8, 8}));
}

TEST(SemaAttention, LocatedErrors) {
  std::string h = kSequences;
  // At the heads' value, the 40th column.
  EXPECT_EQ(compileErrors(h + "a = multi_head_attention(q, v, heads = 3)\n"),
            "test.nn:4:40: error: multi_head_attention: 3 heads do not divide the 8 query features; give key_dim = d "
            "(each head's width)\n"
            "a = multi_head_attention(q, v, heads = 3)\n" +
                std::string(39, ' ') + "^\n");
  EXPECT_NE(errorMessages(h + "a = multi_head_attention(q, v, heads = 0, key_dim = 2)\n").find("heads"),
            std::string::npos);
  EXPECT_NE(errorMessages(h + "a = multi_head_attention(q, v, heads = 2, key_dim = -1)\n").find("key_dim"),
            std::string::npos);
  EXPECT_NE(errorMessages("model t\ninput q: f32[batch, 6, 8]\ninput v: f32[3, 4, 5]\n"
                          "a = multi_head_attention(q, v, heads = 2, key_dim = 2)\n")
                .find("different batch dimensions (batch vs 3)"),
            std::string::npos);
  EXPECT_NE(errorMessages("model t\ninput x: f32[batch, 8]\na = multi_head_attention(x, x, heads = 2)\n")
                .find("[batch, time, features]"),
            std::string::npos);
  EXPECT_NE(errorMessages(h + "a = multi_head_attention(q, v, heads = 2, key_dim = 2, causal = 1)\n").find("causal"),
            std::string::npos);
  EXPECT_NE(errorMessages(h + "n = layernorm(q, eps = 0)\n").find("eps"), std::string::npos);
  EXPECT_NE(errorMessages(h + "y = relu(multi_head_attention(q, v, heads = 2)) \n").find("name"), std::string::npos);
}

}  // namespace
}  // namespace nnc
