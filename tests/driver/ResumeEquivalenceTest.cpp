// Resume equivalence (issue 5): training 2 epochs straight gives bit-identical weights and
// optimizer state to training 1 epoch, `--save`, then 1 more epoch from the checkpoint with
// `--init`, at a fixed thread count and seed. The models use everything that must carry over
// between runs: per-epoch shuffling and oversampling (keyed by the epoch), dropout (keyed by
// the optimizer step), Adam/momentum slots and step counts (bias correction), and learning-
// rate schedules per epoch and per step; a partial last batch and a validation split too.
#include <gtest/gtest.h>

#include "RunNnc.h"
#include "SyntheticData.h"
#include "TestFiles.h"

namespace nnc::test {
namespace {

// 3 classes from 6 features, with the classes unequal in size so sampling has work to do.
void writeClassificationData(const ScratchDir& dir, int64_t samples) {
  SplitMix64 rng(42);
  std::vector<float> x;
  std::vector<int32_t> label;
  for (int64_t i = 0; i < samples; ++i) {
    float f[6];
    for (float& v : f) v = float(2.0 * rng.normal() + 0.5);
    x.insert(x.end(), f, f + 6);
    label.push_back(f[0] + f[1] > 2.0f ? 2 : (f[2] > 1.5f ? 1 : 0));
  }
  writeNpy(dir.file("x.npy"), {samples, 6}, x);
  writeNpy(dir.file("label.npy"), {samples}, label);
}

std::string modelText(const std::string& optimizer, const std::string& schedule, const std::string& extra) {
  return "model resume\n"
         "input x: f32[batch, 6]\n"
         "input label: i32[batch]\n"
         "h = dense(x, 16, activation = relu)\n"
         "d = dropout(h, 0.3)\n"
         "logits = dense(d, 3)\n"
         "output probs = softmax(logits)\n"
         "train {\n"
         "  loss       = cross_entropy(logits, label)\n"
         "  optimizer  = " + optimizer + "\n"
         "  batch      = 7\n"           // 48 training samples: 7 batches, the last one partial
         "  seed       = 5\n"
         "  validation = 0.2\n"
         "  normalize  = standardize\n"
         "  schedule   = " + schedule + "\n" + extra +
         "}\n";
}

struct ResumeCase {
  std::string name, backend, threads, optimizer, schedule, extra;
  int64_t stepsPerEpoch = 0;  // 0: not fixed (oversampling makes the epoch longer)
};

void checkResumeEquivalence(const ResumeCase& c) {
  ScratchDir dir;
  writeClassificationData(dir, 60);
  const std::string model = dir.write("resume.nn", modelText(c.optimizer, c.schedule, c.extra));
  const std::string data = "npy:x=" + dir.file("x.npy") + ",label=" + dir.file("label.npy");
  auto train = [&](const std::vector<std::string>& extra) {
    std::vector<std::string> args = {model, "train", "--data", data, "--backend", c.backend, "--threads", c.threads};
    args.insert(args.end(), extra.begin(), extra.end());
    RunResult r = runNnc(args);
    EXPECT_EQ(r.status, 0) << c.name << "\n" << r.out << r.err;
    return r;
  };
  train({"--epochs", "2", "--save", dir.file("straight.safetensors")});
  train({"--epochs", "1", "--save", dir.file("first.safetensors")});
  RunResult resumed = train({"--epochs", "1", "--init", dir.file("first.safetensors"), "--save", dir.file("resumed.safetensors")});
  EXPECT_NE(resumed.out.find("Epoch 2/2"), std::string::npos) << "the epoch count continues: " << resumed.out;
  if (::testing::Test::HasFailure()) return;

  const SafetensorsFile straight = readSafetensorsFile(dir.file("straight.safetensors"));
  const SafetensorsFile first = readSafetensorsFile(dir.file("first.safetensors"));
  const SafetensorsFile again = readSafetensorsFile(dir.file("resumed.safetensors"));
  EXPECT_EQ(compareTensorsBitwise(straight, again), "") << c.name;
  // Not vacuous: the second epoch changed the weights, and the optimizer has slots to resume.
  EXPECT_NE(compareTensorsBitwise(straight, first), "") << c.name;
  EXPECT_GT(straight.tensors.size(), 4u) << "parameters and optimizer slots";
  for (const char* key : {"nnc.epochs", "nnc.steps", "nnc.normalize"})
    EXPECT_EQ(again.metadata.at(key), straight.metadata.at(key)) << c.name << " " << key;
  EXPECT_EQ(straight.metadata.at("nnc.epochs"), "2");
  if (c.stepsPerEpoch) {
    EXPECT_EQ(straight.metadata.at("nnc.steps"), std::to_string(2 * c.stepsPerEpoch));
  }
}

TEST(ResumeEquivalence, JitAdamStepScheduleTwoThreads) {
  checkResumeEquivalence({"jit/adam/step", "jit", "2", "adam(lr = 0.01)", "step(every = 1, factor = 0.5)", "", 7});
}

// The per-step schedule needs the step count; oversampling draws each epoch from its number.
TEST(ResumeEquivalence, InterpreterMomentumExponentialScheduleOversampling) {
  checkResumeEquivalence({"interpreter/sgd/exponential", "interpreter", "1", "sgd(lr = 0.05, momentum = 0.9)",
                          "exponential(rate = 0.5, every = 4)", "  sampling = oversample\n  class_weights = balanced\n", 0});
}

}  // namespace
}  // namespace nnc::test
