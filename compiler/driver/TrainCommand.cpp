#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <optional>

#include "compiler/driver/Command.h"
#include "compiler/driver/DistributedTrain.h"
#include "compiler/driver/Limits.h"
#include "compiler/driver/ModelLoader.h"
#include "compiler/driver/PlotCommand.h"
#include "compiler/session/ClassWeights.h"
#include "compiler/session/DataFeed.h"
#include "compiler/session/Executors.h"
#include "compiler/session/ModelCheckpoint.h"
#include "compiler/session/ModelPlan.h"
#include "runtime/checkpoint/Safetensors.h"
#include "runtime/support/Interrupt.h"
#include "runtime/training/Sampling.h"
#include "runtime/training/Trainer.h"

namespace nnc::driver {
namespace {

std::string epochsText(int64_t n) { return std::to_string(n) + (n == 1 ? " epoch" : " epochs"); }

bool sameFile(const std::string& a, const std::string& b) {
  std::error_code ec;
  return std::filesystem::equivalent(a, b, ec) && !ec;
}

class TrainCommand : public Command {
 public:
  const char* name() const override { return "train"; }
  const char* help() const override { return "Train the model on data; print progress per epoch"; }
  void addOptions(CLI::App& sub) override {
    sub.add_option("--data", data_, "Data source (default fashion-mnist:train): fashion-mnist[:train|:test], "
                                     "idx:IMAGES,LABELS, npy:NAME=FILE,..., csv:FILE");
    sub.add_option("--epochs", epochs_,
                   "Total number of epochs (default: the train block's); with --init, training goes on from the "
                   "checkpoint's epoch up to this total")
        ->check(positiveNumber());
    sub.add_option("--batch", batch_, "Batch size (default: the train block's)")->check(positiveNumber());
    sub.add_option("--lr", lr_, "Learning rate (default: the optimizer's)")->check(positiveNumber());
    sub.add_option("--seed", seed_, "Seed of every random choice: initialisation, shuffling, dropout")
        ->check(unsignedInteger());
    sub.add_option("--threads", threads_, "Threads (default: every core)")->check(CLI::Range(1, 1024));
    sub.add_option("--init", init_,
                   "Resume from the weights, optimizer state and epoch count of a checkpoint (the remaining epochs)");
    sub.add_option("--save", save_, "Write the weights to this checkpoint at the end (safetensors)");
    sub.add_option("--log", log_, "Write one JSON object per epoch to this file");
    sub.add_option("--plot", plot_, "Draw the learning curves (loss, accuracy per epoch) to this SVG file")
        ->check(svgPath());
    sub.add_flag("--no-shuffle", noShuffle_, "Visit the training samples in file order");
    sub.add_option("--backend", backend_, "jit (default) or interpreter (the slow reference)")
        ->check(CLI::IsMember({"jit", "interpreter"}));
  }

  int run(const std::string& path) override {
    // Under mpirun: join the job first, so that any later error ends every process.
    auto job = distributed::DataParallelJob::joinIfLaunched();
    if (!job) return fail(job.error().message);
    job_ = std::move(*job);
    const bool root = !job_ || job_->isRoot();  // only the first process writes and prints
    auto loaded = loadModel(path, /*showWarnings=*/root);
    if (!loaded) return kExitError;
    Model& model = loaded->model;
    if (!model.train || model.train->loss == kNoNode) {
      reportError(path, "the model has no train block with a loss, so it cannot be trained");
      return kExitError;
    }
    // Overrides that shape the graphs (the dropout seed) go into the model first.
    if (seed_) model.train->seed = *seed_;
    if (lr_) model.train->optimizer.setLr(*lr_);
    training::TrainingPlan plan = trainingPlanFor(model);
    if (epochs_) plan.epochs = *epochs_;
    if (batch_) plan.batch = *batch_;
    if (noShuffle_) plan.shuffle = false;

    // Fail before any work on what would otherwise fail after it.
    if (save_ && root) {
      if (auto ok = ckpt::checkWritableDestination(*save_); !ok) return fail(ok.error().message);
    }
    if (plot_ && root) {
      if (auto ok = io::checkWritableDestination(*plot_); !ok) return fail(ok.error().message);
    }
    std::optional<training::JsonLog> log;
    if (log_ && root) {
      auto opened = training::JsonLog::open(*log_, model.name);
      if (!opened) return fail(opened.error().message);
      log = std::move(*opened);
    }

    ExecutorOptions eo;
    eo.backend = *parseBackend(backend_);
    eo.threads = threads_.value_or(0);
    eo.seed = model.train->seed;
    eo.splitStep = job_ != nullptr;
    eo.splitBatch = plan.batch;
    eo.gradientFactors = gradientFactorsWanted();
    eo.profileKernels = job_ != nullptr && kernelProfileWanted();
    MemoryCheck memory(model);  // before the executor allocates the parameters
    if (auto ok = memory.atBatch(1); !ok) return fail(ok.error().message);
    auto exec = createExecutor(model, eo);
    if (!exec) return fail(exec.error().message);

    CheckpointInfo info;
    info.model = model.name;
    info.optimizer = std::string(model.train->optimizer.name());
    if (init_) {
      auto restored = loadModelCheckpoint(*init_, **exec);
      if (!restored) return fail(restored.error().message);
      info.epochs = restored->epochs;
      info.steps = restored->steps;
      info.normalization = restored->normalization;
    }
    // `epochs` is the total (Keras' initial_epoch): a checkpoint already there trains nothing.
    if (init_ && info.epochs >= plan.epochs) {
      std::cout << "'" << *init_ << "' already holds " << epochsText(info.epochs) << ", the total of " << plan.epochs
                << (epochs_ ? " that --epochs asks for" : " of the train block") << ": nothing to train"
                << (epochs_ ? "" : " (--epochs N trains up to a larger total)") << ".\n";
      if (save_ && root && !sameFile(*save_, *init_)) {
        if (auto ok = saveModelCheckpoint(*save_, **exec, info); !ok) return fail(ok.error().message);
        std::cout << "Saved its weights unchanged to " << *save_ << '\n';
      }
      return kExitOk;
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
      auto p = joinDataParallel(*job_, model, plan, *feed, info, **exec, &interrupt::flag());
      if (!p) return fail(p.error().message, /*everyProcess=*/true);
      parallel = std::move(*p);
    }
    training::Executor& trainer = parallel ? *parallel : **exec;
    interactive_ = !job_ && ::isatty(STDOUT_FILENO) != 0;  // mpirun's pty: plain lines
    training::ProgressReporter progress(std::cout, interactive_, plan.epochs);
    training::FitOptions fo;
    fo.progress = root ? &progress : nullptr;
    fo.log = log ? &*log : nullptr;
    // Under mpirun every process stops at the same step: the flag is reduced with the step.
    fo.interrupt = parallel ? &parallel->globalInterrupt() : &interrupt::flag();
    fo.firstEpoch = info.epochs;
    fo.firstStep = info.steps;
    // From here a first SIGINT or SIGTERM stops the loop at a step and keeps the last
    // completed epoch, which is then saved (Interrupt.h); before, it ends the run at once.
    interrupt::Deferral deferral;
    const CheckpointInfo start = info;
    auto outcome = training::fit(trainer, plan, feed->arrays, fo);
    if (parallel) reportStepTimes(*job_, *parallel);
    if (!outcome)
      return fail(save_ ? endSentence(outcome.error().message) + " Nothing was saved." : outcome.error().message);
    info.epochs = outcome->epochsDone;
    info.steps = outcome->stepsDone;
    // The curves of the completed epochs are drawn even when a signal stopped the run.
    const bool plotted = !plot_ || !root || plotTrainingRun(*plot_, model.name, *outcome, std::cout);
    // A signal after the loop's last check (during the last validation) still counts.
    if (outcome->interrupted || interrupt::requested())
      return root ? reportInterrupt(*outcome, start, info, **exec) : kExitError;
    if (save_ && root) {
      if (auto ok = saveModelCheckpoint(*save_, **exec, info); !ok) return fail(ok.error().message);
    }
    return plotted ? kExitOk : kExitError;
  }

 private:
  // Under mpirun, an error of this process alone ends the whole job (DataParallelJob::fail).
  int fail(const std::string& message, bool everyProcess = false) {
    if (job_) return job_->fail(message, everyProcess);
    return driver::fail(message);
  }

  // After SIGINT or SIGTERM: save the last completed epoch, unless that would replace a file
  // with weights older than those it holds (this run completed no epoch, or the file holds
  // more training), and say what happened. Exit 1: the run did not finish.
  int reportInterrupt(const training::FitOutcome& outcome, const CheckpointInfo& start, const CheckpointInfo& done,
                      training::Executor& exec) {
    if (interactive_) std::cout << '\n' << std::flush;  // below the progress bar
    const std::string what = std::string("nnc: interrupted by ") + interrupt::signalName();
    if (outcome.history.empty()) {
      std::cerr << what << " during epoch " << start.epochs + 1 << ", before any epoch of this run completed: nothing "
                << "saved" << (save_ ? " ('" + *save_ + "' is unchanged)" : "") << ".\n";
      return kExitError;
    }
    if (!save_) {
      std::cerr << what << " after epoch " << done.epochs << " (" << outcome.history.size()
                << " completed in this run): nothing saved (no --save).\n";
      return kExitError;
    }
    if (auto held = readCheckpointInfo(*save_); held && held->model == done.model && held->steps >= done.steps) {
      std::cerr << what << ": '" << *save_ << "' already holds " << epochsText(held->epochs) << " (" << held->steps
                << " steps), no less training than this run's last completed epoch " << done.epochs << " ("
                << done.steps << " steps): left it unchanged, nothing saved.\n";
      return kExitError;
    }
    if (auto ok = saveModelCheckpoint(*save_, exec, done); !ok) return fail(ok.error().message);
    std::cerr << what << ": saved the weights of the last completed epoch (" << done.epochs << ", step "
              << done.steps << ") to " << *save_ << ".\n";
    return kExitError;
  }

  bool interactive_ = false;

  std::string data_ = "fashion-mnist:train";
  std::optional<int64_t> epochs_, batch_;
  std::optional<double> lr_;
  std::optional<uint64_t> seed_;
  std::optional<int> threads_;
  std::optional<std::string> init_, save_, log_, plot_;
  bool noShuffle_ = false;
  std::string backend_ = "jit";
  std::unique_ptr<distributed::DataParallelJob> job_;  // under mpirun
};

}  // namespace
std::unique_ptr<Command> makeTrainCommand() { return std::make_unique<TrainCommand>(); }
}  // namespace nnc::driver
