// A checkpoint is checked (header, sizes, names, shapes, dtypes) before any of it is used:
// every corrupt or mismatched file given to `train --init` or `eval --weights` is refused
// with exit 1 and a message naming the file, never a crash, and training does not start.
#include <gtest/gtest.h>

#include <functional>

#include "NncProcess.h"
#include "TinyProblem.h"
#include "runtime/checkpoint/Safetensors.h"

namespace nnc::hostile {
namespace {


std::string le64(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[size_t(i)] = char((v >> (8 * i)) & 0xff);
  return s;
}

struct Corruption {
  std::string name;
  std::string expected;  // part of the message
  // Makes the corrupt file at `path` from the valid checkpoint `good` (its bytes and content).
  std::function<void(const std::string& path, const std::string& good, ckpt::Checkpoint c)> make;
};

std::vector<Corruption> corruptions() {
  auto rewrite = [](std::function<void(ckpt::Checkpoint&)> change) {
    return [change](const std::string& path, const std::string&, ckpt::Checkpoint c) {
      change(c);
      ASSERT_TRUE(ckpt::writeSafetensors(path, c).ok());
    };
  };
  auto bytes = [](std::function<std::string(const std::string&)> change) {
    return [change](const std::string& path, const std::string& good, ckpt::Checkpoint) {
      TempDir::writeTo(path, change(good));
    };
  };
  return {
      {"empty file", "truncated", bytes([](const std::string&) { return std::string(); })},
      {"cut in half", "truncated", bytes([](const std::string& g) { return g.substr(0, g.size() / 2); })},
      {"cut in the data", "", bytes([](const std::string& g) { return g.substr(0, g.size() - 3); })},
      {"garbage", "", bytes([](const std::string&) { return std::string(4096, '\x5a'); })},
      {"header length 2^62", "header length", bytes([](const std::string& g) { return le64(uint64_t(1) << 62) + g.substr(8); })},
      {"header not JSON", "not valid JSON",
       bytes([](const std::string&) { std::string h = "{\"a\": [1, 2"; return le64(h.size()) + h; })},
      {"offsets past the end", "past the end",
       bytes([](const std::string&) {
         std::string h = R"({"h.weight":{"dtype":"F32","shape":[4,8],"data_offsets":[0,128]}})";
         return le64(h.size()) + h + std::string(16, '\0');
       })},
      {"shape claims 2^60 elements", "",
       bytes([](const std::string&) {
         std::string h = R"({"h.weight":{"dtype":"F32","shape":[1073741824,1073741824],"data_offsets":[0,16]}})";
         return le64(h.size()) + h + std::string(16, '\0');
       })},
      {"wrong shape", "shape", rewrite([](ckpt::Checkpoint& c) {
         c.tensors["h.weight"] = data::Array::fromF32({8, 4}, std::vector<float>(32, 0.5f));
       })},
      {"wrong dtype", "i32", rewrite([](ckpt::Checkpoint& c) {
         c.tensors["h.weight"] = data::Array::fromI32({4, 8}, std::vector<int32_t>(32, 1));
       })},
      {"missing parameter", "logits.bias", rewrite([](ckpt::Checkpoint& c) { c.tensors.erase("logits.bias"); })},
      {"unknown tensor", "not_in_the_model", rewrite([](ckpt::Checkpoint& c) {
         c.tensors["not_in_the_model"] = data::Array::fromF32({1}, {1.0f});
       })},
      {"bad epoch count", "nnc.epochs", rewrite([](ckpt::Checkpoint& c) { c.metadata["nnc.epochs"] = "-3"; })},
      {"bad normalisation", "nnc.normalize", rewrite([](ckpt::Checkpoint& c) { c.metadata["nnc.normalize"] = "{oops"; })},
  };
}

class CorruptCheckpoint : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    problem_ = new TinyProblem();
    good_ = problem_->dir().file("good.safetensors");
    RunResult r = runNnc(problem_->trainArgs({"--save", good_, "--epochs", "1"}));
    ASSERT_EQ(r.status, 0) << r.err;
  }
  static void TearDownTestSuite() {
    delete problem_;
    problem_ = nullptr;
  }
  static TinyProblem* problem_;
  static std::string good_;
};
TinyProblem* CorruptCheckpoint::problem_ = nullptr;
std::string CorruptCheckpoint::good_;

TEST_F(CorruptCheckpoint, IsRefusedByTrainInitAndEvalWeights) {
  const std::string goodBytes = readFile(good_);
  auto content = ckpt::readSafetensors(good_);
  ASSERT_TRUE(content.ok());
  int n = 0;
  for (const Corruption& c : corruptions()) {
    SCOPED_TRACE(c.name);
    std::string path = problem_->dir().file("bad" + std::to_string(n++) + ".safetensors");
    c.make(path, goodBytes, *content);
    std::string save = problem_->dir().file("never.safetensors");

    RunResult train = runNnc(problem_->trainArgs({"--init", path, "--save", save}));
    EXPECT_EQ(train.status, 1) << train.err;
    EXPECT_TRUE(contains(train.err, "nnc: error: " + path)) << train.err;
    EXPECT_TRUE(contains(train.err, c.expected)) << train.err;
    EXPECT_FALSE(contains(train.out, "Epoch")) << "refused before training: " << train.out;
    EXPECT_FALSE(fileExists(save)) << "nothing saved";

    RunResult eval = runNnc(problem_->evalArgs(path));
    EXPECT_EQ(eval.status, 1) << eval.err;
    EXPECT_TRUE(contains(eval.err, "nnc: error: " + path)) << eval.err;
    EXPECT_EQ(eval.out, "") << "no results from a refused checkpoint";
  }
}

TEST_F(CorruptCheckpoint, MissingFileAndDirectoryAreRefused) {
  for (const std::string& path : {problem_->dir().file("nope.safetensors"), problem_->dir().path()}) {
    RunResult eval = runNnc(problem_->evalArgs(path));
    EXPECT_EQ(eval.status, 1) << eval.err;
    EXPECT_TRUE(contains(eval.err, path)) << eval.err;
  }
}

// A checkpoint of another model (same names, other shapes) is a mismatch, not a corruption:
// the message says which tensor and both shapes.
TEST_F(CorruptCheckpoint, AnotherModelsCheckpointIsRefused) {
  TinyProblem wider(withHidden(16));
  std::string other = wider.dir().file("wide.safetensors");
  ASSERT_EQ(runNnc(wider.trainArgs({"--save", other, "--epochs", "1"})).status, 0);
  RunResult eval = runNnc(problem_->evalArgs(other));
  EXPECT_EQ(eval.status, 1);
  EXPECT_TRUE(contains(eval.err, "has shape [16] but the model's is [8]") ||
              contains(eval.err, "has shape [4, 16] but the model's is [4, 8]"))
      << eval.err;
}

}  // namespace
}  // namespace nnc::hostile
