// The LSTM example learns a generated sequence task to high accuracy (issue 5). The task:
// 5 classes; a sequence of class c has a constant drift added to feature c at every step, on
// top of unit Gaussian noise in all 8 features, so the class shows only in what the LSTM
// accumulates over time. examples/sequence_lstm.nn is trained as written except for a
// shorter sequence (8 steps instead of 20) to keep the test fast; scripts/sequence_data.py
// writes the same task at full length for the example itself.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "RunNnc.h"
#include "SyntheticData.h"
#include "TestFiles.h"

namespace nnc::test {
namespace {

constexpr int64_t kSteps = 8, kFeatures = 8, kClasses = 5;

void writeDriftTask(const ScratchDir& dir, const std::string& prefix, int64_t samples, uint64_t seed) {
  SplitMix64 rng(seed);
  std::vector<float> seq;
  std::vector<int32_t> label;
  for (int64_t i = 0; i < samples; ++i) {
    const int32_t c = rng.below(kClasses);
    label.push_back(c);
    for (int64_t t = 0; t < kSteps; ++t)
      for (int64_t f = 0; f < kFeatures; ++f) seq.push_back(float(rng.normal() + (f == c ? 1.5 : 0.0)));
  }
  writeNpy(dir.file(prefix + "seq.npy"), {samples, kSteps, kFeatures}, seq);
  writeNpy(dir.file(prefix + "label.npy"), {samples}, label);
}

TEST(SequenceLstm, LearnsTheDriftTaskToHighAccuracy) {
  std::string model = readFileBytes(sourcePath("examples/sequence_lstm.nn"));
  const std::string fullLength = "f32[batch, 20, 8]";
  const size_t at = model.find(fullLength);
  ASSERT_NE(at, std::string::npos) << "the example's input changed; update this test";
  model.replace(at, fullLength.size(), "f32[batch, " + std::to_string(kSteps) + ", 8]");

  ScratchDir dir;
  const std::string path = dir.write("sequence_lstm.nn", model);
  writeDriftTask(dir, "train_", 400, 1);
  writeDriftTask(dir, "test_", 300, 2);
  auto data = [&](const std::string& prefix) {
    return "npy:seq=" + dir.file(prefix + "seq.npy") + ",label=" + dir.file(prefix + "label.npy");
  };
  // The interpreter: on this small problem it is faster than compiling the LSTM.
  RunResult trained = runNnc({path, "train", "--data", data("train_"), "--epochs", "5", "--backend", "interpreter",
                              "--threads", "2", "--save", dir.file("w.safetensors")});
  ASSERT_EQ(trained.status, 0) << trained.out << trained.err;
  RunResult eval = runNnc({path, "eval", "--weights", dir.file("w.safetensors"), "--data", data("test_"), "--json",
                           "--backend", "interpreter", "--threads", "2"});
  ASSERT_EQ(eval.status, 0) << eval.err;
  const double accuracy = nlohmann::json::parse(eval.out).at("accuracy").get<double>();
  EXPECT_GE(accuracy, 0.9) << "held-out accuracy (chance is 0.2); training:\n" << trained.out;
}

}  // namespace
}  // namespace nnc::test
