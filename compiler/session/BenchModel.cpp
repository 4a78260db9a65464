#include "compiler/session/BenchModel.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <random>

#include "compiler/session/ModelPlan.h"
#include "compiler/session/StateStore.h"
#include "compiler/session/StepGraphs.h"
#include "runtime/support/Interrupt.h"

namespace nnc {

Result<BenchModel> compileForBench(const Model& model, bool profile) {
  interrupt::testPoint("compile");
  const training::TrainingPlan plan = trainingPlanFor(model);
  auto t0 = std::chrono::steady_clock::now();
  Result<StepGraphs> graphs = buildStepGraphs(model);
  if (!graphs) return graphs.error();
  BenchModel out;
  out.graphSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const bool trains = graphs->train.has_value();
  // Inference is the model's outputs (what `predict` computes); a model without outputs is
  // measured on its evaluation pass instead.
  const Graph& inference =
      graphs->predict.graph.outputs.empty() && graphs->eval ? graphs->eval->graph : graphs->predict.graph;
  CompileOptions co;
  co.useCache = false;  // a cache hit would time a lookup, not a compilation
  co.diskCache = false;
  co.profile = profile;
  auto compiled = jitCompile(inference, trains ? &graphs->train->graph : nullptr, co);
  if (!compiled) return compiled.error();
  auto init = StateStore::create(*graphs, plan.seed);
  if (!init) return init.error();
  for (const training::TensorSpec& spec : init->specs()) {
    std::span<float> dst = (*compiled)->tensor(spec.name);
    std::span<float> src = init->values(spec.name);
    if (dst.size() == src.size()) std::memcpy(dst.data(), src.data(), src.size_bytes());
  }
  out.code = std::move(*compiled);
  out.classes = numClassesOf(model);
  out.learningRate = float(plan.learningRate);
  return out;
}

SyntheticInputs::SyntheticInputs(const EntryInfo& entry, int64_t batch, int64_t numClasses, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  std::uniform_int_distribution<int32_t> label(0, int32_t(std::max<int64_t>(numClasses, 1) - 1));
  for (const TensorSpec& in : entry.inputs) {
    std::vector<uint32_t> words(std::max<size_t>(size_t(in.type.shape.numElements(batch)), 1));
    for (uint32_t& w : words) {
      if (in.type.dtype == DType::I32) {
        int32_t v = label(rng);
        std::memcpy(&w, &v, 4);
      } else {
        float v = unit(rng);
        std::memcpy(&w, &v, 4);
      }
    }
    buffers_.push_back(std::move(words));
  }
  for (const auto& b : buffers_) pointers_.push_back(b.data());
}

OutputBuffers::OutputBuffers(const EntryInfo& entry, int64_t batch) {
  for (const TensorSpec& out : entry.outputs)
    buffers_.emplace_back(std::max<size_t>(size_t(out.type.shape.numElements(batch)), 1));
  for (auto& b : buffers_) pointers_.push_back(b.data());
}

}  // namespace nnc
