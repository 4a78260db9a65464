// nnc FILE bench: how long the model takes to compile and how fast its compiled code runs.
//
// Everything is measured in this process on synthetic data of the right shapes (uniform
// [0, 1) floats; integer inputs are class labels in range), with the same compiled model
// `train` and `eval` use: the training step and the inference forward pass. Each throughput
// figure comes from warm-up steps followed by as many timed steps as fill --seconds.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "compiler/codegen/CompiledModel.h"
#include "compiler/codegen/TargetCpu.h"
#include "compiler/driver/BenchProfile.h"
#include "compiler/driver/Command.h"
#include "compiler/driver/Limits.h"
#include "compiler/driver/ModelLoader.h"
#include "compiler/session/BenchModel.h"
#include "compiler/session/ModelPlan.h"
#include "runtime/include/nnc/runtime.h"
#include "support/Stopwatch.h"

namespace nnc::driver {
namespace {

using Clock = std::chrono::steady_clock;


// Runs `step` a few times to warm caches and threads, then as often as fits in `seconds`
// (at least three times); returns runs per second.
template <typename Step>
Result<double> runsPerSecond(double seconds, Step step) {
  auto warm = Clock::now();
  for (int i = 0; i < 3 || (i < 1000 && secondsSince(warm) < seconds * 0.1); ++i) NNC_TRY(step());
  int64_t runs = 0;
  auto t0 = Clock::now();
  double elapsed = 0;
  while (runs < 3 || elapsed < seconds) {
    NNC_TRY(step());
    ++runs;
    elapsed = secondsSince(t0);
  }
  return double(runs) / elapsed;
}

std::string withCommas(double v) {
  std::string digits = std::to_string(int64_t(v + 0.5)), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string mib(int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f MiB", double(bytes) / (1024.0 * 1024.0));
  return buf;
}

class BenchCommand : public Command {
 public:
  const char* name() const override { return "bench"; }
  const char* help() const override {
    return "Compile time, training and inference samples per second, and planned memory, on synthetic data";
  }
  void addOptions(CLI::App& sub) override {
    sub.add_option("--batch", batch_, "Batch size (default: the train block's batch, or 64)")
        ->check(positiveNumber());
    sub.add_option("--threads", threads_, "Threads (default: every core)")->check(CLI::Range(1, 1024));
    sub.add_option("--seconds", seconds_, "Time spent on each throughput measurement (default 1)")
        ->check(positiveNumber());
    sub.add_flag("--json", json_,
                 "Print one JSON object: compile_seconds, train_samples_per_second (null without a train "
                 "block), infer_samples_per_second_batch1, infer_samples_per_second, memory_bytes");
    sub.add_flag("--profile", profile_,
                 "Instead: time every kernel of one training step (the forward pass without a train block) in a "
                 "profiling build, with each kernel's share, GFLOP/s and GB/s against a roofline measured in the "
                 "same run (peak-FMA and bandwidth probes)");
  }

  int run(const std::string& path) override {
    auto start = Clock::now();
    auto loaded = loadModel(path);
    if (!loaded) return kExitError;
    double frontendSeconds = secondsSince(start);
    const Model& model = loaded->model;
    const training::TrainingPlan plan = trainingPlanFor(model);
    const int64_t batch = batch_.value_or(model.train ? plan.batch : 64);
    MemoryCheck memory(model);
    if (auto ok = memory.atBatch(batch); !ok) return fail(ok.error().message);
    if (threads_) nnc_set_num_threads(*threads_);

    // Compile: the graphs, then native code, as `train` does.
    auto bench = compileForBench(model, profile_);
    if (!bench) return fail(*loaded, bench.error());
    if (profile_) {
      auto profile = profileStep(*bench, batch, seconds_);
      if (!profile) return fail(profile.error().message);
      if (json_) {
        nlohmann::json j;
        j["model"] = model.name;
        j["batch"] = batch;
        j["threads"] = nnc_get_num_threads();
        j["profile"] = profileJson(*profile);
        std::cout << j.dump(2) << '\n';
      } else {
        printProfile(model.name, *profile);
      }
      return kExitOk;
    }
    CompiledModel& cm = *bench->code;
    const double graphSeconds = bench->graphSeconds;
    const CompileTimes& ct = cm.times();
    const double compileSeconds = frontendSeconds + graphSeconds + ct.total;

    // Throughput.
    const int64_t classes = bench->classes;
    std::optional<double> trainRate;
    if (const EntryInfo* t = cm.training()) {
      SyntheticInputs in(*t, batch, classes, 1);
      float loss = 0;
      float step = 0;
      const float lr = bench->learningRate;
      auto rate = runsPerSecond(seconds_, [&]() -> Result<void> {
        return cm.trainStep(in.pointers(), batch, lr, step++, &loss);
      });
      if (!rate) return fail(rate.error().message);
      trainRate = *rate * double(batch);
    }
    auto inferRate = [&](int64_t b) -> Result<double> {
      SyntheticInputs in(cm.inference(), b, classes, 2);
      OutputBuffers out(cm.inference(), b);
      auto rate = runsPerSecond(seconds_, [&] { return cm.forward(in.pointers(), out.pointers(), b); });
      if (!rate) return rate.error();
      return *rate * double(b);
    };
    auto infer1 = inferRate(1);
    if (!infer1) return fail(infer1.error().message);
    auto inferB = inferRate(batch);
    if (!inferB) return fail(inferB.error().message);

    // Planned memory: the state plus the workspace of the step at `batch` (the training step,
    // or the forward pass of a model that does not train).
    const EntryInfo& planned = cm.training() ? *cm.training() : cm.inference();
    const int64_t stateBytes = cm.stateLayout().bytes();
    const int64_t workspaceBytes = planned.workspaceBytes(batch);
    const int threads = nnc_get_num_threads();

    if (json_) {
      nlohmann::json j;
      j["model"] = model.name;
      j["compile_seconds"] = compileSeconds;
      j["compile_stages"] = {{"frontend", frontendSeconds}, {"graphs", graphSeconds},
                             {"lowering", ct.lowering},     {"llvm_ir", ct.irGen},
                             {"optimize", ct.optimize},     {"codegen", ct.codegen}};
      j["train_samples_per_second"] = trainRate ? nlohmann::json(*trainRate) : nlohmann::json(nullptr);
      j["infer_samples_per_second_batch1"] = *infer1;
      j["infer_samples_per_second"] = *inferB;
      j["memory_bytes"] = stateBytes + workspaceBytes;
      j["state_bytes"] = stateBytes;
      j["workspace_bytes"] = workspaceBytes;
      j["batch"] = batch;
      j["threads"] = threads;
      j["precision"] = productPrecisionName(model.precision);  // bf16 mixed precision: which path ran
      if (model.precision == ProductPrecision::BF16) j["bf16_path"] = "emulated";
      std::cout << j.dump(2) << '\n';
      return kExitOk;
    }
    std::printf("%s: batch %lld, %d thread%s\n", model.name.c_str(), (long long)batch, threads, threads == 1 ? "" : "s");
    std::printf("  %-22s %10.3f s   (front end %.3f, graphs %.3f, lowering %.3f, LLVM IR %.3f, optimize %.3f, "
                "codegen %.3f)\n",
                "compile", compileSeconds, frontendSeconds, graphSeconds, ct.lowering, ct.irGen, ct.optimize,
                ct.codegen);
    if (trainRate)
      std::printf("  %-22s %10s samples/s\n", "train", withCommas(*trainRate).c_str());
    else
      std::printf("  %-22s %10s   (the model has no train block with a loss)\n", "train", "-");
    std::printf("  %-22s %10s samples/s\n", "infer, batch 1", withCommas(*infer1).c_str());
    std::string inferLabel = "infer, batch " + std::to_string(batch);
    std::printf("  %-22s %10s samples/s\n", inferLabel.c_str(), withCommas(*inferB).c_str());
    std::printf("  %-22s %10s   (state %s, workspace %s at batch %lld)\n", "memory",
                mib(stateBytes + workspaceBytes).c_str(), mib(stateBytes).c_str(), mib(workspaceBytes).c_str(),
                (long long)batch);
    if (model.precision == ProductPrecision::BF16)
      std::printf("  %-22s %10s   %s\n", "precision", "bf16",
                  codegen::bf16PathDescription(codegen::hostTargetCpu()).c_str());
    return kExitOk;
  }

 private:
  std::optional<int64_t> batch_;
  std::optional<int> threads_;
  double seconds_ = 1.0;
  bool json_ = false;
  bool profile_ = false;
};

}  // namespace
std::unique_ptr<Command> makeBenchCommand() { return std::make_unique<BenchCommand>(); }
}  // namespace nnc::driver
