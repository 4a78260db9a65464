#pragma once
// The training loop: epochs of shuffled (or oversampled) batches through an Executor, with
// the learning-rate schedule, validation after each epoch, early stopping that keeps the best
// weights, a stop on a NaN or infinite loss naming the epoch and step (and whether the batch
// held non-finite inputs), and a clean stop on an interrupt that keeps the last completed
// epoch's weights.
//
// Epochs are counted as Keras' `initial_epoch`: `plan.epochs` is the total, and a run that
// resumes after `firstEpoch` epochs trains epochs firstEpoch+1 .. plan.epochs (none when the
// checkpoint is already there). The schedule, the numbering and the shuffling all use the
// epoch's number in the whole run, so 1 + 2 epochs give the bits of 3 straight.
#include <atomic>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "runtime/data/Array.h"
#include "runtime/training/Executor.h"
#include "runtime/training/Normalizer.h"
#include "runtime/training/Progress.h"
#include "runtime/training/Sampling.h"
#include "runtime/training/TrainingPlan.h"

namespace nnc::training {

struct FitOptions {
  ProgressReporter* progress = nullptr;  // may be null (silent)
  JsonLog* log = nullptr;                // may be null
  const std::atomic<bool>* interrupt = nullptr;  // set by a signal handler to stop cleanly
  int64_t firstEpoch = 0;  // epochs already done (resuming from a checkpoint)
  int64_t firstStep = 0;   // optimizer steps already done
};

struct FitOutcome {
  std::vector<EpochStats> history;  // the epochs this run completed
  // The position of the weights the executor holds at the end, counting the epochs and
  // steps done before resuming: the last completed epoch, or under early stopping the best
  // one. A checkpoint's metadata says this, so that resuming from it continues from there.
  int64_t epochsDone = 0;
  int64_t stepsDone = 0;
  bool interrupted = false;
  bool stoppedEarly = false;
  std::optional<int64_t> bestEpoch;  // early stopping: the epoch (from 1) whose weights were kept
};

struct EvalSummary {
  double loss = 0;
  std::optional<double> accuracy;
  std::vector<int32_t> predicted;  // when asked for
  int64_t samples = 0;
};

// Samples [begin, end) of `arrays` (aligned with executor.inputs()), in batches.
Result<EvalSummary> evaluateRange(Executor& exec, const std::vector<data::Array>& arrays, int64_t begin, int64_t end,
                                  int64_t batch, bool wantPredicted);

// Copies the executor's state (parameters, state and optimizer slots), to restore later.
std::vector<std::vector<float>> snapshotState(Executor& exec);
void restoreState(Executor& exec, const std::vector<std::vector<float>>& snapshot);

// Trains on `arrays` (bound to the executor's inputs and already normalised) from epoch
// `options.firstEpoch` up to the total `plan.epochs`. The last `plan.validation` fraction of
// the samples validates. On an Error (NaN loss, executor failure) or an interrupt the
// executor holds the weights of the last completed epoch.
Result<FitOutcome> fit(Executor& exec, const TrainingPlan& plan, const std::vector<data::Array>& arrays,
                       const FitOptions& options);

}  // namespace nnc::training
