// gradcheck (f64 interpreter, finite differences) on models with layernorm and
// multi_head_attention, causal and not, through the front end; and the fused softmax op alone.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "compiler/train/GradCheck.h"
#include "dsl/Frontend.h"
#include "tests/compiler/GradTestHelpers.h"

namespace nnc {
namespace {

void expectAttentionGradCheckPasses(const std::string& source, uint64_t seed) {
  DiagnosticEngine diags("test.nn", source);
  std::optional<Model> m = compileModel(source, diags);
  ASSERT_TRUE(m.has_value()) << diags.renderToString();
  GradCheckOptions o;
  o.seed = seed;
  Result<GradCheckReport> r = gradCheck(*m, o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->passed()) << formatGradCheckReport(*r);
  EXPECT_GE(r->params.size(), 8u);
}

TEST(GradCheckAttention, SelfAttentionCausalAndNot) {
  for (const char* causal : {"false", "true"})
    for (uint64_t seed : {0u, 1u}) {
      SCOPED_TRACE(std::string("causal ") + causal + " seed " + std::to_string(seed));
      expectAttentionGradCheckPasses(std::string(R"(
model self_attention
input seq: f32[batch, 5, 4]
input label: i32[batch]
n = layernorm(seq)
a = multi_head_attention(n, n, heads = 2, key_dim = 3, causal = )") + causal + R"()
m = layernorm(seq + a, eps = 1e-3)
logits = dense(mean(m, axis = 1), 3, name = "out")
train { loss = cross_entropy(logits, label) }
)", seed);
    }
}

TEST(GradCheckAttention, CrossAttentionOfOtherLengthAndWidth) {
  for (const char* causal : {"false", "true"}) {
    SCOPED_TRACE(std::string("causal ") + causal);
    expectAttentionGradCheckPasses(std::string(R"(
model cross_attention
input q: f32[batch, 3, 4]
input v: f32[batch, 5, 2]
input t: f32[batch, 3, 4]
a = multi_head_attention(q, v, heads = 3, key_dim = 2, causal = )") + causal + R"()
n = layernorm(a)
train { loss = mse(n + a, t) }
)", 3);
  }
}

TEST(GradCheckAttention, TinyTransformerExample) {
  std::ifstream in(std::string(NNC_SOURCE_DIR) + "/examples/tiny_transformer.nn");
  std::stringstream text;
  text << in.rdbuf();
  ASSERT_FALSE(text.str().empty());
  expectAttentionGradCheckPasses(text.str(), 0);
}

TEST(GradCheckAttention, FusedSoftmaxOp) {
  for (int64_t causal : {0, 1}) {
    SCOPED_TRACE("causal " + std::to_string(causal));
    testing::OpHarness h;
    NodeId x = h.leaf(Shape{kBatch, 2, 3, 4}, -2, 2);
    h.check(h.op(OpKind::AttentionSoftmax, {x}, Attrs{{"scale", 0.7}, {"causal", causal}}));
  }
}

}  // namespace
}  // namespace nnc
