// multi_head_attention's fused kernels (attention_softmax and its gradient) and whole
// attention and layernorm layers, compiled by the JIT, against the reference interpreter:
// causal and not, square and rectangular score blocks (more or fewer queries than keys), at
// batch 1, 7 and 16 on 1 and 2 threads with every kernel split across threads.
#include <gtest/gtest.h>

#include "dsl/Frontend.h"
#include "tests/codegen/CodegenTestUtil.h"

namespace nnc {
namespace {

using namespace nnc::testing;

Graph attentionSoftmaxGraph(int64_t queries, int64_t keys, bool causal, bool grad) {
  Graph g;
  NodeId s = input(g, "s", DType::F32, {kBatch, 3, queries, keys});
  Attrs a{{"scale", 0.37}, {"causal", int64_t(causal ? 1 : 0)}};
  NodeId y = op(g, OpKind::AttentionSoftmax, {s}, a);
  if (grad) y = op(g, OpKind::AttentionSoftmaxGrad, {y, input(g, "dy", DType::F32, {kBatch, 3, queries, keys})}, a);
  g.outputs.push_back({"y", y});
  return g;
}

TEST(AttentionSoftmax, MatchesInterpreter) {
  for (bool causal : {false, true})
    for (auto [tq, tk] : std::vector<std::pair<int64_t, int64_t>>{{5, 5}, {4, 13}, {9, 3}, {1, 1}})
      for (bool grad : {false, true}) {
        SCOPED_TRACE("causal " + std::to_string(causal) + " " + std::to_string(tq) + "x" + std::to_string(tk) +
                     (grad ? " grad" : ""));
        expectMatchesInterpreter(attentionSoftmaxGraph(tq, tk, causal, grad), {{"s", {-6, 6}}, {"dy", {-2, 2}}});
      }
}

TEST(AttentionSoftmax, CausalRowsIgnoreLaterKeys) {
  // Row i of a causal block must not depend on keys j > i: huge later scores change nothing.
  Graph g = attentionSoftmaxGraph(4, 4, true, false);
  std::vector<int64_t> shape{1, 3, 4, 4};
  Tensor s(DType::F32, shape), t(DType::F32, shape);
  for (int64_t i = 0; i < s.size(); ++i) {
    int64_t row = (i / 4) % 4, col = i % 4;
    s.data[static_cast<size_t>(i)] = 0.1 * static_cast<double>(i % 7);
    t.data[static_cast<size_t>(i)] = col > row ? 1e30 : s.data[static_cast<size_t>(i)];
  }
  NodeId x = g.outputs[0].node;
  auto a = interpret(g, {{g.findLeaf(OpKind::Input, "s"), s}}, {x}, Precision::F32);
  auto b = interpret(g, {{g.findLeaf(OpKind::Input, "s"), t}}, {x}, Precision::F32);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ((*a)[0].data, (*b)[0].data);
  EXPECT_EQ((*a)[0].data[1], 0.0);  // row 0 sees key 0 only
  EXPECT_EQ((*a)[0].data[0], 1.0);
}

Graph compileLayers(const std::string& body) {
  std::string src = "model t\ninput q: f32[batch, 6, 8]\ninput v: f32[batch, 4, 5]\n" + body;
  DiagnosticEngine diags("test.nn", src);
  std::optional<Model> m = compileModel(src, diags);
  EXPECT_TRUE(m.has_value()) << diags.renderToString();
  return m ? m->graph : Graph{};
}

TEST(AttentionLayers, ForwardMatchesInterpreter) {
  Graph g = compileLayers(
      "n = layernorm(q)\n"
      "output a = multi_head_attention(n, n, heads = 2, key_dim = 3, causal = true)\n"
      "output c = multi_head_attention(q, v, heads = 4, key_dim = 2)\n"
      "output l = layernorm(v, eps = 1e-3)\n");
  expectMatchesInterpreter(g, {{"q", {-2, 2}}, {"v", {-2, 2}}});
}

}  // namespace
}  // namespace nnc
