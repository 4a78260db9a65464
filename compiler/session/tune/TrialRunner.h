#pragma once
// One trial of `nnc tune`: the model built with the trial's values, trained on the training
// split and scored on the validation split by the objective. Trials whose models compile to
// the same code share it (CompiledModel's in-process cache, keyed by the code): learning
// rate, batch size, epochs and dropout rates (Model::runtimeDropoutRates) are inputs of the
// compiled step, so only values that change the architecture compile anew.
#include <atomic>
#include <memory>
#include <optional>
#include <vector>

#include "compiler/ir/Model.h"
#include "compiler/session/DataFeed.h"
#include "runtime/training/Executor.h"
#include "runtime/training/Progress.h"

namespace nnc::tune {

struct TrialOutcome {
  std::vector<training::EpochStats> history;  // every epoch from the first (earlier rounds too)
  int64_t epochsDone = 0;                      // epochs trained from the start
  int64_t stepsDone = 0;
  std::optional<double> score;  // the objective at the kept epoch (none: no validation metric)
  int64_t keptEpoch = 0;        // the last epoch, or the best one when early stopping kept it
  double trainSeconds = 0;      // this run's training
  double compileSeconds = 0;    // building and compiling (or fetching) its code
  bool compiled = false;        // its code was compiled, not shared with an earlier trial
  bool interrupted = false;
  std::vector<std::vector<float>> state;           // the weights at the end, to continue from
  std::unique_ptr<training::Executor> executor;    // holds those weights (to save the best)
};

struct TrialSettings {
  TuneObjective objective = TuneObjective::ValLoss;
  uint64_t seed = 0;
  int threads = 0;
  const std::atomic<bool>* interrupt = nullptr;
};

// Higher is better: accuracy as it is, loss negated.
double objectiveOf(const training::EpochStats& e, TuneObjective objective, bool& known);

class TrialRunner {
 public:
  TrialRunner(const ModelData& data, TrialSettings settings) : data_(data), settings_(settings) {}

  // Trains `model` (built with the trial's values) until `totalEpochs` epochs are done,
  // continuing `from` (an earlier round of the same values) when given.
  Result<TrialOutcome> run(Model model, int64_t totalEpochs, const TrialOutcome* from);

 private:
  const ModelData& data_;
  TrialSettings settings_;
};

}  // namespace nnc::tune
