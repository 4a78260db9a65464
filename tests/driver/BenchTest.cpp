// `nnc FILE bench`: the JSON keys and their types, null training speed for a model without a
// train block, and usage errors. Never timing values: the machine may be slow and busy.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "RunNnc.h"
#include "TestFiles.h"

using nnc::test::runNnc;
using nnc::test::sourcePath;

namespace {

// Short measurements keep the test fast; the figures are not checked.
const std::vector<std::string> kQuick = {"--seconds", "0.02", "--batch", "8"};

std::vector<std::string> args(std::vector<std::string> a, const std::vector<std::string>& more = kQuick) {
  a.insert(a.end(), more.begin(), more.end());
  return a;
}

TEST(Bench, JsonHasTheContractKeys) {
  auto r = runNnc(args({sourcePath("examples/fashion_mlp.nn"), "bench", "--json", "--threads", "2"}));
  ASSERT_EQ(r.status, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j.is_object());
  for (const char* key : {"compile_seconds", "train_samples_per_second", "infer_samples_per_second_batch1",
                          "infer_samples_per_second"}) {
    ASSERT_TRUE(j.contains(key)) << key;
    EXPECT_TRUE(j[key].is_number()) << key << ": " << j[key];
    EXPECT_GT(j[key].get<double>(), 0) << key;
  }
  ASSERT_TRUE(j.contains("memory_bytes"));
  EXPECT_TRUE(j["memory_bytes"].is_number_integer());
  // At least the parameters and Adam's two slots: 235,146 * 3 floats.
  EXPECT_GE(j["memory_bytes"].get<int64_t>(), int64_t(235146) * 3 * 4);
  EXPECT_EQ(j["batch"], 8);
  EXPECT_EQ(j["threads"], 2);
  EXPECT_TRUE(j["compile_stages"].is_object());
}

TEST(Bench, ModelWithoutTrainHasNullTrainingSpeed) {
  nnc::test::ScratchDir dir;
  std::string model = dir.write("inference.nn",
                                "model inference_only\ninput x: f32[batch, 12]\nh = dense(x, 16, activation = relu)\n"
                                "output y = dense(h, 3)\n");
  auto r = runNnc(args({model, "bench", "--json"}));
  ASSERT_EQ(r.status, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j.contains("train_samples_per_second"));
  EXPECT_TRUE(j["train_samples_per_second"].is_null());
  EXPECT_TRUE(j["infer_samples_per_second"].is_number());
  EXPECT_TRUE(j["memory_bytes"].is_number_integer());
}

TEST(Bench, DefaultBatchIsTheTrainBlocksAndTheTableIsReadable) {
  auto r = runNnc({sourcePath("examples/fashion_mlp.nn"), "bench", "--seconds", "0.02"});
  ASSERT_EQ(r.status, 0) << r.err;
  for (const char* row : {"compile", "train", "infer, batch 1", "infer, batch 64", "memory", "samples/s"})
    EXPECT_NE(r.out.find(row), std::string::npos) << row << "\n" << r.out;
}

TEST(Bench, BadOptionsAreUsageErrors) {
  const std::string mlp = sourcePath("examples/fashion_mlp.nn");
  for (const auto& bad : std::vector<std::vector<std::string>>{
           {"--batch", "0"}, {"--batch", "x"}, {"--threads", "0"}, {"--seconds", "-1"}, {"--seconds", "nan"}}) {
    auto r = runNnc(args({mlp, "bench"}, bad));
    EXPECT_EQ(r.status, 2) << bad[0] << " " << bad[1] << "\n" << r.err;
  }
}

TEST(Bench, ModelErrorsExitOne) {
  EXPECT_EQ(runNnc(args({"/nonexistent/model.nn", "bench"})).status, 1);
  nnc::test::ScratchDir dir;
  std::string bad = dir.write("bad.nn", "model bad\ninput x: f32[batch, 4]\ny = dense(x, 3, activation = rleu)\n");
  auto r = runNnc(args({bad, "bench", "--json"}));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("bad.nn:3:"), std::string::npos) << r.err;
}

}  // namespace

namespace {

// `bench --profile`: every kernel of the training step has a row (the kernels whose tasks the
// compiled module defines were all timed), and the kernels and the final copies account for
// the step's wall time. Figures are not checked, only their consistency.
TEST(BenchProfile, ListsEveryKernelAndSharesSumToTheStep) {
  const std::string mlp = sourcePath("examples/fashion_mlp.nn");
  auto r = runNnc(args({mlp, "bench", "--profile", "--json", "--threads", "1"}));
  ASSERT_EQ(r.status, 0) << r.err;
  nlohmann::json p = nlohmann::json::parse(r.out).at("profile");
  EXPECT_EQ(p.at("entry"), "train_step");
  EXPECT_GT(p.at("peak_gflops").get<double>(), 0.0);
  EXPECT_GT(p.at("bandwidth_gbs").get<double>(), 0.0);
  const nlohmann::json& kernels = p.at("kernels");
  ASSERT_GT(kernels.size(), 5u);
  double shares = p.at("copies_share").get<double>();
  for (size_t i = 0; i < kernels.size(); ++i) {
    EXPECT_EQ(kernels[i].at("index").get<size_t>(), i);
    EXPECT_GE(kernels[i].at("share").get<double>(), 0.0);
    shares += kernels[i].at("share").get<double>();
  }
  EXPECT_GT(shares, 0.9);
  EXPECT_LT(shares, 1.0 + 1e-9);

  // Every kernel the module has a task for (nnc_train_step_kN_...) ran, and was timed.
  auto ir = runNnc({mlp, "ir", "--stage", "llvm"});
  ASSERT_EQ(ir.status, 0) << ir.err;
  const std::string prefix = "@nnc_train_step_k";
  int seen = 0;
  for (size_t at = ir.out.find(prefix); at != std::string::npos; at = ir.out.find(prefix, at + 1)) {
    size_t k = std::stoul(ir.out.substr(at + prefix.size()));
    ASSERT_LT(k, kernels.size()) << ir.out.substr(at, 60);
    EXPECT_GT(kernels[k].at("seconds").get<double>(), 0.0) << kernels[k].at("label");
    ++seen;
  }
  EXPECT_GT(seen, 5);

  // The table names the roofline and every kernel.
  auto text = runNnc(args({mlp, "bench", "--profile", "--threads", "1"}));
  ASSERT_EQ(text.status, 0) << text.err;
  EXPECT_NE(text.out.find("roofline (measured now): peak"), std::string::npos) << text.out;
  for (const auto& k : kernels) {
    std::string label = k.at("label").get<std::string>();
    EXPECT_NE(text.out.find(label.substr(0, std::min<size_t>(label.size(), 41))), std::string::npos) << label;
  }
}

}  // namespace
