#include "compiler/session/tune/TrialRunner.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "compiler/session/ClassWeights.h"
#include "compiler/session/JitExecutor.h"
#include "compiler/session/ModelPlan.h"
#include "runtime/training/Trainer.h"
#include "support/Stopwatch.h"

namespace nnc::tune {

namespace {
}  // namespace

double objectiveOf(const training::EpochStats& e, TuneObjective objective, bool& known) {
  const std::optional<double>& v = objective == TuneObjective::ValAccuracy ? e.valAccuracy : e.valLoss;
  known = v.has_value() && std::isfinite(*v);
  if (!known) return 0;
  return objective == TuneObjective::ValAccuracy ? *v : -*v;
}

Result<TrialOutcome> TrialRunner::run(Model trialModel, int64_t totalEpochs, const TrialOutcome* from) {
  Model* model = &trialModel;
  if (!model->train) return makeError("internal: a trial's model has no train block");
  model->runtimeDropoutRates = true;
  model->train->seed = settings_.seed;

  TrialOutcome out;
  auto t0 = std::chrono::steady_clock::now();
  ExecutorOptions eo;
  eo.threads = settings_.threads;
  eo.seed = settings_.seed;
  auto exec = JitExecutor::create(*model, eo);
  if (!exec) return exec.error();
  out.compileSeconds = secondsSince(t0);
  out.compiled = !(*exec)->compiled().times().cacheHit;

  training::TrainingPlan plan = trainingPlanFor(*model);
  int64_t firstEpoch = 0, firstStep = 0;
  if (from) {
    training::restoreState(**exec, from->state);
    firstEpoch = from->epochsDone;
    firstStep = from->stepsDone;
    out.history = from->history;
  }
  plan.epochs = totalEpochs;  // fit's epochs are the total: a promoted trial trains the remainder
  training::Split split = training::splitForValidation(data_.samples, plan.validation);
  NNC_TRY(applyClassWeights(plan, data_.arrays, split.trainCount, **exec));

  auto t1 = std::chrono::steady_clock::now();
  training::FitOptions fo;
  fo.interrupt = settings_.interrupt;
  fo.firstEpoch = firstEpoch;
  fo.firstStep = firstStep;
  Result<training::FitOutcome> fit = training::fit(**exec, plan, data_.arrays, fo);
  out.trainSeconds = secondsSince(t1);
  if (!fit) return fit.error();
  out.interrupted = fit->interrupted;
  out.epochsDone = fit->epochsDone;
  out.stepsDone = fit->stepsDone;
  for (const training::EpochStats& e : fit->history) out.history.push_back(e);

  // The kept epoch: the one early stopping restored, else the last.
  out.keptEpoch = fit->bestEpoch ? *fit->bestEpoch : out.epochsDone;
  for (const training::EpochStats& e : out.history)
    if (e.epoch == out.keptEpoch) {
      bool known = false;
      double v = objectiveOf(e, settings_.objective, known);
      if (known) out.score = settings_.objective == TuneObjective::ValAccuracy ? v : -v;
    }
  out.state = training::snapshotState(**exec);
  out.executor = std::move(*exec);
  return out;
}

}  // namespace nnc::tune
