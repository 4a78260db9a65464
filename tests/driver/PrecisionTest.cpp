// bf16 mixed precision from the command line: the train block's `precision` and
// `--precision`, which overrides it; checkpoints stay f32; errors; what bench reports.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "RunNnc.h"
#include "SyntheticData.h"
#include "TestFiles.h"

namespace nnc::test {
namespace {

// Bright images in one of two halves (class 0 left, 1 right), noisy.
void writeBf16Images(const ScratchDir& dir, int64_t samples) {
  SplitMix64 rng(7);
  std::vector<float> x;
  std::vector<int32_t> label;
  for (int64_t i = 0; i < samples; ++i) {
    int32_t c = rng.below(2);
    for (int r = 0; r < 6; ++r)
      for (int k = 0; k < 6; ++k) x.push_back(float(((k < 3) == (c == 0) ? 1.0 : 0.0) + 0.3 * rng.normal()));
    label.push_back(c);
  }
  writeNpy(dir.file("image.npy"), {samples, 6, 6}, x);
  writeNpy(dir.file("label.npy"), {samples}, label);
}

std::string bf16ModelText(const std::string& precisionLine) {
  return "model precision\n"
         "input image: f32[batch, 6, 6]\n"
         "input label: i32[batch]\n"
         "pixels = reshape(image, [6, 6, 1])\n"
         "c = conv2d(pixels, 3, kernel = 3, padding = same, activation = relu)\n"
         "h = dense(flatten(c), 8, activation = relu)\n"
         "logits = dense(h, 2)\n"
         "output probs = softmax(logits)\n"
         "train {\n"
         "  loss      = cross_entropy(logits, label)\n"
         "  optimizer = adam(lr = 0.01)\n"
         "  batch     = 8\n"
         "  seed      = 3\n" +
         precisionLine + "}\n";
}

std::vector<float> bf16TensorFloats(const StoredTensor& t) {
  std::vector<float> v(t.bytes.size() / 4);
  std::memcpy(v.data(), t.bytes.data(), v.size() * 4);
  return v;
}

class PrecisionOption : public ::testing::Test {
 protected:
  void SetUp() override {
    writeBf16Images(dir, 40);
    data = "npy:image=" + dir.file("image.npy") + ",label=" + dir.file("label.npy");
    f32Model = dir.write("f32.nn", bf16ModelText(""));
    bf16Model = dir.write("bf16.nn", bf16ModelText("  precision = bf16\n"));
  }
  // Trains 2 epochs; returns the checkpoint.
  SafetensorsFile train(const std::string& model, const std::string& name, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {model, "train", "--data", data, "--epochs", "2", "--threads", "1",
                                     "--save", dir.file(name)};
    args.insert(args.end(), extra.begin(), extra.end());
    RunResult r = runNnc(args);
    EXPECT_EQ(r.status, 0) << r.out << r.err;
    return r.status == 0 ? readSafetensorsFile(dir.file(name)) : SafetensorsFile{};
  }
  ScratchDir dir;
  std::string data, f32Model, bf16Model;
};

TEST_F(PrecisionOption, Bf16TrainsCloseToF32AndTheOptionOverridesTheBlock) {
  SafetensorsFile exact = train(f32Model, "f32.safetensors");
  SafetensorsFile rounded = train(bf16Model, "bf16.safetensors");
  ASSERT_FALSE(::testing::Test::HasFailure());
  // --precision overrides the block, both ways: the same bits as the block saying so.
  EXPECT_EQ(compareTensorsBitwise(rounded, train(f32Model, "up.safetensors", {"--precision", "bf16"})), "");
  EXPECT_EQ(compareTensorsBitwise(exact, train(bf16Model, "down.safetensors", {"--precision", "f32"})), "");

  // The rounding is applied, and bf16 training stays near f32's; the parameters and the
  // optimizer's slots stay f32.
  EXPECT_NE(compareTensorsBitwise(exact, rounded), "");
  ASSERT_EQ(exact.tensors.size(), rounded.tensors.size());
  int slots = 0;
  for (const auto& [name, t] : rounded.tensors) {
    EXPECT_EQ(t.dtype, "F32") << name;
    slots += name.find("/adam.") != std::string::npos;
    std::vector<float> a = bf16TensorFloats(exact.tensors.at(name)), b = bf16TensorFloats(t);
    ASSERT_EQ(a.size(), b.size()) << name;
    double diff = 0, norm = 0;
    for (size_t k = 0; k < a.size(); ++k) {
      diff += std::pow(double(a[k]) - b[k], 2);
      norm += std::pow(double(a[k]), 2);
    }
    if (name.find("/adam.v") == std::string::npos) {  // squares of small gradients: relatively noisier
      EXPECT_LT(std::sqrt(diff / std::max(norm, 1e-30)), 0.1) << name;
    }
  }
  EXPECT_GE(slots, 6) << "adam's m and v of every parameter";
}

TEST_F(PrecisionOption, InterpreterAgreesWithTheJit) {
  SafetensorsFile jit = train(bf16Model, "jit.safetensors");
  SafetensorsFile interp = train(bf16Model, "interp.safetensors", {"--backend", "interpreter"});
  ASSERT_FALSE(::testing::Test::HasFailure());
  for (const auto& [name, t] : jit.tensors) {
    if (name.find('/') != std::string::npos) continue;  // the parameters
    std::vector<float> a = bf16TensorFloats(t), b = bf16TensorFloats(interp.tensors.at(name));
    ASSERT_EQ(a.size(), b.size());
    for (size_t k = 0; k < a.size(); ++k) EXPECT_NEAR(a[k], b[k], 1e-3 * (1 + std::fabs(a[k]))) << name << "[" << k << "]";
  }
}

TEST_F(PrecisionOption, BadValuesAreErrors) {
  RunResult usage = runNnc({f32Model, "check", "--precision", "bf8"});
  EXPECT_EQ(usage.status, 2) << usage.err;
  EXPECT_NE(usage.err.find("--precision"), std::string::npos) << usage.err;

  const std::string bad = dir.write("bad.nn", bf16ModelText("  precision = f16\n"));
  RunResult r = runNnc({bad, "check"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("bad.nn:14:15: error: unknown precision 'f16'"), std::string::npos) << r.err;
  RunResult kind = runNnc({dir.write("kind.nn", bf16ModelText("  precision = 16\n")), "check"});
  EXPECT_EQ(kind.status, 1);
  EXPECT_NE(kind.err.find("precision"), std::string::npos) << kind.err;
}

TEST_F(PrecisionOption, BenchSaysWhichPathRan) {
  RunResult r = runNnc({f32Model, "bench", "--json", "--seconds", "0.02", "--threads", "1", "--precision", "bf16"});
  ASSERT_EQ(r.status, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["precision"], "bf16");
  EXPECT_EQ(j["bf16_path"], "emulated");
  RunResult text = runNnc({bf16Model, "bench", "--seconds", "0.02", "--threads", "1"});
  ASSERT_EQ(text.status, 0) << text.err;
  EXPECT_NE(text.out.find("precision"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("emulated"), std::string::npos) << text.out;
  RunResult exact = runNnc({f32Model, "bench", "--json", "--seconds", "0.02", "--threads", "1"});
  ASSERT_EQ(exact.status, 0) << exact.err;
  EXPECT_EQ(nlohmann::json::parse(exact.out)["precision"], "f32");
}

}  // namespace
}  // namespace nnc::test
