#include <unistd.h>

#include <atomic>
#include <csignal>
#include <iostream>
#include <optional>

#include "compiler/driver/Command.h"
#include "compiler/driver/Limits.h"
#include "compiler/driver/ModelLoader.h"
#include "compiler/session/ClassWeights.h"
#include "compiler/session/DataFeed.h"
#include "compiler/session/Executors.h"
#include "compiler/session/ModelCheckpoint.h"
#include "compiler/session/ModelPlan.h"
#include "compiler/driver/DistributedTrain.h"
#include "runtime/checkpoint/Safetensors.h"
#include "runtime/training/Sampling.h"
#include "runtime/training/Trainer.h"

namespace nnc::driver {
namespace {

std::atomic<bool> gInterrupted{false};

extern "C" void onInterrupt(int) {
  gInterrupted.store(true);
  std::signal(SIGINT, SIG_DFL);  // a second Ctrl-C ends the process at once
}

class TrainCommand : public Command {
 public:
  const char* name() const override { return "train"; }
  const char* help() const override { return "Train the model on data; print progress per epoch"; }
  void addOptions(CLI::App& sub) override {
    sub.add_option("--data", data_, "Data source (default fashion-mnist:train): fashion-mnist[:train|:test], "
                                     "idx:IMAGES,LABELS, npy:NAME=FILE,..., csv:FILE");
    sub.add_option("--epochs", epochs_, "Number of epochs (default: the train block's)")->check(positiveNumber());
    sub.add_option("--batch", batch_, "Batch size (default: the train block's)")->check(positiveNumber());
    sub.add_option("--lr", lr_, "Learning rate (default: the optimizer's)")->check(positiveNumber());
    sub.add_option("--seed", seed_, "Seed of every random choice: initialisation, shuffling, dropout");
    sub.add_option("--threads", threads_, "Threads (default: every core)")->check(CLI::Range(1, 1024));
    sub.add_option("--init", init_, "Start from the weights and optimizer state of a checkpoint");
    sub.add_option("--save", save_, "Write the weights to this checkpoint at the end (safetensors)");
    sub.add_option("--log", log_, "Write one JSON object per epoch to this file");
    sub.add_flag("--no-shuffle", noShuffle_, "Visit the training samples in file order");
    sub.add_option("--backend", backend_, "jit (default) or interpreter (the slow reference)")
        ->check(CLI::IsMember({"jit", "interpreter"}));
  }

  int run(const std::string& path) override {
    // Under mpirun: join the job first, so that any later error ends every process.
    auto job = distributed::DataParallelJob::joinIfLaunched();
    if (!job) return fail(job.error().message);
    job_ = std::move(*job);
    auto loaded = loadModel(path);
    if (!loaded) return kExitError;
    Model& model = loaded->model;
    if (!model.train || model.train->loss == kNoNode) {
      reportError(path, "the model has no train block with a loss, so it cannot be trained");
      return kExitError;
    }
    // Overrides that shape the graphs (the dropout seed) go into the model first.
    if (seed_) model.train->seed = *seed_;
    if (lr_) model.train->optimizer.hyper["lr"] = *lr_;
    training::TrainingPlan plan = trainingPlanFor(model);
    if (epochs_) plan.epochs = *epochs_;
    if (batch_) plan.batch = *batch_;
    if (noShuffle_) plan.shuffle = false;

    // Fail before any work on what would otherwise fail after it.
    const bool root = !job_ || job_->isRoot();  // only the first process writes and prints
    if (save_ && root) {
      if (auto ok = ckpt::checkWritableDestination(*save_); !ok) return fail(ok.error().message);
    }
    std::optional<training::JsonLog> log;
    if (log_ && root) {
      auto opened = training::JsonLog::open(*log_);
      if (!opened) return fail(opened.error().message);
      log = std::move(*opened);
    }

    ExecutorOptions eo;
    eo.backend = *parseBackend(backend_);
    eo.threads = threads_.value_or(0);
    eo.seed = model.train->seed;
    eo.splitStep = job_ != nullptr;
    MemoryCheck memory(model);  // before the executor allocates the parameters
    if (auto ok = memory.atBatch(1); !ok) return fail(ok.error().message);
    auto exec = createExecutor(model, eo);
    if (!exec) return fail(exec.error().message);

    CheckpointInfo info;
    info.model = model.name;
    info.optimizer = model.train->optimizer.kind;
    if (init_) {
      auto restored = loadModelCheckpoint(*init_, **exec);
      if (!restored) return fail(restored.error().message);
      info.epochs = restored->epochs;
      info.steps = restored->steps;
      info.normalization = restored->normalization;
    }

    auto feed = loadModelData(model, data_, data::Split::Train);
    if (!feed) return fail(feed.error().message);
    training::Split split = training::splitForValidation(feed->samples, plan.validation);
    if (auto ok = memory.atBatch(std::min(plan.batch, std::max<int64_t>(split.trainCount, 1))); !ok)
      return fail(ok.error().message);
    if (!init_ || info.normalization.empty())
      info.normalization = training::computeNormalization(plan.normalization, plan.normalizeScale, feed->names,
                                                          feed->arrays, split.trainCount);
    normalizeModelData(*feed, info.normalization);
    if (auto ok = applyClassWeights(plan, feed->arrays, split.trainCount, **exec); !ok) return fail(ok.error().message);

    std::unique_ptr<distributed::DataParallelExecutor> parallel;
    if (job_) {
      auto p = joinDataParallel(*job_, model, plan, *feed, info, **exec, &gInterrupted);
      if (!p) return fail(p.error().message, /*everyProcess=*/true);
      parallel = std::move(*p);
    }
    training::Executor& trainer = parallel ? *parallel : **exec;
    bool interactive = !job_ && ::isatty(STDOUT_FILENO) != 0;  // mpirun's pty: plain lines
    training::ProgressReporter progress(std::cout, interactive, info.epochs + plan.epochs);
    training::FitOptions fo;
    fo.progress = root ? &progress : nullptr;
    fo.log = log ? &*log : nullptr;
    fo.interrupt = parallel ? &parallel->globalInterrupt() : &gInterrupted;
    fo.firstEpoch = info.epochs;
    fo.firstStep = info.steps;
    std::signal(SIGINT, onInterrupt);
    auto outcome = training::fit(trainer, plan, feed->arrays, fo);
    std::signal(SIGINT, SIG_DFL);
    if (parallel) reportStepTimes(*job_, *parallel);
    if (!outcome) return fail(outcome.error().message + (save_ ? " Nothing was saved." : ""));
    info.epochs = outcome->epochsDone;
    info.steps = outcome->stepsDone;
    if (save_ && root) {
      if (auto ok = saveModelCheckpoint(*save_, **exec, info); !ok) return fail(ok.error().message);
      if (outcome->interrupted)
        std::cout << "Interrupted: saved the weights of the last completed epoch (" << info.epochs << ") to " << *save_
                  << '\n';
    }
    if (outcome->interrupted) {
      if (!save_ && root) std::cout << "Interrupted after " << info.epochs << " completed epochs; nothing saved (no --save).\n";
      return kExitError;
    }
    return kExitOk;
  }

 private:
  // Under mpirun, an error of this process alone ends the whole job (DataParallelJob::fail).
  int fail(const std::string& message, bool everyProcess = false) {
    if (job_) return job_->fail(message, everyProcess);
    std::cerr << "nnc: error: " << message << '\n';
    return kExitError;
  }

  std::string data_ = "fashion-mnist:train";
  std::optional<int64_t> epochs_, batch_;
  std::optional<double> lr_;
  std::optional<uint64_t> seed_;
  std::optional<int> threads_;
  std::optional<std::string> init_, save_, log_;
  bool noShuffle_ = false;
  std::string backend_ = "jit";
  std::unique_ptr<distributed::DataParallelJob> job_;  // under mpirun
};

}  // namespace
std::unique_ptr<Command> makeTrainCommand() { return std::make_unique<TrainCommand>(); }
}  // namespace nnc::driver
