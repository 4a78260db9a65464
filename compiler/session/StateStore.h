#pragma once
// The persistent tensors of a model at work (parameters, running statistics, class weights,
// optimizer slots) as named host arrays, initialised from their initializers. Executors that
// keep their state on the host (the interpreter) use it directly; every executor uses its
// layout (names, shapes, order) for checkpoints.
#include <map>
#include <string>
#include <vector>

#include "compiler/session/StepGraphs.h"
#include "runtime/training/Executor.h"

namespace nnc {

class StateStore {
 public:
  // Every Param and State leaf of the graphs: parameters first, in the order they appear,
  // then the rest. Values from their initializers with `seed`. An embedding's gradient
  // buffer (EmbeddingGradBuffers.h) has values but no spec: it is scratch, not checkpointed.
  static Result<StateStore> create(const StepGraphs& graphs, uint64_t seed);

  const std::vector<training::TensorSpec>& specs() const { return specs_; }
  std::span<float> values(const std::string& name);
  bool has(const std::string& name) const { return values_.count(name) != 0; }

 private:
  std::vector<training::TensorSpec> specs_;
  std::map<std::string, std::vector<float>> values_;
};

}  // namespace nnc
