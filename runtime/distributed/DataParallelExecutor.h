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
#include <memory>
#include <string>
#include <utility>

#include "runtime/distributed/Communicator.h"
#include "runtime/distributed/OverlappedReduction.h"
#include "runtime/distributed/SplitStepExecutor.h"
#include "runtime/profile/KernelProfile.h"

namespace nnc::distributed {

// Rows [first, first + count) of a batch of `batch` rows for process `rank` of `size`.
std::pair<int64_t, int64_t> shareOf(int64_t batch, int rank, int size);

// Whether gradients are reduced by a thread of their own while the backward pass computes
// (OverlappedReduction.h) or after it: On, Off, or chosen from the bytes a step reduces
// (overlapPays). On needs a communicator that allows a thread of its own.
enum class OverlapMode { Automatic, On, Off };

// The fewest bytes reduced per step for which the reduction thread pays (Automatic mode).
// Overlap hides at most the reduction of the buckets complete before the backward pass ends,
// about bytes / bandwidth (1 GB/s over loopback TCP: 1 ms a MB), and costs, every step, two
// hand-overs between threads and a polling thread beside the compute, which takes processor
// time from the compute on a machine whose cores all compute. Measured on 2-core Zen 3 with fashion_cnn,
// 2 processes x 1 thread over TCP (docs/distributed.md, "Choosing overlap"): at 253 KB a step
// (sufficient factors) reducing after the backward pass was faster; at 13.1 MB (no factors)
// overlap was.
inline constexpr int64_t kOverlapMinBytes = int64_t(4) << 20;
inline bool overlapPays(int64_t reducedBytesPerStep) { return reducedBytesPerStep >= kOverlapMinBytes; }

struct DataParallelOptions {
  OverlapMode overlap = OverlapMode::Automatic;
  // The most bytes one collective sums (Horovod's fusion buffer, DDP's bucket_cap_mb). Small
  // enough that a model's last layers make buckets of their own, complete early in the
  // backward pass (fashion_cnn: output layer, dense layer, convolutions); large enough that
  // a collective's latency (tens of microseconds) is nothing against its transfer (4 ms at
  // 1 GB/s). A larger tensor is one bucket, summed in pieces of this size.
  int64_t bucketBytes = int64_t(4) << 20;
  // Time each kernel of the two entries (a profiling build's, ExecutorOptions::profileKernels;
  // NNC_MPI_PROFILE=kernels): where a process's compute goes, entry by entry.
  bool profileKernels = false;
};

class DataParallelExecutor final : public training::Executor {
 public:
  // `localInterrupt` (may be null): this process's interrupt flag. The processes agree on
  // it once a step (an OR over processes); the loop must read globalInterrupt() instead.
  DataParallelExecutor(training::Executor& inner, SplitStepExecutor& split, Communicator& comm,
                       const std::atomic<bool>* localInterrupt = nullptr, DataParallelOptions options = {});

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
    double updateSeconds = 0;   // of which the update half (with the factored gradients' products)
    double reduceSeconds = 0;   // waiting for sums after the gradient half: what overlap did not hide
                                // (and gathering gradient factors)
    int64_t factorBytes = 0;    // this process's rows of gradient factors, sent to the others
  };
  const StepTimes& stepTimes() const { return times_; }
  // With DataParallelOptions::profileKernels: seconds per kernel of the gradient entry and
  // of the update entry, summed over the steps (SplitStepExecutor::kernelLabels names them).
  const profile::KernelTimes& gradientKernels() const { return gradientKernels_; }
  const profile::KernelTimes& updateKernels() const { return updateKernels_; }
  std::vector<std::string> kernelLabels(bool updateEntry) const { return split_.kernelLabels(updateEntry); }
  // With overlap: the buckets and how many were reduced while the backward pass computed.
  const OverlappedReduction* overlap() const { return overlap_.get(); }
  // Why there is no overlap (empty with overlap): for NNC_MPI_PROFILE.
  const std::string& overlapOffReason() const { return overlapOffReason_; }
  // Bytes each process sends into the gradient sums per step (the scaling model's numerator;
  // gradient factors are counted apart, in StepTimes::factorBytes).
  int64_t reducedBytesPerStep() const;
  size_t factorCount() const { return factors_.size(); }

 private:
  std::vector<const void*> rowsFrom(std::span<const void* const> inputs, int64_t first) const;
  // {loss * rows, correct, counted, interrupt}: summed over processes, the global batch's.
  void localFigures(const training::BatchResult& local, int64_t rows, double figures[4]) const;
  training::BatchResult globalResult(const double figures[4], int64_t batch);
  // Scales the tensors by `weight` and starts summing them (Communicator::finish ends it).
  Result<void> averageTensors(std::vector<std::span<float>> tensors, float weight);
  // Starts gathering every process's rows of the gradient factors (SplitStepExecutor::factors),
  // in global row order, this process's weighted ones scaled by `weight`.
  Result<void> gatherFactors(int64_t batch, int64_t rows, float weight);
  Result<training::BatchResult> gradientHalf(std::span<const void* const> inputs, int64_t batch, float lr, float step,
                                             int64_t first, int64_t rows);

  training::Executor& inner_;
  SplitStepExecutor& split_;
  Communicator& comm_;
  const std::atomic<bool>* localInterrupt_;
  std::atomic<bool> globalInterrupt_{false};
  DataParallelOptions options_;
  std::unique_ptr<OverlappedReduction> overlap_;
  std::string overlapOffReason_;
  StepTimes times_;
  std::vector<GradientFactor> factors_;
  std::vector<std::vector<float>> gathered_;  // per factor: the global batch's rows
  double lastEntrySeconds_ = 0;
  profile::KernelTimes gradientKernels_, updateKernels_;
};

}  // namespace nnc::distributed
