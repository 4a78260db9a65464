// Interrupts and checkpoints (issue 17, items 1 and 2, and the NaN message of item 3).
// SIGINT and SIGTERM are raised by nnc itself at an exact point (NNC_TEST_SIGNAL, see
// runtime/support/Interrupt.h), so nothing here depends on timing:
// - an interrupted `train` never replaces a checkpoint with older weights: with no completed
//   epoch it writes nothing and says so, and what it saves is the last completed epoch with
//   that epoch's metadata (bit for bit what a run of that many epochs saves);
// - early stopping's checkpoint says the epoch and step of the weights it kept;
// - every command, in every phase (loading, compiling, training, evaluating, writing), ends
//   with status 1 and a message on either signal, and leaves no temporary behind;
// - a NaN or infinite loss names the step and says whether the batch's inputs were finite.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "RunNnc.h"
#include "SyntheticData.h"
#include "TestFiles.h"

namespace nnc::test {
namespace {

// NNC_TEST_SIGNAL for the runs made while it lives (runNnc passes the environment on).
class TestSignal {
 public:
  explicit TestSignal(const std::string& spec) { ::setenv("NNC_TEST_SIGNAL", spec.c_str(), 1); }
  ~TestSignal() { ::unsetenv("NNC_TEST_SIGNAL"); }
};

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// 40 samples of 4 features and 2 classes; batch 8 gives exactly 5 steps per epoch.
constexpr int kStepsPerEpoch = 5;

class Problem {
 public:
  // `badValue`, when not 0, replaces feature 2 of sample kBadSample.
  explicit Problem(const std::string& trainExtra = "", float badValue = 0.0f) {
    SplitMix64 rng(7);
    std::vector<float> x;
    std::vector<int32_t> label;
    for (int i = 0; i < 40; ++i) {
      float f[4];
      for (float& v : f) v = float(rng.normal());
      x.insert(x.end(), f, f + 4);
      label.push_back(f[0] + f[1] > 0 ? 1 : 0);
    }
    if (badValue != 0.0f) x[size_t(kBadSample) * 4 + 2] = badValue;
    writeNpy(dir_.file("x.npy"), {40, 4}, x);
    writeNpy(dir_.file("label.npy"), {40}, label);
    model_ = dir_.write("m.nn",
                        "model m\n"
                        "input x: f32[batch, 4]\n"
                        "input label: i32[batch]\n"
                        "h = dense(x, 8, activation = relu)\n"
                        "logits = dense(h, 2)\n"
                        "output probs = softmax(logits)\n"
                        "train {\n"
                        "  loss = cross_entropy(logits, label)\n"
                        "  optimizer = adam(lr = 0.01)\n"
                        "  batch = 8\n"
                        "  seed = 3\n" +
                            trainExtra + "}\n");
  }
  static constexpr int kBadSample = 13;

  std::string file(const std::string& name) const { return dir_.file(name); }
  std::string data() const { return "npy:x=" + dir_.file("x.npy") + ",label=" + dir_.file("label.npy"); }
  // `nnc m.nn COMMAND --data DATA --backend interpreter --threads 1 EXTRA...`
  std::vector<std::string> args(const std::string& command, const std::vector<std::string>& extra,
                                const std::string& data = "") const {
    std::vector<std::string> a = {model_, command, "--data", data.empty() ? this->data() : data, "--backend",
                                  "interpreter", "--threads", "1"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
  // Files in the directory besides the problem's and `expected`: temporaries left behind.
  std::vector<std::string> strayFiles(const std::vector<std::string>& expected = {}) const {
    std::vector<std::string> stray;
    for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(file("m.nn")).parent_path())) {
      std::string name = e.path().filename().string();
      if (name != "m.nn" && name != "x.npy" && name != "label.npy" &&
          std::find(expected.begin(), expected.end(), name) == expected.end())
        stray.push_back(name);
    }
    return stray;
  }

 private:
  ScratchDir dir_;
  std::string model_;
};

// The issue's repro: a trained checkpoint, then a run of 20 epochs saving over it that is
// interrupted in its first epoch. Before the fix it wrote the initial weights with
// nnc.epochs=0 over the trained ones.
TEST(Interrupt, InterruptInTheFirstEpochKeepsTheCheckpoint) {
  Problem p;
  const std::string ckpt = p.file("w.safetensors");
  ASSERT_EQ(runNnc(p.args("train", {"--epochs", "2", "--save", ckpt})).status, 0);
  const std::string trained = readFileBytes(ckpt);
  for (const char* sig : {"INT", "TERM"}) {
    TestSignal raise(std::string(sig) + "@train-step:2");
    RunResult r = runNnc(p.args("train", {"--epochs", "20", "--save", ckpt}));
    EXPECT_EQ(r.status, 1) << sig << "\n" << r.out << r.err;
    EXPECT_TRUE(contains(r.err, std::string("interrupted by SIG") + sig)) << r.err;
    EXPECT_TRUE(contains(r.err, "before any epoch of this run completed: nothing saved")) << r.err;
    EXPECT_EQ(readFileBytes(ckpt), trained) << sig << ": the trained checkpoint is intact";
  }
  // Resuming from it and interrupted before an epoch completes: the same.
  TestSignal raise("INT@train-step:1");
  RunResult r = runNnc(p.args("train", {"--epochs", "20", "--init", ckpt, "--save", ckpt}));
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_TRUE(contains(r.err, "during epoch 3")) << r.err;
  EXPECT_EQ(readFileBytes(ckpt), trained);
  EXPECT_EQ(p.strayFiles({"w.safetensors"}), std::vector<std::string>{});
}

// SIGTERM in epoch 3 (step 13 of 5 per epoch): the checkpoint holds epoch 2 with epoch 2's
// step count, bit for bit what `--epochs 2` saves, and resuming from it goes on at epoch 3.
TEST(Interrupt, SavedCheckpointIsTheLastCompletedEpochWithItsMetadata) {
  Problem p;
  ASSERT_EQ(runNnc(p.args("train", {"--epochs", "2", "--save", p.file("two.safetensors")})).status, 0);
  {
    TestSignal raise("TERM@train-step:" + std::to_string(2 * kStepsPerEpoch + 3));
    RunResult r = runNnc(p.args("train", {"--epochs", "20", "--save", p.file("w.safetensors")}));
    EXPECT_EQ(r.status, 1) << r.out << r.err;
    EXPECT_TRUE(contains(r.err, "interrupted by SIGTERM: saved the weights of the last completed epoch (2, step 10)"))
        << r.err;
  }
  const SafetensorsFile saved = readSafetensorsFile(p.file("w.safetensors"));
  EXPECT_EQ(saved.metadata.at("nnc.epochs"), "2");
  EXPECT_EQ(saved.metadata.at("nnc.steps"), std::to_string(2 * kStepsPerEpoch));
  EXPECT_EQ(compareTensorsBitwise(readSafetensorsFile(p.file("two.safetensors")), saved), "");
  RunResult resumed = runNnc(p.args("train", {"--epochs", "3", "--init", p.file("w.safetensors")}));
  EXPECT_EQ(resumed.status, 0) << resumed.err;
  EXPECT_TRUE(contains(resumed.out, "Epoch 3/3")) << resumed.out;

  // Without --save: nothing saved, and it says which epoch was the last.
  TestSignal raise("INT@train-step:" + std::to_string(kStepsPerEpoch + 1));
  RunResult r = runNnc(p.args("train", {"--epochs", "20"}));
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(contains(r.err, "interrupted by SIGINT after epoch 1 (1 completed in this run): nothing saved (no --save)"))
      << r.err;
}

// A file holding more training than the interrupted run's last completed epoch is kept.
TEST(Interrupt, NeverReplacesAFileHoldingMoreTraining) {
  Problem p;
  const std::string ckpt = p.file("w.safetensors");
  ASSERT_EQ(runNnc(p.args("train", {"--epochs", "3", "--save", ckpt})).status, 0);
  const std::string trained = readFileBytes(ckpt);
  TestSignal raise("INT@train-step:" + std::to_string(kStepsPerEpoch + 2));  // a fresh run, in epoch 2
  RunResult r = runNnc(p.args("train", {"--epochs", "20", "--save", ckpt}));
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_TRUE(contains(r.err, "already holds 3 epochs (15 steps)")) << r.err;
  EXPECT_TRUE(contains(r.err, "left it unchanged, nothing saved")) << r.err;
  EXPECT_EQ(readFileBytes(ckpt), trained);
}

// Early stopping keeps the best epoch: the checkpoint says that epoch and its step count, so
// resuming goes on after it. cosine(epochs = 2) gives epoch 3 a rate of 0: its weights, and
// so its val_loss, equal epoch 2's, which is no improvement, so patience 1 stops after epoch 3
// and keeps epoch 2 (before the fix the metadata said 3 epochs and 15 steps).
TEST(Interrupt, EarlyStoppingCheckpointDescribesTheKeptEpoch) {
  Problem p("  validation = 0.2\n  early_stop = 1\n  schedule = cosine(epochs = 2)\n");
  const int steps = 4;  // 32 training samples in batches of 8
  ASSERT_EQ(runNnc(p.args("train", {"--epochs", "2", "--save", p.file("two.safetensors")})).status, 0);
  RunResult r = runNnc(p.args("train", {"--epochs", "10", "--save", p.file("w.safetensors")}));
  ASSERT_EQ(r.status, 0) << r.err;
  ASSERT_TRUE(contains(r.out, "keeping the weights of epoch 2")) << r.out;
  const SafetensorsFile saved = readSafetensorsFile(p.file("w.safetensors"));
  EXPECT_EQ(saved.metadata.at("nnc.epochs"), "2");
  EXPECT_EQ(saved.metadata.at("nnc.steps"), std::to_string(2 * steps));
  EXPECT_EQ(compareTensorsBitwise(readSafetensorsFile(p.file("two.safetensors")), saved), "");
  RunResult resumed = runNnc(p.args("train", {"--epochs", "3", "--init", p.file("w.safetensors")}));
  EXPECT_EQ(resumed.status, 0) << resumed.err;
  EXPECT_TRUE(contains(resumed.out, "Epoch 3/3")) << resumed.out;
}

// Both signals, in every command and phase that has a test point: exit 1 with a message, no
// output file, no temporary (predict used to leave `.p.npy.tmp-...` behind, SIGTERM exited
// 143, and SIGINT while loading or compiling exited 130 with no message).
TEST(Interrupt, EveryCommandAndPhaseEndsWithAMessageAndNoTemporary) {
  Problem p;
  const std::string ckpt = p.file("w.safetensors");
  ASSERT_EQ(runNnc(p.args("train", {"--save", ckpt})).status, 0);
  struct Case {
    std::string point;
    std::vector<std::string> args;
    std::vector<const char*> signals = {"INT", "TERM"};
  };
  const std::string out = p.file("p.npy"), aot = p.file("aot");
  std::filesystem::create_directory(aot);
  const std::vector<Case> cases = {
      {"load", p.args("train", {"--save", p.file("new.safetensors")})},
      {"compile", p.args("train", {"--save", p.file("new.safetensors")})},
      {"load", p.args("eval", {"--weights", ckpt})},
      {"eval-batch", p.args("eval", {"--weights", ckpt, "--batch", "8"})},
      {"compile", p.args("predict", {"--weights", ckpt, "--out", out})},
      {"predict-batch", p.args("predict", {"--weights", ckpt, "--out", out, "--batch", "8"})},
      {"file-write", p.args("predict", {"--weights", ckpt, "--out", out})},
      // These two compile with LLVM: one signal each keeps the test short.
      {"compile", {p.file("m.nn"), "bench", "--batch", "8"}, {"INT"}},
      {"file-write", {p.file("m.nn"), "compile", "-o", aot}, {"TERM"}},
  };
  for (const Case& c : cases) {
    for (const char* sig : c.signals) {
      TestSignal raise(std::string(sig) + "@" + c.point);
      RunResult r = runNnc(c.args);
      const std::string what = c.args[1] + " at " + c.point + " with SIG" + sig;
      EXPECT_EQ(r.status, 1) << what << "\n" << r.out << r.err;
      EXPECT_TRUE(contains(r.err, std::string("nnc: error: interrupted by SIG") + sig)) << what << "\n" << r.err;
      EXPECT_EQ(p.strayFiles({"w.safetensors", "aot"}), std::vector<std::string>{}) << what;
      EXPECT_TRUE(std::filesystem::is_empty(aot)) << what;
    }
  }
}

// A signal while the checkpoint is being written (after the last epoch) does not cut the
// write short: the file is complete and loads.
TEST(Interrupt, SignalDuringTheFinalSaveCompletesIt) {
  Problem p;
  TestSignal raise("TERM@file-write");
  RunResult r = runNnc(p.args("train", {"--epochs", "2", "--save", p.file("w.safetensors")}));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(readSafetensorsFile(p.file("w.safetensors")).metadata.at("nnc.epochs"), "2");
  EXPECT_EQ(p.strayFiles({"w.safetensors"}), std::vector<std::string>{});
}

// Item 3: a NaN or infinite loss names the step and says whether the batch's inputs were
// finite. Sample 13 holds 3e38, finite in the file, which scale(2) makes +inf; without
// shuffling it is in batch 2 (samples 8-15). With finite inputs, the learning rate is blamed.
TEST(Interrupt, NonFiniteLossSaysWhetherTheInputsWereFinite) {
  Problem bad("  normalize = scale(2)\n  shuffle = false\n", 3e38f);
  RunResult r = runNnc(bad.args("train", {"--save", bad.file("w.safetensors")}));
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_TRUE(contains(r.err, "at epoch 1, step 2 (optimizer step 2")) << r.err;
  EXPECT_TRUE(contains(r.err, "the batch's inputs were not all finite: input 'x' of sample 13 (counted from 0) is "
                              "+inf at element 2 of 4"))
      << r.err;
  EXPECT_FALSE(contains(r.err, "smaller learning rate")) << r.err;
  EXPECT_TRUE(contains(r.err, "Nothing was saved.")) << r.err;

  Problem good;
  RunResult d = runNnc(good.args("train", {"--lr", "1e30", "--epochs", "5"}));
  EXPECT_EQ(d.status, 1) << d.err;
  EXPECT_TRUE(contains(d.err, "the batch's inputs were all finite")) << d.err;
  EXPECT_TRUE(contains(d.err, "try a smaller learning rate")) << d.err;
}

}  // namespace
}  // namespace nnc::test
