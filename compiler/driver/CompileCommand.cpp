// nnc FILE compile [-o DIR] [--name NAME] [--weights CKPT] [--cpu NAME]: ahead of time. Writes DIR/NAME.o
// (the forward pass and, for a model that trains, the training step, compiled for this CPU or --cpu
// from the same LLVM module the JIT runs) and DIR/NAME.h (their documented C interface, see
// compiler/codegen/aot/AotHeader.h), to link with the runtime library libnnc_rt.
#include <filesystem>
#include <iostream>
#include <system_error>

#include "compiler/codegen/aot/AotCompile.h"
#include "compiler/codegen/aot/AotHeader.h"
#include "compiler/codegen/TargetCpu.h"
#include "compiler/driver/Command.h"
#include "compiler/driver/ModelLoader.h"
#include "compiler/session/ModelCheckpoint.h"
#include "compiler/session/ModelPlan.h"
#include "compiler/session/StateStore.h"
#include "compiler/session/StepGraphs.h"
#include "runtime/support/AtomicFile.h"

namespace nnc::driver {
namespace {

// The initial state as an Executor, so a checkpoint loads into it with the checks `train
// --init` and `eval` apply (every parameter present, shapes equal); it runs nothing.
class StateOnlyExecutor : public training::Executor {
 public:
  StateOnlyExecutor(StateStore& store, std::vector<training::TensorSpec> inputs)
      : store_(store), inputs_(std::move(inputs)) {}
  const std::vector<training::TensorSpec>& inputs() const override { return inputs_; }
  const std::vector<training::TensorSpec>& stateTensors() const override { return store_.specs(); }
  std::span<float> state(const std::string& name) override {
    return store_.has(name) ? store_.values(name) : std::span<float>{};
  }
  training::TensorSpec firstOutput() const override { return {}; }
  Result<training::BatchResult> trainStep(std::span<const void* const>, int64_t, float, float) override {
    return makeError("internal: nothing runs while compiling");
  }
  Result<training::BatchResult> evaluate(std::span<const void* const>, int64_t, bool) override {
    return makeError("internal: nothing runs while compiling");
  }
  Result<void> predict(std::span<const void* const>, int64_t, std::span<float>) override {
    return makeError("internal: nothing runs while compiling");
  }

 private:
  StateStore& store_;
  std::vector<training::TensorSpec> inputs_;
};

class CompileCommand : public Command {
 public:
  const char* name() const override { return "compile"; }
  const char* help() const override {
    return "Ahead of time: write DIR/NAME.o and DIR/NAME.h (a C interface: create, forward, train step, "
           "tensors by name) to link with libnnc_rt";
  }
  void addOptions(CLI::App& sub) override {
    sub.add_option("-o,--out-dir", dir_, "The directory to write NAME.o and NAME.h to (created if missing)")
        ->capture_default_str();
    sub.add_option("--name", name_, "The file names and the prefix of every C symbol (default: the model's name)")
        ->check(CLI::Validator(
            [](std::string& v) -> std::string {
              return isCIdentifier(v) ? std::string() : "'" + v + "' is not a C identifier (letters, digits, '_')";
            },
            "C identifier"));
    sub.add_option("--weights", weights_, "Initial state from this checkpoint (default: the model's initialisers)");
    sub.add_option("--cpu", cpu_,
                   "The LLVM CPU to compile for (x86-64, x86-64-v2, x86-64-v3, x86-64-v4, znver4, ...; default: this "
                   "machine's); on a CPU without its features NAME_create returns NNC_AOT_ERR_CPU");
  }

  int run(const std::string& path) override {
    auto loaded = loadModel(path);
    if (!loaded) return kExitError;
    const Model& model = loaded->model;
    if (!cpu_.empty())
      if (auto cpu = codegen::namedTargetCpu(cpu_); !cpu) return fail(cpu.error().message);
    const std::string prefix = name_.empty() ? model.name : name_;
    if (!isCIdentifier(prefix)) {
      reportError(path, "the model's name '" + model.name + "' is not a C identifier; give one with --name");
      return kExitError;
    }
    Result<StepGraphs> graphs = buildStepGraphs(model);
    if (!graphs) return fail(*loaded, graphs.error());
    if (graphs->predict.graph.outputs.empty()) {
      reportError(path, "the model declares no output (write `output NAME = ...`), so there is no forward pass to compile");
      return kExitError;
    }
    const training::TrainingPlan plan = trainingPlanFor(model);
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec || !std::filesystem::is_directory(dir_)) return fail(dir_ + ": cannot create the output directory" +
                                                               (ec ? " (" + ec.message() + ")" : std::string()));
    const std::string objectPath = (std::filesystem::path(dir_) / (prefix + ".o")).string();
    const std::string headerPath = (std::filesystem::path(dir_) / (prefix + ".h")).string();
    for (const std::string& p : {objectPath, headerPath})
      if (auto ok = io::checkWritableDestination(p); !ok) return fail(ok.error().message);

    // Initial state: the initialisers (as `train` starts), or a checkpoint.
    Result<StateStore> store = StateStore::create(*graphs, plan.seed);
    if (!store) return fail(*loaded, store.error());
    AotHeaderInfo info;
    info.prefix = prefix;
    info.modelName = model.name;
    info.sourceFile = std::filesystem::path(path).filename().string();
    if (graphs->train) info.defaultLearningRate = plan.learningRate;
    std::vector<training::InputNormalization> norms;
    if (!weights_.empty()) {
      StateOnlyExecutor exec(*store, inputTensorSpecsFor(model));
      auto ckpt = loadModelCheckpoint(weights_, exec);
      if (!ckpt) return fail(ckpt.error().message);
      info.weightsFile = std::filesystem::path(weights_).filename().string();
      info.initialStep = ckpt->steps;
      norms = ckpt->normalization;
    }
    if (norms.empty()) {
      std::vector<training::TensorSpec> inputs = inputTensorSpecsFor(model);
      for (size_t i = 0; i < inputs.size(); ++i) {
        if (inputs[i].dtype != data::DType::F32) continue;
        if (plan.normalization == training::Normalization::Scale)
          norms.push_back({inputs[i].name, 0.0, plan.normalizeScale});
        else if (plan.normalization == training::Normalization::Standardize)
          info.normalizationUnknown.push_back(inputs[i].name);
      }
    }
    for (const auto& n : norms) info.normalization.push_back({n.input, float(n.shift), float(n.multiplier)});

    AotCompileOptions options;
    options.prefix = prefix;
    options.cpu = cpu_;
    auto compiled = aotCompile(
        graphs->predict.graph, graphs->train ? &graphs->train->graph : nullptr,
        [&](const StateEntry& e) -> std::span<const float> {
          return store->has(e.name) ? std::span<const float>(store->values(e.name)) : std::span<const float>{};
        },
        options);
    if (!compiled) return fail(*loaded, compiled.error());
    const std::string header = writeAotHeader(*compiled, info);

    // Both files or neither: each goes to a temporary first, and both are renamed only once
    // both are completely written.
    auto object = io::AtomicFile::create(objectPath);
    if (!object) return fail(object.error().message);
    auto headerFile = io::AtomicFile::create(headerPath);
    if (!headerFile) return fail(headerFile.error().message);
    if (auto ok = object->write(compiled->object.data(), compiled->object.size()); !ok) return fail(ok.error().message);
    if (auto ok = headerFile->write(header.data(), header.size()); !ok) return fail(ok.error().message);
    if (auto ok = object->commit(); !ok) return fail(ok.error().message);
    if (auto ok = headerFile->commit(); !ok) {
      std::filesystem::remove(objectPath, ec);
      return fail(ok.error().message);
    }
    return kExitOk;
  }

 private:
  std::string dir_ = ".";
  std::string name_;
  std::string weights_;
  std::string cpu_;
};

}  // namespace
std::unique_ptr<Command> makeCompileCommand() { return std::make_unique<CompileCommand>(); }
}  // namespace nnc::driver
