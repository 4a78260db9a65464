// The bidirectional GRU example learns the generated pattern task (scripts/text_data.py):
// does a token sequence contain 3, 1, 4? examples/text_gru.nn is trained as written except
// for shorter sequences (12 tokens instead of 24) and fewer samples, to keep the test short;
// held-out accuracy must rise well above chance.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "RunNnc.h"
#include "SyntheticData.h"
#include "TestFiles.h"

namespace nnc::test {
namespace {

constexpr int64_t kTextSteps = 12, kTextVocab = 12;
constexpr int32_t kTextPattern[3] = {3, 1, 4};

bool hasTextPattern(const std::vector<int32_t>& seq) {
  for (size_t i = 0; i + 3 <= seq.size(); ++i)
    if (seq[i] == kTextPattern[0] && seq[i + 1] == kTextPattern[1] && seq[i + 2] == kTextPattern[2]) return true;
  return false;
}

// Half the sequences with the pattern planted, half drawn until they lack it; token ids.
void writeTextTask(const ScratchDir& dir, const std::string& prefix, int64_t samples, uint64_t seed) {
  SplitMix64 rng(seed);
  std::vector<int32_t> ids;
  std::vector<int32_t> labels;
  for (int64_t i = 0; i < samples; ++i) {
    const bool positive = i % 2 == 1;
    std::vector<int32_t> seq(kTextSteps);
    do {
      for (int32_t& t : seq) t = static_cast<int32_t>(rng.next() % kTextVocab);
      if (positive) {
        size_t at = static_cast<size_t>(rng.next() % (kTextSteps - 2));
        for (size_t k = 0; k < 3; ++k) seq[at + k] = kTextPattern[k];
      }
    } while (hasTextPattern(seq) != positive);
    labels.push_back(positive ? 1 : 0);
    ids.insert(ids.end(), seq.begin(), seq.end());
  }
  writeNpy(dir.file(prefix + "ids.npy"), {samples, kTextSteps}, ids);
  writeNpy(dir.file(prefix + "label.npy"), {samples}, labels);
}

TEST(TextGru, BidirectionalGruLearnsThePatternTask) {
  std::string model = readFileBytes(sourcePath("examples/text_gru.nn"));
  const std::string fullLength = "i32[batch, 24]";
  const size_t at = model.find(fullLength);
  ASSERT_NE(at, std::string::npos) << "the example's input changed; update this test";
  model.replace(at, fullLength.size(), "i32[batch, " + std::to_string(kTextSteps) + "]");

  ScratchDir dir;
  const std::string path = dir.write("text_gru.nn", model);
  writeTextTask(dir, "train_", 1200, 1);
  writeTextTask(dir, "test_", 400, 2);
  auto data = [&](const std::string& prefix) {
    return "npy:ids=" + dir.file(prefix + "ids.npy") + ",label=" + dir.file(prefix + "label.npy");
  };
  RunResult trained = runNnc({path, "train", "--data", data("train_"), "--epochs", "8", "--threads", "2", "--save",
                              dir.file("w.safetensors")});
  ASSERT_EQ(trained.status, 0) << trained.out << trained.err;
  RunResult eval = runNnc({path, "eval", "--weights", dir.file("w.safetensors"), "--data", data("test_"), "--json",
                           "--threads", "2"});
  ASSERT_EQ(eval.status, 0) << eval.err;
  const double accuracy = nlohmann::json::parse(eval.out).at("accuracy").get<double>();
  EXPECT_GE(accuracy, 0.85) << "held-out accuracy (chance is 0.5); training:\n" << trained.out;
}

}  // namespace
}  // namespace nnc::test
