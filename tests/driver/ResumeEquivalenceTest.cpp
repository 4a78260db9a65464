// Resume equivalence (issue 5): training 2 epochs straight gives bit-identical weights and
// optimizer state to training 1 epoch, `--save`, then on from the checkpoint with `--init`
// up to the total of 2 epochs (`--epochs` is the total, as Keras' `initial_epoch`), at a fixed
// thread count and seed. The models use everything that must carry over
// between runs: per-epoch shuffling and oversampling (keyed by the epoch), dropout (keyed by
// the optimizer step), Adam/momentum slots and step counts (bias correction), and learning-
// rate schedules per epoch and per step; a partial last batch and a validation split too.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>

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
  RunResult resumed = train({"--epochs", "2", "--init", dir.file("first.safetensors"), "--save", dir.file("resumed.safetensors")});
  EXPECT_NE(resumed.out.find("Epoch 2/2"), std::string::npos) << "the epoch count continues: " << resumed.out;
  EXPECT_EQ(resumed.out.find("Epoch 1/"), std::string::npos) << "only the remaining epoch runs: " << resumed.out;
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

// Issue 5: `train --init CKPT` without `--epochs` trains the rest of the train block's
// epochs, not all of them again. 1 epoch, then the remaining 2, gives the bits of 3 straight;
// the numbering goes on from 2 to 3 and stops there, and the cosine schedule over 3 epochs
// never reaches its rate of 0 (the old rule ran "Epoch 4/4" at learning rate 0).
TEST(ResumeEquivalence, InitWithoutEpochsTrainsTheRemainderOfTheTotal) {
  ScratchDir dir;
  writeClassificationData(dir, 60);
  const std::string model =
      dir.write("resume.nn", modelText("adam(lr = 0.01)", "cosine(epochs = 3)", "  epochs = 3\n"));
  const std::string data = "npy:x=" + dir.file("x.npy") + ",label=" + dir.file("label.npy");
  auto train = [&](const std::vector<std::string>& extra) {
    std::vector<std::string> args = {model, "train", "--data", data, "--backend", "interpreter", "--threads", "1"};
    args.insert(args.end(), extra.begin(), extra.end());
    RunResult r = runNnc(args);
    EXPECT_EQ(r.status, 0) << r.out << r.err;
    return r;
  };
  train({"--save", dir.file("straight.safetensors")});
  train({"--epochs", "1", "--save", dir.file("first.safetensors")});
  RunResult resumed =
      train({"--init", dir.file("first.safetensors"), "--save", dir.file("resumed.safetensors"), "--log", dir.file("log.jsonl")});
  EXPECT_NE(resumed.out.find("Epoch 2/3"), std::string::npos) << resumed.out;
  EXPECT_NE(resumed.out.find("Epoch 3/3"), std::string::npos) << resumed.out;
  EXPECT_EQ(resumed.out.find("Epoch 1/"), std::string::npos) << resumed.out;
  EXPECT_EQ(resumed.out.find("Epoch 4/"), std::string::npos) << resumed.out;
  if (::testing::Test::HasFailure()) return;

  const SafetensorsFile straight = readSafetensorsFile(dir.file("straight.safetensors"));
  const SafetensorsFile again = readSafetensorsFile(dir.file("resumed.safetensors"));
  EXPECT_EQ(compareTensorsBitwise(straight, again), "");
  EXPECT_EQ(again.metadata.at("nnc.epochs"), "3");
  EXPECT_EQ(again.metadata.at("nnc.steps"), straight.metadata.at("nnc.steps"));
  EXPECT_EQ(straight.metadata.at("nnc.steps"), "21");  // 48 training samples in batches of 7, 3 times

  // The log numbers the epochs of the whole run, with the schedule's rates for them.
  std::ifstream log(dir.file("log.jsonl"));
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(log, line);) lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["epoch"], 2);
  EXPECT_EQ(lines[1]["epoch"], 3);
  EXPECT_NEAR(lines[0]["lr"].get<double>(), 0.01 * 0.75, 1e-12);  // (1 + cos(pi/3)) / 2
  EXPECT_NEAR(lines[1]["lr"].get<double>(), 0.01 * 0.25, 1e-12);  // (1 + cos(2pi/3)) / 2
}

// A checkpoint already at (or past) the total: it says so, trains nothing, exits 0, and does
// not rewrite the file it would save over (same inode, same bytes); another --save path gets
// the checkpoint's weights.
TEST(ResumeEquivalence, CheckpointAtTheTotalTrainsNothing) {
  ScratchDir dir;
  writeClassificationData(dir, 60);
  const std::string model = dir.write("resume.nn", modelText("adam(lr = 0.01)", "constant", "  epochs = 2\n"));
  const std::string data = "npy:x=" + dir.file("x.npy") + ",label=" + dir.file("label.npy");
  const std::vector<std::string> base = {model, "train", "--data", data, "--backend", "interpreter", "--threads", "1"};
  auto train = [&](const std::vector<std::string>& extra) {
    std::vector<std::string> args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return runNnc(args);
  };
  const std::string ckpt = dir.file("w.safetensors");
  ASSERT_EQ(train({"--epochs", "3", "--save", ckpt}).status, 0);
  struct stat before{};
  ASSERT_EQ(::stat(ckpt.c_str(), &before), 0);
  const SafetensorsFile original = readSafetensorsFile(ckpt);

  for (const std::vector<std::string>& extra :
       {std::vector<std::string>{"--init", ckpt, "--save", ckpt}, {"--init", ckpt, "--save", ckpt, "--epochs", "3"}}) {
    RunResult r = train(extra);
    EXPECT_EQ(r.status, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("already holds 3 epochs"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("nothing to train"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("Epoch "), std::string::npos) << "no epoch runs: " << r.out;
  }
  struct stat after{};
  ASSERT_EQ(::stat(ckpt.c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino) << "the checkpoint was not rewritten";
  EXPECT_EQ(compareTensorsBitwise(original, readSafetensorsFile(ckpt)), "");

  RunResult copied = train({"--init", ckpt, "--save", dir.file("copy.safetensors")});
  EXPECT_EQ(copied.status, 0) << copied.err;
  const SafetensorsFile copy = readSafetensorsFile(dir.file("copy.safetensors"));
  EXPECT_EQ(compareTensorsBitwise(original, copy), "");
  EXPECT_EQ(copy.metadata.at("nnc.epochs"), "3");

  // A larger total goes on from the checkpoint.
  RunResult more = train({"--init", ckpt, "--epochs", "4"});
  EXPECT_EQ(more.status, 0) << more.err;
  EXPECT_NE(more.out.find("Epoch 4/4"), std::string::npos) << more.out;
  EXPECT_EQ(more.out.find("Epoch 3/"), std::string::npos) << more.out;
}

}  // namespace
}  // namespace nnc::test
