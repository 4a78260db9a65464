#pragma once
// An Executor that runs the step graphs as native code compiled by LLVM (compiler/codegen).
// The inference entry is the evaluation graph (loss and prediction in inference mode) when the
// model has a loss, so one compiled model with one state buffer serves train, eval and
// predict; predicting without labels feeds zeros for them (their loss is discarded).
#include <memory>

#include "compiler/codegen/CompiledModel.h"
#include "compiler/session/Executors.h"
#include "compiler/session/StepGraphs.h"
#include "runtime/distributed/SplitStepExecutor.h"
#include "runtime/training/Executor.h"

namespace nnc {

// With ExecutorOptions::splitStep the training step is compiled in two entries (gradients,
// update) and trainStep runs both; data-parallel training runs them apart.
class JitExecutor : public training::Executor, public distributed::SplitStepExecutor {
 public:
  static Result<std::unique_ptr<JitExecutor>> create(const Model& model, const ExecutorOptions& options);

  const std::vector<training::TensorSpec>& inputs() const override { return inputs_; }
  const std::vector<training::TensorSpec>& stateTensors() const override { return state_; }
  std::span<float> state(const std::string& name) override { return compiled_->tensor(name); }
  training::TensorSpec firstOutput() const override { return firstOutput_; }

  Result<training::BatchResult> trainStep(std::span<const void* const> inputs, int64_t batch, float lr,
                                          float step) override;
  Result<training::BatchResult> evaluate(std::span<const void* const> inputs, int64_t batch,
                                         bool wantPredicted) override;
  Result<void> predict(std::span<const void* const> inputs, int64_t batch, std::span<float> out) override;

  Result<training::BatchResult> gradientStep(std::span<const void* const> inputs, int64_t batch, float lr, float step,
                                             int64_t firstRow) override;
  Result<void> updateStep(float lr, float step, std::span<const float* const> factors = {},
                          int64_t batch = 0) override;
  std::vector<distributed::GradientFactor> factors() const override { return factors_; }
  std::span<const float> localFactor(size_t i) override;
  bool isSplit() const override { return split_; }
  std::vector<std::span<float>> gradients() override { return spans(gradientNames_); }
  std::vector<std::span<float>> statistics() override { return spans(statisticNames_); }
  std::vector<std::string> kernelLabels(bool updateEntry) const override;

  const CompiledModel& compiled() const { return *compiled_; }

 private:
  JitExecutor() = default;
  // Inputs in the entry's order, with zeros standing in for inputs not given.
  std::vector<const void*> entryInputs(const EntryInfo& entry, std::span<const void* const> inputs, int64_t batch);
  Result<void> runInference(std::span<const void* const> inputs, int64_t batch);
  std::vector<std::span<float>> spans(const std::vector<std::string>& names);
  // The compiled training entry: the whole step, or the gradient half of a split one.
  Result<training::BatchResult> runTrainEntry(std::span<const void* const> inputs, int64_t batch, float lr, float step,
                                              int64_t firstRow);

  std::unique_ptr<CompiledModel> compiled_;
  std::vector<training::TensorSpec> inputs_, state_;
  training::TensorSpec firstOutput_;
  int labelInput_ = -1;
  // Output slots of the entries.
  int trainPrediction_ = -1, evalLoss_ = -1, evalPrediction_ = -1, firstOutputIndex_ = -1;
  std::vector<std::vector<char>> trainOut_, evalOut_;
  std::vector<char> zeros_;
  bool split_ = false;
  std::vector<std::string> gradientNames_, statisticNames_;
  // Gradients the update entry computes from factors: each factor's output slot in the
  // training entry and input slot in the update entry.
  std::vector<distributed::GradientFactor> factors_;
  std::vector<int> factorOutput_, factorInput_;
  int64_t lastTrainBatch_ = 0;
};

}  // namespace nnc
