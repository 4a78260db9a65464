// No lost data (issue 6): checkpoints are written atomically, a failed save or run leaves
// the previous checkpoint intact, a checkpoint is checked before use, an unwritable --save
// path fails before training, and Ctrl-C saves the last completed epoch.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>

#include "NncProcess.h"
#include "TinyProblem.h"
#include "runtime/checkpoint/Safetensors.h"

namespace nnc::hostile {
namespace {


// Files in `dir` other than the ones named: a failed save must leave no temporary behind.
std::vector<std::string> strayFiles(const std::string& dir, const std::vector<std::string>& expected) {
  std::vector<std::string> stray;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (std::find(expected.begin(), expected.end(), name) == expected.end()) stray.push_back(name);
  }
  return stray;
}

const std::vector<std::string> kProblemFiles = {"tiny.nn", "x.npy", "label.npy"};

TEST(NoLostData, SaveWritesALoadableCheckpoint) {
  TinyProblem p;
  std::string ckpt = p.dir().file("w.safetensors");
  RunResult r = runNnc(p.trainArgs({"--save", ckpt}));
  ASSERT_EQ(r.status, 0) << r.err;
  auto c = ckpt::readSafetensors(ckpt);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->metadata.at("nnc.epochs"), "2");
  EXPECT_TRUE(c->tensors.count("h.weight"));
  RunResult e = runNnc(p.evalArgs(ckpt));
  EXPECT_EQ(e.status, 0) << e.err;
  std::vector<std::string> expected = kProblemFiles;
  expected.push_back("w.safetensors");
  EXPECT_EQ(strayFiles(p.dir().path(), expected), std::vector<std::string>{}) << "no temporary left behind";
}

// A full disk while writing the checkpoint (simulated with a file-size limit): the save fails
// with a message, the previous checkpoint is byte for byte what it was, no temporary is left.
TEST(NoLostData, FailedSaveKeepsThePreviousCheckpoint) {
  TinyProblem p(withHidden(2048));  // a checkpoint of about 100 KB
  std::string ckpt = p.dir().file("w.safetensors");
  ASSERT_EQ(runNnc(p.trainArgs({"--save", ckpt, "--epochs", "1"})).status, 0);
  const std::string before = readFile(ckpt);
  ASSERT_GT(before.size(), 65536u);

  RunResult r = runNnc(p.trainArgs({"--save", ckpt, "--epochs", "1", "--seed", "7"}), withFileSizeLimit(16384));
  EXPECT_EQ(r.status, 1) << r.out << r.err;
  EXPECT_TRUE(contains(r.err, "error")) << r.err;
  EXPECT_TRUE(contains(r.err, ckpt)) << "the message names the file: " << r.err;
  EXPECT_EQ(readFile(ckpt), before) << "the previous checkpoint is intact";
  std::vector<std::string> expected = kProblemFiles;
  expected.push_back("w.safetensors");
  EXPECT_EQ(strayFiles(p.dir().path(), expected), std::vector<std::string>{}) << "the temporary is removed";
}

// The issue: "a save under a plain file fails before training". With a million epochs to
// run, failing after training would mean never finishing; the output shows no epoch started.
TEST(NoLostData, UnwritableSavePathFailsBeforeTraining) {
  TinyProblem p;
  std::string plain = p.dir().write("plain.txt", "not a directory\n");
  for (const std::string& save : {plain + "/w.safetensors", p.dir().file("missing/w.safetensors"), p.dir().path()}) {
    RunResult r = runNnc(p.trainArgs({"--save", save, "--epochs", "1000000"}));
    EXPECT_EQ(r.status, 1) << save << "\n" << r.err;
    EXPECT_FALSE(contains(r.out, "Epoch")) << "failed before the first epoch: " << r.out;
    EXPECT_TRUE(contains(r.err, "nnc: error: ")) << r.err;
  }
}

// A diverging run stops with a message naming NaN or infinity, exit 1, and does not
// overwrite the checkpoint a previous run saved.
TEST(NoLostData, DivergingRunStopsAndKeepsTheCheckpoint) {
  TinyProblem p;
  std::string ckpt = p.dir().file("w.safetensors");
  ASSERT_EQ(runNnc(p.trainArgs({"--save", ckpt})).status, 0);
  const std::string before = readFile(ckpt);

  RunResult r = runNnc(p.trainArgs({"--save", ckpt, "--lr", "1e30", "--epochs", "50"}));
  EXPECT_EQ(r.status, 1) << r.out << r.err;
  EXPECT_TRUE(contains(r.err, "NaN") || contains(r.err, "infinite")) << r.err;
  EXPECT_TRUE(contains(r.err, "Nothing was saved")) << r.err;
  EXPECT_EQ(readFile(ckpt), before);
}

// Ctrl-C during training with --save: the weights of the last completed epoch are written,
// the run says so (on stderr, exit 1), and the checkpoint loads (its epoch count is the
// completed epochs). The signal comes once "Epoch 1/" is printed, that is once epoch 1 has
// completed (the non-interactive progress line is printed at an epoch's end).
TEST(NoLostData, InterruptSavesTheLastCompletedEpoch) {
  TinyProblem p;
  std::string ckpt = p.dir().file("w.safetensors");
  RunningNnc run(p.trainArgs({"--save", ckpt, "--epochs", "1000000"}));
  ASSERT_TRUE(run.waitForOutput("Epoch 1/")) << run.out() << run.err();
  run.sendSignal(SIGINT);
  int status = run.wait();
  EXPECT_EQ(status, 1) << run.out() << run.err();
  EXPECT_TRUE(contains(run.err(), "nnc: interrupted by SIGINT: saved the weights of the last completed epoch")) << run.err();
  EXPECT_TRUE(contains(run.err(), ckpt)) << run.err();
  auto c = ckpt::readSafetensors(ckpt);
  ASSERT_TRUE(c.ok()) << c.error().message;
  int64_t epochs = std::stoll(c->metadata.at("nnc.epochs"));
  EXPECT_GE(epochs, 1);
  const std::string count = std::to_string(epochs);
  EXPECT_TRUE(contains(run.err(), "(" + count + ", step ")) << "the message gives the epoch: " << run.err();
  EXPECT_EQ(runNnc(p.evalArgs(ckpt)).status, 0);
  // Resuming from it continues the epoch count, up to the total --epochs gives.
  RunResult resumed = runNnc(p.trainArgs({"--init", ckpt, "--epochs", std::to_string(epochs + 1)}));
  EXPECT_EQ(resumed.status, 0) << resumed.err;
  const std::string next = std::to_string(epochs + 1);
  EXPECT_TRUE(contains(resumed.out, "Epoch " + next + "/")) << resumed.out;
}

TEST(NoLostData, InterruptWithoutSaveSaysNothingWasSaved) {
  TinyProblem p;
  RunningNnc run(p.trainArgs({"--epochs", "1000000"}));
  ASSERT_TRUE(run.waitForOutput("Epoch 1/")) << run.err();
  run.sendSignal(SIGINT);
  EXPECT_EQ(run.wait(), 1);
  EXPECT_TRUE(contains(run.err(), "nothing saved (no --save)")) << run.err();
}

}  // namespace
}  // namespace nnc::hostile
