// Every example model compiles (inference and training step) and runs a few steps; prints the
// compile time by stage (the numbers the compile-time targets are about).
#include <gtest/gtest.h>

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
  for (const auto& file : exampleFiles()) {
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
    auto compiled = jitCompile(*inference, training ? &*training : nullptr, opt);
    ASSERT_TRUE(compiled.ok()) << compiled.error().message;
    CompiledModel& m = **compiled;
    const CompileTimes& t = m.times();
    std::printf("[ compile  ] %-24s lowering %.3fs  irgen %.3fs  optimize %.3fs  codegen %.3fs  total %.3fs  "
                "kernels %d/%d  workspace(64) %.1f MB\n",
                file.filename().string().c_str(), t.lowering, t.irGen, t.optimize, t.codegen, t.total,
                m.inference().kernels, m.training() ? m.training()->kernels : 0,
                (m.training() ? m.training()->workspaceBytes(64) : m.inference().workspaceBytes(64)) / 1e6);
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
  }
}

}  // namespace
}  // namespace nnc
