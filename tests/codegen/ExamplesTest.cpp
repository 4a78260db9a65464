// Every example model compiles (inference and training step) and runs a few steps; prints the
// compile time by stage (the numbers the compile-time targets are about).
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "compiler/train/Initializers.h"
#include "compiler/train/TrainingGraph.h"
#include "dsl/Frontend.h"
#include "tests/codegen/CodegenTestUtil.h"

namespace nnc {
namespace {

using namespace nnc::testing;

std::vector<std::filesystem::path> exampleFiles() {
  std::vector<std::filesystem::path> files;
  std::filesystem::path dir = std::filesystem::path(NNC_SOURCE_DIR) / "examples";
  if (!std::filesystem::exists(dir)) return files;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".nn") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

TEST(Examples, CompileAndTrainAFewSteps) {
  const char* only = std::getenv("NNC_TEST_EXAMPLE");  // a substring of the file name, to time one
  for (const auto& file : exampleFiles()) {
    if (only && file.filename().string().find(only) == std::string::npos) continue;
    SCOPED_TRACE(file.filename().string());
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    std::string source = text.str();
    DiagnosticEngine diags(file.filename().string(), source);
    std::optional<Model> model = compileModel(source, diags);
    ASSERT_TRUE(model.has_value()) << diags.renderToString();
    auto inference = buildInferenceGraph(*model);
    ASSERT_TRUE(inference.ok()) << inference.error().message;
    std::optional<Graph> training;
    if (model->train) {
      auto tg = buildTrainingGraph(*model);
      ASSERT_TRUE(tg.ok()) << tg.error().message;
      training = std::move(*tg);
    }
    CompileOptions opt;
    opt.useCache = false;
    if (const char* level = std::getenv("NNC_TEST_OPT_LEVEL")) opt.optLevel = std::atoi(level);
    timespec c0{}, c1{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
    auto compiled = jitCompile(*inference, training ? &*training : nullptr, opt);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
    double cpu = double(c1.tv_sec - c0.tv_sec) + 1e-9 * double(c1.tv_nsec - c0.tv_nsec);
    ASSERT_TRUE(compiled.ok()) << compiled.error().message;
    CompiledModel& m = **compiled;
    const CompileTimes& t = m.times();
    std::printf("[ compile  ] %-24s lowering %.3fs  irgen %.3fs  optimize %.3fs  codegen %.3fs  total %.3fs  "
                "(thread cpu %.3fs)  kernels %d/%d  workspace(64) %.1f MB\n",
                file.filename().string().c_str(), t.lowering, t.irGen, t.optimize, t.codegen, t.total, cpu,
                m.inference().kernels, m.training() ? m.training()->kernels : 0,
                (m.training() ? m.training()->workspaceBytes(64) : m.inference().workspaceBytes(64)) / 1e6);
    if (std::getenv("NNC_DUMP_KERNELS")) {
      std::printf("%s", m.inference().kernelListing.c_str());
      if (m.training()) std::printf("-- training --\n%s", m.training()->kernelListing.c_str());
    }
    if (!training) continue;
    auto init = initialValues(*training, 1);
    ASSERT_TRUE(init.ok()) << init.error().message;
    for (const StateEntry& e : m.stateLayout().entries()) {
      NodeId id = training->findLeaf(e.trainable ? OpKind::Param : OpKind::State, e.name);
      if (id == kNoNode) continue;
      std::span<float> dst = m.tensor(e.name);
      for (size_t k = 0; k < dst.size(); ++k) dst[k] = static_cast<float>(init->at(id).data[k]);
    }
    std::mt19937_64 rng(3);
    const int64_t batch = 4;
    float first = 0, last = 0;
    for (int step = 0; step < 5; ++step) {
      std::vector<HostTensor> host;
      std::vector<const void*> inputs;
      for (const TensorSpec& s : m.training()->inputs) {
        host.push_back(toHost(randomTensor(s.type, batch, s.type.dtype == DType::I32 ? Range{0, 3, true} : Range{0, 1}, rng)));
      }
      for (HostTensor& h : host) inputs.push_back(h.data());
      float loss = NAN;
      auto ok = m.trainStep(inputs, batch, 1e-3f, static_cast<float>(step), &loss);
      ASSERT_TRUE(ok.ok()) << ok.error().message;
      EXPECT_TRUE(std::isfinite(loss)) << "step " << step;
      if (step == 0) first = loss;
      last = loss;
    }
    std::printf("[ train    ] %-24s loss %.4f -> %.4f\n", file.filename().string().c_str(), first, last);
    // NNC_TEST_BENCH=B: time training steps at batch B on 1 and 2 threads (printed only).
    if (const char* bench = std::getenv("NNC_TEST_BENCH")) {
      int64_t b = std::max<int64_t>(1, std::atoll(bench));
      std::vector<HostTensor> host;
      std::vector<const void*> inputs;
      for (const TensorSpec& s : m.training()->inputs)
        host.push_back(toHost(randomTensor(s.type, b, s.type.dtype == DType::I32 ? Range{0, 3, true} : Range{0, 1}, rng)));
      for (HostTensor& h : host) inputs.push_back(h.data());
      for (int threads : {1, 2}) {
        ThreadsScope ts(threads);
        float loss = 0;
        (void)m.trainStep(inputs, b, 1e-3f, 0, &loss);  // warm up
        int reps = 0;
        auto t0 = std::chrono::steady_clock::now();
        double seconds = 0;
        while (seconds < 1.0) {
          (void)m.trainStep(inputs, b, 1e-3f, 0, &loss);
          ++reps;
          seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        }
        std::printf("[ bench    ] %-24s batch %lld threads %d: %.2f ms/step, %.0f samples/s\n",
                    file.filename().string().c_str(), static_cast<long long>(b), threads, 1e3 * seconds / reps,
                    static_cast<double>(b) * reps / seconds);
      }
    }
  }
}

}  // namespace
}  // namespace nnc
