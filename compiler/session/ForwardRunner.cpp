#include "compiler/session/ForwardRunner.h"

#include <cstring>

#include "compiler/session/StateStore.h"
#include "compiler/session/StepGraphs.h"

namespace nnc {

Result<std::unique_ptr<ForwardRunner>> ForwardRunner::create(const Model& model, const CompileOptions& options,
                                                             uint64_t seed) {
  Model forward = model;
  forward.train.reset();  // inference only: no loss, no training step
  Result<StepGraphs> graphs = buildStepGraphs(forward);
  if (!graphs) return graphs.error();
  auto compiled = jitCompile(graphs->predict.graph, nullptr, options);
  if (!compiled) return compiled.error();
  std::unique_ptr<ForwardRunner> r(new ForwardRunner());
  r->compiled_ = std::move(*compiled);
  Result<StateStore> init = StateStore::create(*graphs, seed);
  if (!init) return init.error();
  for (const training::TensorSpec& spec : init->specs()) {
    std::span<float> dst = r->compiled_->tensor(spec.name);
    std::span<float> src = init->values(spec.name);
    if (dst.size() == src.size() && !dst.empty()) std::memcpy(dst.data(), src.data(), src.size_bytes());
  }
  return r;
}

}  // namespace nnc
