// The whole training step, and inference at batch 1 and at the training batch, of every
// example model (examples/*.nn), at 1 and 2 threads. Each model is compiled the way `nnc FILE
// bench` compiles it: front end, the step graphs, a cold jitCompile of the inference graph with
// the training step, parameters initialised from their initializers; inputs are synthetic
// (uniform [0, 1) floats, labels in range). This is
// the Google Benchmark form of `nnc bench`, so the figures land in one JSON with the kernel
// benches and the 1 vs 2 thread runs of a model sit next to each other.
//
//   build/bin/train_step_bench --benchmark_format=json --benchmark_repetitions=3
//
// Counter samples_per_second: the batch per iteration, as a rate. Benchmark names are
// MODEL/train_batch:B, MODEL/infer_batch:1 and MODEL/infer_batch:B, then /threads:T.
// The compilation, the initial state and the synthetic data are `nnc bench`'s own
// (compiler/session/BenchModel.h).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "compiler/codegen/CompiledModel.h"
#include "compiler/session/BenchModel.h"
#include "compiler/session/ModelPlan.h"
#include "dsl/Frontend.h"
#include "runtime/include/nnc/runtime.h"

#ifndef NNC_EXAMPLES_DIR
#error "NNC_EXAMPLES_DIR (the repository's examples/ folder) is set by train_step_bench.cmake"
#endif

namespace {

const char* const kModels[] = {"fashion_mlp", "fashion_cnn", "sequence_lstm", "maxout_batchnorm",
                               "explicit_params"};

// One example, compiled once and shared by all its benchmarks; `error` says why not.
struct Example {
  std::unique_ptr<nnc::CompiledModel> model;
  int64_t batch = 64;     // the train block's batch (64 without one)
  int64_t classes = 0;    // label range of integer inputs
  float learningRate = 0.01f;
  std::string error;
};

nnc::Result<std::string> readFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return nnc::makeError("cannot read " + path);
  std::ostringstream text;
  text << f.rdbuf();
  return text.str();
}

struct Parsed {
  std::string path, source;
  nnc::Model model;
};

nnc::Result<Parsed> parseExample(const std::string& name) {
  Parsed p;
  p.path = std::string(NNC_EXAMPLES_DIR) + "/" + name + ".nn";
  auto source = readFile(p.path);
  if (!source) return source.error();
  p.source = std::move(*source);
  nnc::DiagnosticEngine diags(p.path, p.source);
  std::optional<nnc::Model> model = nnc::compileModel(p.source, diags);
  if (!model) return nnc::makeError(diags.renderToString());
  p.model = std::move(*model);
  return p;
}

// The batch the benchmarks of `name` use: the train block's, else 64 (as `nnc bench`).
int64_t batchOf(const nnc::Model& model) { return model.train ? nnc::trainingPlanFor(model).batch : 64; }

nnc::Result<Example> compileExample(const std::string& name) {
  auto parsed = parseExample(name);
  if (!parsed) return parsed.error();
  auto bench = nnc::compileForBench(parsed->model);
  if (!bench) return bench.error();
  Example out;
  out.model = std::move(bench->code);
  out.batch = batchOf(parsed->model);
  out.classes = bench->classes;
  out.learningRate = bench->learningRate;
  return out;
}

Example& exampleFor(const std::string& name) {
  static std::map<std::string, Example> cache;
  auto it = cache.find(name);
  if (it != cache.end()) return it->second;
  auto compiled = compileExample(name);
  Example& out = cache[name];
  if (compiled)
    out = std::move(*compiled);
  else
    out.error = compiled.error().message;
  return out;
}

using nnc::OutputBuffers;
using nnc::SyntheticInputs;

void setSamples(benchmark::State& state, int64_t batch) {
  state.counters["samples_per_second"] =
      benchmark::Counter(double(batch), benchmark::Counter::kIsIterationInvariantRate);
}

void runTrain(benchmark::State& state, std::string name, int threads) {
  nnc_set_num_threads(threads);
  Example& e = exampleFor(name);
  if (!e.model) {
    state.SkipWithError(("compile failed: " + e.error).c_str());
    return;
  }
  const nnc::EntryInfo* entry = e.model->training();
  if (!entry) {
    state.SkipWithError("the model has no train block with a loss");
    return;
  }
  SyntheticInputs in(*entry, e.batch, e.classes, 1);
  float loss = 0, step = 0;
  for (auto _ : state) {
    // Each iteration is a real step: the parameters move, as in training.
    auto ok = e.model->trainStep(in.pointers(), e.batch, e.learningRate, step++, &loss);
    if (!ok) {
      state.SkipWithError(ok.error().message.c_str());
      break;
    }
    benchmark::DoNotOptimize(loss);
  }
  setSamples(state, e.batch);
}

void runInfer(benchmark::State& state, std::string name, int64_t batch, int threads) {
  nnc_set_num_threads(threads);
  Example& e = exampleFor(name);
  if (!e.model) {
    state.SkipWithError(("compile failed: " + e.error).c_str());
    return;
  }
  SyntheticInputs in(e.model->inference(), batch, e.classes, 2);
  OutputBuffers out(e.model->inference(), batch);
  for (auto _ : state) {
    auto ok = e.model->forward(in.pointers(), out.pointers(), batch);
    if (!ok) {
      state.SkipWithError(ok.error().message.c_str());
      break;
    }
    benchmark::ClobberMemory();
  }
  setSamples(state, batch);
}

// Registered from main, not a static initializer: the names carry each model's batch, which
// takes the front end, whose parser must not run before its own statics exist. Models are
// compiled lazily, by their first benchmark, so a --benchmark_filter compiles only what it
// runs. A model that does not parse still gets its benchmarks, which report why.
void registerAll() {
  for (int threads : {1, 2}) {
    for (const char* model : kModels) {
      auto parsed = parseExample(model);
      const int64_t batch = parsed ? batchOf(parsed->model) : 64;
      const std::string m = model, b = std::to_string(batch), t = "/threads:" + std::to_string(threads);
      benchmark::RegisterBenchmark((m + "/train_batch:" + b + t).c_str(), runTrain, m, threads)
          ->UseRealTime()
          ->MinTime(0.3);
      benchmark::RegisterBenchmark((m + "/infer_batch:1" + t).c_str(), runInfer, m, int64_t(1), threads)
          ->UseRealTime()
          ->MinTime(0.3);
      benchmark::RegisterBenchmark((m + "/infer_batch:" + b + t).c_str(), runInfer, m, batch, threads)
          ->UseRealTime()
          ->MinTime(0.3);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  registerAll();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
