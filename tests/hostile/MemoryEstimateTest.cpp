// The memory estimate behind --max-memory-gib (compiler/session/MemoryEstimate.h): state is
// counted once across the step graphs, intermediate values by their peak when alive at once,
// and the batch scales only batched values.
#include <gtest/gtest.h>

#include <sstream>

#include "compiler/session/MemoryEstimate.h"
#include "dsl/Frontend.h"

namespace nnc {
namespace {

Model compile(const std::string& text) {
  DiagnosticEngine diags("m.nn", text);
  std::optional<Model> m = compileModel(text, diags);
  EXPECT_TRUE(m) << diags.renderToString();
  return m ? std::move(*m) : Model{};
}

TEST(MemoryEstimate, CountsStateOnceAndScalesActivationsWithTheBatch) {
  Model m = compile(
      "model m\ninput x: f32[batch, 100]\ninput label: i32[batch]\n"
      "h = dense(x, 1000)\nlogits = dense(h, 10)\n"
      "train {\n loss = cross_entropy(logits, label)\n optimizer = adam()\n}\n");
  Result<MemoryEstimate> e = MemoryEstimate::of(m);
  ASSERT_TRUE(e.ok()) << e.error().message;
  // Parameters: 100*1000 + 1000 + 1000*10 + 10 floats; adam keeps two slots of each.
  const long double params = (100 * 1000 + 1000 + 1000 * 10 + 10) * 4.0L;
  EXPECT_GE(e->stateBytes(), 3 * params);
  EXPECT_LT(e->stateBytes(), 3 * params + 1024) << "each tensor counted once across the graphs";
  // The weights' gradients and the optimizer's temporaries do not depend on the batch and
  // make the peak at small batches; h, [batch, 1000], and its gradient grow with it.
  const long double a1 = e->activationBytes(1), a10k = e->activationBytes(10000);
  EXPECT_GE(a1, 100 * 1000 * 4);
  EXPECT_LT(a1, 100 * 1000 * 4 * 20);
  EXPECT_GE(a10k, 10000 * 4000.0L);
  EXPECT_LT(a10k, 10000 * 4000.0L * 20);
  EXPECT_LE(e->activationBytes(5), e->activationBytes(6));
  EXPECT_EQ(e->totalBytes(7), e->stateBytes() + e->activationBytes(7));
}

TEST(MemoryEstimate, PeakOfLiveValuesNotTheirSum) {
  // A chain of 100 relus: each value dies when the next is made, so the peak holds two
  // or three of them, not a hundred.
  std::ostringstream text;
  text << "model m\ninput x: f32[batch, 1000]\ny0 = relu(x)\n";
  for (int i = 1; i < 100; ++i) text << "y" << i << " = relu(y" << i - 1 << ")\n";
  text << "output out = y99\n";
  Model m = compile(text.str());
  Result<MemoryEstimate> e = MemoryEstimate::of(m);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->stateBytes(), 0);
  EXPECT_GE(e->activationBytes(1), 2 * 4000.0L);
  EXPECT_LE(e->activationBytes(1), 4 * 4000.0L);
}

TEST(MemoryEstimate, CheckGivesSizesInGibAndTheLimit) {
  Model big = compile("model m\ninput x: f32[batch, 65536]\nparam w: f32[65536, 65536] = zeros\noutput y = x @ w\n");
  Result<MemoryEstimate> e = MemoryEstimate::of(big);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(gibText(e->stateBytes()), "16.0 GiB");
  Result<void> refused = checkMemory(*e, 1, 8.0L * (1 << 30), "the test's limit", "raise it");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message.rfind("the model needs about 16.0 GiB of memory (parameters and state 16.0 GiB, "
                                          "intermediate values at batch 1 ", 0),
            0u)
      << refused.error().message;
  EXPECT_NE(refused.error().message.find("more than the limit of 8.0 GiB (the test's limit); raise it"),
            std::string::npos)
      << refused.error().message;
  EXPECT_TRUE(checkMemory(*e, 1, 32.0L * (1 << 30), "", "").ok());
}

TEST(MemoryEstimate, MachineMemoryIsKnown) { EXPECT_GT(machineMemoryBytes(), uint64_t(1) << 26); }

TEST(MemoryEstimate, GibText) {
  EXPECT_EQ(gibText(1024.0L * 1024 * 1024 * 3725.29), "3725.3 GiB");
  EXPECT_EQ(gibText(1024.0L * 1024), "0.000977 GiB");
  EXPECT_EQ(gibText(0), "0.0 GiB");
}

}  // namespace
}  // namespace nnc
