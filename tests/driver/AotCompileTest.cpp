// `nnc FILE compile` (ahead of time) and `ir --stage llvm`: examples/aot builds against the
// object and header with `make` and `cc`, links the runtime library, predicts what `nnc
// predict` predicts with the same weights, and trains (the loss goes down); two models link
// into one program; errors leave nothing behind.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "RunNnc.h"
#include "TestFiles.h"

using nnc::test::runNnc;
using nnc::test::sourcePath;

namespace {

const std::string kRuntimeLib = std::string(NNC_BINARY_DIR) + "/lib";
const std::string kRuntimeInclude = sourcePath("runtime/include");

// Runs a shell command, capturing its standard output (and error, into the same text).
int shell(const std::string& command, std::string* output) {
  std::string cmd = command + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return -1;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) output->append(buf, n);
  int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

// examples/aot/main.c's images: pixel(sample, index).
float pixel(int sample, int index) { return float((sample * 37 + index * 11 + (index / 28) * 3) % 256); }

// The f32 payload of a C-order .npy file written by nnc.
std::vector<float> readNpyF32(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < 10) return {};
  size_t headerLen = size_t(uint8_t(bytes[8])) | size_t(uint8_t(bytes[9])) << 8;
  size_t at = 10 + headerLen;
  std::vector<float> v((bytes.size() - at) / 4);
  std::memcpy(v.data(), bytes.data() + at, v.size() * 4);
  return v;
}

std::vector<std::string> linesStartingWith(const std::string& text, const std::string& prefix) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(prefix, 0) == 0) out.push_back(line);
  return out;
}

// The C toolchain the example needs (part of the build environment; skip where it is absent).
bool haveCToolchain() {
#ifdef NNC_SANITIZED_BUILD
  return false;  // libnnc_rt.a carries sanitizer calls that a plain `cc` link cannot resolve
#else
  std::string ignored;
  return shell("command -v cc && command -v make", &ignored) == 0;
#endif
}

// Builds examples/aot with its Makefile (for `cpu`, or this machine's when empty), runs it, and
// checks that it predicts what the JIT predicts and that training lowers the loss.
void checkExample(const std::string& cpu) {
  nnc::test::ScratchDir dir;
  const std::string mlp = sourcePath("examples/fashion_mlp.nn");
  // Weights to share between the JIT and the object: one short epoch on the example's images.
  const int samples = 32;
  std::vector<float> images;
  std::vector<int32_t> labels;
  for (int s = 0; s < samples; ++s) {
    for (int i = 0; i < 28 * 28; ++i) images.push_back(pixel(s, i));
    labels.push_back(s % 10);
  }
  nnc::test::writeNpy(dir.file("image.npy"), {samples, 28, 28}, images);
  nnc::test::writeNpy(dir.file("label.npy"), {samples}, labels);
  const std::string weights = dir.file("w.safetensors");
  auto train = runNnc({mlp, "train", "--data", "npy:image=" + dir.file("image.npy") + ",label=" + dir.file("label.npy"),
                       "--epochs", "1", "--batch", "16", "--save", weights});
  ASSERT_EQ(train.status, 0) << train.err;

  // The example, built by its Makefile against the build tree.
  const std::string build = dir.file("build");
  std::string log;
  int rc = shell("make -s -f " + sourcePath("examples/aot/Makefile") + " NNC=" + NNC_EXE + " NNC_INCLUDE=" +
                     kRuntimeInclude + " NNC_LIB=" + kRuntimeLib + " BUILD=" + build + " WEIGHTS=" + weights +
                     (cpu.empty() ? "" : " CPU=" + cpu),
                 &log);
  ASSERT_EQ(rc, 0) << log;
  EXPECT_TRUE(std::filesystem::exists(build + "/fashion_mlp.o"));
  EXPECT_TRUE(std::filesystem::exists(build + "/fashion_mlp.h"));
  std::string out;
  ASSERT_EQ(shell(build + "/aot_mlp", &out), 0) << out;

  // Inference agrees with `nnc predict` on the same four images and weights (images only:
  // prediction needs no labels).
  auto predict = runNnc({mlp, "predict", "--weights", weights, "--data", "npy:image=" + dir.file("image.npy"),
                         "--out", dir.file("probs.npy")});
  ASSERT_EQ(predict.status, 0) << predict.err;
  std::vector<float> jit = readNpyF32(dir.file("probs.npy"));
  ASSERT_EQ(jit.size(), size_t(samples * 10));
  std::vector<std::string> probLines = linesStartingWith(out, "probs ");
  ASSERT_EQ(probLines.size(), 4u) << out;
  for (size_t s = 0; s < probLines.size(); ++s) {
    std::istringstream in(probLines[s].substr(probLines[s].find(':') + 1));
    for (int c = 0; c < 10; ++c) {
      float aot = -1;
      in >> aot;
      float expected = jit[s * 10 + size_t(c)];
      EXPECT_NEAR(aot, expected, 1e-6 + 1e-4 * std::fabs(expected)) << "sample " << s << " class " << c;
    }
  }

  // Training lowers the loss on its batch.
  std::vector<std::string> steps = linesStartingWith(out, "step ");
  ASSERT_EQ(steps.size(), 8u) << out;
  auto lossOf = [](const std::string& line) { return std::stod(line.substr(line.find("loss ") + 5)); };
  EXPECT_TRUE(std::isfinite(lossOf(steps.front()))) << out;
  EXPECT_LT(lossOf(steps.back()), lossOf(steps.front())) << out;
  EXPECT_NE(out.find("logits.bias[0] "), std::string::npos) << out;
  if (!cpu.empty()) {
    std::string header;
    std::ifstream in(build + "/fashion_mlp.h");
    header.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    EXPECT_NE(header.find("#define FASHION_MLP_TARGET_CPU \"" + cpu + "\""), std::string::npos) << header;
  }
}

TEST(AotCompile, ExampleMatchesTheJitAndTrains) {
  if (!haveCToolchain()) GTEST_SKIP() << "no cc or make, or a sanitizer build";
  checkExample("");
}

// x86-64-v2 has SSE4.2 but no AVX: the kernels pick 4-lane vectors for it, and no instruction
// touches a ymm or zmm register; the object still predicts and trains as the JIT does.
TEST(AotCompile, PortableObjectUsesNoWideVectorsAndRuns) {
  if (!haveCToolchain()) GTEST_SKIP() << "no cc or make, or a sanitizer build";
  std::string ignored;
  if (shell("command -v objdump", &ignored) != 0) GTEST_SKIP() << "no objdump";
  nnc::test::ScratchDir dir;
  auto r = runNnc({sourcePath("examples/fashion_mlp.nn"), "compile", "-o", dir.file("out"), "--cpu", "x86-64-v2"});
  ASSERT_EQ(r.status, 0) << r.err;
  std::string disassembly;
  ASSERT_EQ(shell("objdump -d " + dir.file("out/fashion_mlp.o"), &disassembly), 0) << disassembly;
  EXPECT_NE(disassembly.find("xmm"), std::string::npos);
  EXPECT_EQ(disassembly.find("ymm"), std::string::npos);
  EXPECT_EQ(disassembly.find("zmm"), std::string::npos);
  checkExample("x86-64-v2");
}

// An object for a CPU with more features than the one it runs on: create returns
// NNC_AOT_ERR_CPU, naming what is missing, instead of the first kernel dying on an illegal
// instruction. NNC_AOT_HIDE_CPU_FEATURES simulates the missing feature where this CPU has it.
TEST(AotCompile, CreateFailsCleanlyOnACpuWithoutTheObjectsFeatures) {
  if (!haveCToolchain()) GTEST_SKIP() << "no cc or make, or a sanitizer build";
  nnc::test::ScratchDir dir;
  const std::string tiny = dir.write("tiny.nn", "model tiny\ninput x: f32[batch, 3]\noutput y = dense(x, 2)\n");
  auto r = runNnc({tiny, "compile", "-o", dir.file("out"), "--cpu", "x86-64-v4"});
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string program = dir.write("create.c", R"(#include <stdio.h>
#include "tiny.h"
int main(void) {
  tiny_model* t = 0;
  int rc = tiny_create(&t);
  printf("rc %d model %s cpu %s\n%s\n", rc, t ? "yes" : "no", TINY_TARGET_CPU, nnc_aot_error_string(rc));
  if (rc == 0) {
    float x[3] = {1, 2, 3}, y[2];
    const void* in[1] = {x};
    void* out[1] = {y};
    rc = tiny_forward(t, in, out, 1);
    tiny_free(t);
  }
  return rc == 0 ? 0 : 3;
}
)");
  std::string log;
  ASSERT_EQ(shell("cc -std=c99 -Wall -Werror -I" + dir.file("out") + " -I" + kRuntimeInclude + " " + program + " " +
                      dir.file("out/tiny.o") + " -L" + kRuntimeLib + " -lnnc_rt -lm -lpthread -lstdc++ -o " +
                      dir.file("create"),
                  &log),
            0)
      << log;
  std::string out;
  EXPECT_EQ(shell("NNC_AOT_HIDE_CPU_FEATURES=avx512f " + dir.file("create"), &out), 3) << out;
  EXPECT_NE(out.find("rc -7 model no cpu x86-64-v4"), std::string::npos) << out;
  EXPECT_NE(out.find("lacks"), std::string::npos) << out;
  EXPECT_NE(out.find("avx512f"), std::string::npos) << out;

  // The same check passes for features this CPU has, and fails for one hidden from it.
  auto v2 = runNnc({tiny, "compile", "-o", dir.file("v2"), "--cpu", "x86-64-v2"});
  ASSERT_EQ(v2.status, 0) << v2.err;
  ASSERT_EQ(shell("cc -std=c99 -I" + dir.file("v2") + " -I" + kRuntimeInclude + " " + program + " " +
                      dir.file("v2/tiny.o") + " -L" + kRuntimeLib + " -lnnc_rt -lm -lpthread -lstdc++ -o " +
                      dir.file("create_v2"),
                  &log),
            0)
      << log;
  out.clear();
  EXPECT_EQ(shell(dir.file("create_v2"), &out), 0) << out;
  EXPECT_NE(out.find("rc 0 model yes cpu x86-64-v2"), std::string::npos) << out;
  out.clear();
  EXPECT_EQ(shell("NNC_AOT_HIDE_CPU_FEATURES=sse4.2 " + dir.file("create_v2"), &out), 3) << out;
  EXPECT_NE(out.find("(sse4.2)"), std::string::npos) << out;
}

TEST(AotCompile, UnknownCpuIsAClearError) {
  nnc::test::ScratchDir dir;
  auto r = runNnc({sourcePath("examples/fashion_mlp.nn"), "compile", "-o", dir.file("out"), "--cpu", "pentium9000"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("unknown CPU 'pentium9000'"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("not a recognized processor"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("out/fashion_mlp.o")));
}

TEST(AotCompile, TwoModelsLinkIntoOneProgram) {
  if (!haveCToolchain()) GTEST_SKIP() << "no cc or make, or a sanitizer build";
  nnc::test::ScratchDir dir;
  nnc::test::ScratchDir models;
  const std::string mlp = sourcePath("examples/fashion_mlp.nn");
  const std::string tiny = models.write("tiny.nn", "model tiny\ninput x: f32[batch, 3]\noutput y = dense(x, 2)\n");
  auto a = runNnc({mlp, "compile", "-o", dir.file("out"), "--name", "model_a"});
  ASSERT_EQ(a.status, 0) << a.err;
  auto b = runNnc({tiny, "compile", "-o", dir.file("out")});
  ASSERT_EQ(b.status, 0) << b.err;
  std::string header;
  {
    std::ifstream in(dir.file("out/tiny.h"));
    header.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  EXPECT_NE(header.find("#define TINY_HAS_TRAIN_STEP 0"), std::string::npos) << header;
  const std::string program = dir.write("both.c", R"(#include <stdio.h>
#include "model_a.h"
#include "tiny.h"
int main(void) {
  model_a_model* a = 0;
  tiny_model* t = 0;
  float x[3] = {1, 2, 3}, y[2], w[6] = {1, 0, 0, 1, 1, 1}, probs[10], image[784] = {0};
  const void* tin[TINY_NUM_INPUTS] = {x};
  void* tout[TINY_NUM_OUTPUTS] = {y};
  const void* ain[MODEL_A_NUM_INPUTS] = {image};
  void* aout[MODEL_A_NUM_OUTPUTS] = {probs};
  if (model_a_create(&a) != 0 || tiny_create(&t) != 0 || !a || !t) return 1;
  if (tiny_set_tensor(t, "y.weight", w, 6) != 0) return 2;
  if (tiny_set_tensor(t, "y.weight", w, 5) != NNC_AOT_ERR_SIZE) return 3;
  if (tiny_get_tensor(t, "nope", w, 6) != NNC_AOT_ERR_UNKNOWN_NAME) return 4;
  if (tiny_forward(t, tin, tout, 1) != 0 || model_a_forward(a, ain, aout, 1) != 0) return 5;
  if (tiny_train_step(t, tin, 1, 0.1f, 0) != NNC_AOT_ERR_NO_TRAIN) return 6;
  if (tiny_forward(t, tin, tout, 0) != NNC_AOT_ERR_ARGUMENT) return 7;
  printf("y %g %g sum %g\n", y[0], y[1], probs[0] + probs[1] + probs[2] + probs[3] + probs[4] + probs[5] +
         probs[6] + probs[7] + probs[8] + probs[9]);
  tiny_free(t);
  model_a_free(a);
  return 0;
}
)");
  std::string log;
  ASSERT_EQ(shell("cc -std=c99 -Wall -Wextra -Werror -pedantic -I" + dir.file("out") + " -I" + kRuntimeInclude + " " +
                      program + " " + dir.file("out/model_a.o") + " " + dir.file("out/tiny.o") + " -L" + kRuntimeLib +
                      " -lnnc_rt -lm -lpthread -lstdc++ -o " + dir.file("both"),
                  &log),
            0)
      << log;
  std::string out;
  ASSERT_EQ(shell(dir.file("both"), &out), 0) << out;
  // y = x @ [[1, 0], [0, 1], [1, 1]] + 0 = [1 + 3, 2 + 3]; softmax sums to 1.
  EXPECT_NE(out.find("y 4 5 sum 1"), std::string::npos) << out;
}

TEST(AotCompile, ErrorsAreClearAndLeaveNothingBehind) {
  nnc::test::ScratchDir dir;
  const std::string mlp = sourcePath("examples/fashion_mlp.nn");
  // The output directory is a regular file.
  const std::string file = dir.write("not_a_dir", "x");
  auto r = runNnc({mlp, "compile", "-o", file});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("not_a_dir"), std::string::npos) << r.err;
  // No output to compile.
  const std::string noOut = dir.write("no_output.nn", "model no_output\ninput x: f32[batch, 3]\ny = dense(x, 2)\n");
  auto n = runNnc({noOut, "compile", "-o", dir.file("out")});
  EXPECT_EQ(n.status, 1);
  EXPECT_NE(n.err.find("no output"), std::string::npos) << n.err;
  // A checkpoint that does not exist.
  auto w = runNnc({mlp, "compile", "-o", dir.file("out"), "--weights", dir.file("missing.safetensors")});
  EXPECT_EQ(w.status, 1);
  EXPECT_FALSE(std::filesystem::exists(dir.file("out/fashion_mlp.o")));
  EXPECT_FALSE(std::filesystem::exists(dir.file("out/fashion_mlp.h")));
  // --name must be a C identifier.
  EXPECT_EQ(runNnc({mlp, "compile", "-o", dir.file("out"), "--name", "9lives"}).status, 2);
  EXPECT_EQ(runNnc({mlp, "compile", "-o", dir.file("out"), "--name", "a-b"}).status, 2);
  // Nothing but finished files in the directory (no temporaries).
  if (std::filesystem::exists(dir.file("out")))
    for (const auto& e : std::filesystem::directory_iterator(dir.file("out")))
      ADD_FAILURE() << "left behind: " << e.path();
}

TEST(IrStage, LlvmPrintsTheOptimisedModule) {
  auto r = runNnc({sourcePath("examples/fashion_mlp.nn"), "ir", "--stage", "llvm"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("define"), std::string::npos);
  EXPECT_NE(r.out.find("@nnc_forward("), std::string::npos);
  EXPECT_NE(r.out.find("@nnc_train_step("), std::string::npos);
  EXPECT_NE(r.out.find("target triple"), std::string::npos);
  nnc::test::ScratchDir dir;
  const std::string inference = dir.write("inf.nn", "model inf\ninput x: f32[batch, 3]\noutput y = dense(x, 2)\n");
  auto i = runNnc({inference, "ir", "--stage", "llvm"});
  ASSERT_EQ(i.status, 0) << i.err;
  EXPECT_NE(i.out.find("@nnc_forward("), std::string::npos);
  EXPECT_EQ(i.out.find("@nnc_train_step("), std::string::npos);
}

}  // namespace
