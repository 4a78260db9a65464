// The transformer example learns its generated task well above chance: which token follows
// the marker? (scripts/transformer_data.py writes the same task for the example itself.)
// Sequences of 12 steps, each a one-hot token of 0..5 and a one-hot position; exactly one
// step (never the last) holds the marker 0, and the label is the next token minus 1, so 5
// classes and chance 0.2. examples/tiny_transformer.nn is trained as written for a few epochs.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "RunNnc.h"
#include "SyntheticData.h"
#include "TestFiles.h"

namespace nnc::test {
namespace {

constexpr int64_t kMarkerSteps = 12, kMarkerTokens = 6;

void writeMarkerTask(const ScratchDir& dir, const std::string& prefix, int64_t samples, uint64_t seed) {
  SplitMix64 rng(seed);
  std::vector<float> seq;
  std::vector<int32_t> label;
  for (int64_t i = 0; i < samples; ++i) {
    std::vector<int32_t> tokens;
    for (int64_t t = 0; t < kMarkerSteps; ++t) tokens.push_back(1 + rng.below(kMarkerTokens - 1));
    const int32_t marker = rng.below(kMarkerSteps - 1);
    tokens[size_t(marker)] = 0;
    label.push_back(tokens[size_t(marker) + 1] - 1);
    for (int64_t t = 0; t < kMarkerSteps; ++t) {
      for (int64_t k = 0; k < kMarkerTokens; ++k) seq.push_back(tokens[size_t(t)] == k ? 1.0f : 0.0f);
      for (int64_t p = 0; p < kMarkerSteps; ++p) seq.push_back(p == t ? 1.0f : 0.0f);
    }
  }
  writeNpy(dir.file(prefix + "seq.npy"), {samples, kMarkerSteps, kMarkerTokens + kMarkerSteps}, seq);
  writeNpy(dir.file(prefix + "label.npy"), {samples}, label);
}

TEST(TinyTransformer, LearnsTheMarkerTaskWellAboveChance) {
  ScratchDir dir;
  writeMarkerTask(dir, "train_", 2000, 1);
  writeMarkerTask(dir, "test_", 500, 2);
  auto data = [&](const std::string& prefix) {
    return "npy:seq=" + dir.file(prefix + "seq.npy") + ",label=" + dir.file(prefix + "label.npy");
  };
  const std::string model = sourcePath("examples/tiny_transformer.nn");
  RunResult trained = runNnc({model, "train", "--data", data("train_"), "--epochs", "6", "--threads", "2", "--save",
                              dir.file("w.safetensors")});
  ASSERT_EQ(trained.status, 0) << trained.out << trained.err;
  RunResult eval = runNnc({model, "eval", "--weights", dir.file("w.safetensors"), "--data", data("test_"), "--json",
                           "--threads", "2"});
  ASSERT_EQ(eval.status, 0) << eval.err;
  const double accuracy = nlohmann::json::parse(eval.out).at("accuracy").get<double>();
  EXPECT_GE(accuracy, 0.8) << "held-out accuracy (chance is 0.2); training:\n" << trained.out;
}

}  // namespace
}  // namespace nnc::test
