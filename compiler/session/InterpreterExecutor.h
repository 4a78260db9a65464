#pragma once
// An Executor that runs the step graphs through the reference interpreter in f32: slow, and
// exactly the semantics compiled code must match. Used by tests, and by the command line
// when asked (`--backend interpreter`).
#include <map>
#include <memory>

#include "compiler/interp/Interpreter.h"
#include "compiler/session/StateStore.h"
#include "compiler/session/StepGraphs.h"
#include "runtime/training/Executor.h"

namespace nnc {

class InterpreterExecutor : public training::Executor {
 public:
  static Result<std::unique_ptr<InterpreterExecutor>> create(const Model& model, uint64_t seed);

  const std::vector<training::TensorSpec>& inputs() const override { return inputs_; }
  const std::vector<training::TensorSpec>& stateTensors() const override { return state_.specs(); }
  std::span<float> state(const std::string& name) override { return state_.values(name); }
  training::TensorSpec firstOutput() const override { return firstOutput_; }

  Result<training::BatchResult> trainStep(std::span<const void* const> inputs, int64_t batch, float lr,
                                          float step) override;
  Result<training::BatchResult> evaluate(std::span<const void* const> inputs, int64_t batch,
                                         bool wantPredicted) override;
  Result<void> predict(std::span<const void* const> inputs, int64_t batch, std::span<float> out) override;

 private:
  InterpreterExecutor() = default;
  Result<LeafValues> bind(const Graph& g, std::span<const void* const> inputs, int64_t batch, float lr, float step);
  training::BatchResult score(double loss, const Tensor* prediction, std::span<const void* const> inputs,
                              int64_t batch, bool wantPredicted) const;

  StepGraphs graphs_;
  StateStore state_;
  std::vector<training::TensorSpec> inputs_;
  training::TensorSpec firstOutput_;
  int labelInput_ = -1;
  std::map<std::string, float> dropoutRates_;  // Model::runtimeDropoutRates: the Hyper leaves' values
};

}  // namespace nnc
