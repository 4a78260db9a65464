// Augmentation end to end: `predict` and `eval` of a model with random_flip and
// random_translation give exactly, bit for bit, what the same model without them gives from
// the same weights; training with augmentation is reproducible for a seed and changes with
// it; and the augmented Fashion-MNIST example checks and runs a few steps.
#include <gtest/gtest.h>

#include <filesystem>

#include "RunNnc.h"
#include "SyntheticData.h"
#include "TestFiles.h"

namespace nnc::test {
namespace {

std::string smallModel(bool augment, int seed) {
  std::string m =
      "model aug\n"
      "input x: f32[batch, 6, 6, 2]\n"
      "input label: i32[batch]\n";
  m += augment ? "f = random_flip(x, mode = both)\nt = random_translation(f, height = 0.34, width = 0.34)\n"
                 "c = conv2d(t, 4, kernel = 3, activation = relu)\n"
               : "c = conv2d(x, 4, kernel = 3, activation = relu)\n";
  m += "logits = dense(flatten(c), 3, name = \"fc\")\n"
       "output probs = softmax(logits)\n"
       "train {\n  loss = cross_entropy(logits, label)\n  optimizer = adam(lr = 1e-2)\n  batch = 16\n  epochs = 2\n"
       "  seed = " + std::to_string(seed) + "\n}\n";
  return m;
}

struct AugmentData {
  std::string train, features;
};

AugmentData writeData(const ScratchDir& dir) {
  SplitMix64 rng(5);
  std::vector<float> x;
  std::vector<int32_t> y;
  for (int i = 0; i < 64; ++i) {
    int32_t label = rng.below(3);
    y.push_back(label);
    for (int k = 0; k < 72; ++k) x.push_back(float(rng.uniform() + (k % 3 == label ? 0.5 : 0.0)));
  }
  writeNpy(dir.file("x.npy"), {64, 6, 6, 2}, x);
  writeNpy(dir.file("label.npy"), {64}, y);
  return {"npy:x=" + dir.file("x.npy") + ",label=" + dir.file("label.npy"), "npy:x=" + dir.file("x.npy")};
}

TEST(AugmentDriver, PredictAndEvalEqualTheModelWithoutAugmentation) {
  ScratchDir dir;
  const AugmentData data = writeData(dir);
  const std::string with = dir.write("with.nn", smallModel(true, 3)), without = dir.write("without.nn", smallModel(false, 3));
  const std::string weights = dir.file("w.safetensors");
  RunResult train = runNnc({with, "train", "--data", data.train, "--save", weights, "--threads", "2"});
  ASSERT_EQ(train.status, 0) << train.out << train.err;
  for (const char* backend : {"jit", "interpreter"}) {
    SCOPED_TRACE(backend);
    std::vector<std::string> outs;
    for (const std::string& model : {with, without}) {
      const std::string out = dir.file(std::string(backend) + std::to_string(outs.size()) + ".npy");
      RunResult predict = runNnc({model, "predict", "--weights", weights, "--data", data.features, "--out", out,
                                  "--backend", backend});
      ASSERT_EQ(predict.status, 0) << predict.err;
      outs.push_back(readFileBytes(out));
      RunResult eval = runNnc({model, "eval", "--weights", weights, "--data", data.train, "--json", "--backend", backend});
      ASSERT_EQ(eval.status, 0) << eval.err;
      outs.push_back(eval.out);
    }
    EXPECT_EQ(outs[0], outs[2]) << "predict differs";
    EXPECT_EQ(outs[1], outs[3]) << "eval differs";
  }
}

TEST(AugmentDriver, TrainingIsReproducibleForASeedAndDependsOnIt) {
  ScratchDir dir;
  const AugmentData data = writeData(dir);
  auto trained = [&](int seed, const std::string& name) {
    const std::string model = dir.write(name + ".nn", smallModel(true, seed));
    RunResult r = runNnc({model, "train", "--data", data.train, "--save", dir.file(name), "--threads", "2"});
    EXPECT_EQ(r.status, 0) << r.out << r.err;
    return readSafetensorsFile(dir.file(name));
  };
  SafetensorsFile a = trained(3, "a"), b = trained(3, "b"), c = trained(4, "c");
  EXPECT_EQ(compareTensorsBitwise(a, b), "");
  EXPECT_NE(compareTensorsBitwise(a, c), "");
  // The seed changes the initialisation too; the draws alone: the same model without
  // augmentation from the same seed trains to other weights.
  const std::string plain = dir.write("plain.nn", smallModel(false, 3));
  RunResult r = runNnc({plain, "train", "--data", data.train, "--save", dir.file("plain"), "--threads", "2"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(compareTensorsBitwise(a, readSafetensorsFile(dir.file("plain"))), "");
}

TEST(AugmentDriver, ExampleChecksAndSummarises) {
  const std::string example = sourcePath("examples/fashion_cnn_augmented.nn");
  RunResult check = runNnc({example, "check"});
  EXPECT_EQ(check.status, 0) << check.err;
  RunResult summary = runNnc({example, "summary"});
  ASSERT_EQ(summary.status, 0) << summary.err;
  EXPECT_NE(summary.out.find("RandomFlip"), std::string::npos) << summary.out;
  EXPECT_NE(summary.out.find("RandomTranslation"), std::string::npos) << summary.out;
}

}  // namespace
}  // namespace nnc::test
