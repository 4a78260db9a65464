#pragma once
// Data-parallel training as an Executor the training loop drives unchanged (Trainer.cpp):
// every process gets the whole global batch from the loop, runs the gradient half of the
// step on its contiguous share of the rows, and the gradients (and batch-norm running
// statistics) are averaged across processes, each weighted by its share of the rows, before
// the optimizer update. The result equals one process's step on the whole batch up to the
// order of f32 sums. Losses and accuracy counts are summed, so every process sees the global
// batch's figures and takes the same decisions (NaN stop, validation, early stopping).
#include <atomic>
#include <cstdint>
#include <utility>

#include "runtime/distributed/Communicator.h"
#include "runtime/distributed/SplitStepExecutor.h"

namespace nnc::distributed {

// Rows [first, first + count) of a batch of `batch` rows for process `rank` of `size`.
std::pair<int64_t, int64_t> shareOf(int64_t batch, int rank, int size);

class DataParallelExecutor final : public training::Executor {
 public:
  // `localInterrupt` (may be null): this process's interrupt flag. The processes agree on
  // it once a step (an OR over processes); the loop must read globalInterrupt() instead.
  DataParallelExecutor(training::Executor& inner, SplitStepExecutor& split, Communicator& comm,
                       const std::atomic<bool>* localInterrupt = nullptr);

  const std::vector<training::TensorSpec>& inputs() const override { return inner_.inputs(); }
  const std::vector<training::TensorSpec>& stateTensors() const override { return inner_.stateTensors(); }
  std::span<float> state(const std::string& name) override { return inner_.state(name); }
  training::TensorSpec firstOutput() const override { return inner_.firstOutput(); }

  Result<training::BatchResult> trainStep(std::span<const void* const> inputs, int64_t batch, float lr,
                                          float step) override;
  // Each process evaluates its share; the loss and counts are summed (with wantPredicted,
  // every process evaluates the whole batch alone).
  Result<training::BatchResult> evaluate(std::span<const void* const> inputs, int64_t batch,
                                         bool wantPredicted) override;
  Result<void> predict(std::span<const void* const> inputs, int64_t batch, std::span<float> out) override {
    return inner_.predict(inputs, batch, out);
  }

  const std::atomic<bool>& globalInterrupt() const { return globalInterrupt_; }

  // Where this process's training steps spent their time (the scaling model's measurements).
  struct StepTimes {
    int64_t steps = 0;
    double computeSeconds = 0;  // gradient and update halves
    double reduceSeconds = 0;   // scaling and summing gradients, statistics and figures
  };
  const StepTimes& stepTimes() const { return times_; }
  // Bytes each process sends into the gradient sums per step (the scaling model's numerator).
  int64_t reducedBytesPerStep() const;

 private:
  std::vector<const void*> rowsFrom(std::span<const void* const> inputs, int64_t first) const;
  // Sums {loss * rows, correct, counted, interrupt} and returns the global batch's figures.
  Result<training::BatchResult> sumResults(const training::BatchResult& local, int64_t rows, int64_t batch);
  Result<void> averageTensors(std::vector<std::span<float>> tensors, float weight);

  training::Executor& inner_;
  SplitStepExecutor& split_;
  Communicator& comm_;
  const std::atomic<bool>* localInterrupt_;
  std::atomic<bool> globalInterrupt_{false};
  StepTimes times_;
};

}  // namespace nnc::distributed
