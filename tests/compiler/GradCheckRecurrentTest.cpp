// gradcheck (f64 interpreter against central differences) through the recurrence loop ops:
// every cell, both directions, with and without sequences, and the rnn's activations (whose
// derivative the gradient rule takes from the activation's own rule).
#include <gtest/gtest.h>

#include "compiler/train/GradCheck.h"
#include "dsl/Frontend.h"

namespace nnc {
namespace {

void expectRecurrentGradCheck(const std::string& layers, const std::string& head) {
  std::string source = "model m\ninput seq: f32[batch, 4, 3]\ninput label: i32[batch]\n" + layers +
                       "logits = dense(" + head + ", 3)\ntrain {\n  loss = cross_entropy(logits, label)\n}\n";
  DiagnosticEngine diags("test.nn", source);
  std::optional<Model> m = compileModel(source, diags);
  ASSERT_TRUE(m.has_value()) << diags.renderToString();
  Result<GradCheckReport> r = gradCheck(*m, GradCheckOptions{});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->passed()) << formatGradCheckReport(*r);
}

TEST(GradCheckRecurrent, Lstm) {
  expectRecurrentGradCheck("a = lstm(seq, 3, sequences = true)\nb = lstm(a, 2)\n", "b");
}
TEST(GradCheckRecurrent, Gru) {
  expectRecurrentGradCheck("a = gru(seq, 3, sequences = true)\nb = gru(a, 2)\n", "b");
}
TEST(GradCheckRecurrent, RnnActivations) {
  expectRecurrentGradCheck("a = rnn(seq, 3, sequences = true)\nb = rnn(a, 2, activation = sigmoid, sequences = true)\n"
                           "c = rnn(b, 2, activation = softplus)\nd = rnn(seq, 2, activation = none)\ne = concat([c, d])\n",
                           "e");
}
TEST(GradCheckRecurrent, BidirectionalEveryCell) {
  expectRecurrentGradCheck("a = lstm(seq, 2, sequences = true, bidirectional = true)\n"
                           "b = gru(a, 2, sequences = true, bidirectional = true)\n"
                           "c = rnn(b, 2, bidirectional = true)\n",
                           "c");
}

}  // namespace
}  // namespace nnc
