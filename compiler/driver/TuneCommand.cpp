// nnc FILE tune: hyperparameter search over the model's `tune` block (LANGUAGE.md).
//
// Trials run one after the other, each on every core (the executor's thread pool). Random
// search trains each drawn configuration to max_epochs. Hyperband (the default) runs the
// brackets of compiler/session/tune/Search.h: in each round the best 1/eta of the round
// before continue from their weights to the larger budget; every run of a configuration in
// a round is one trial, as in Keras Tuner. A line of the table per finished trial; the
// files in DIR are rewritten atomically after every trial, so Ctrl-C (or a crash) keeps
// every finished trial and the best so far.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "compiler/driver/Command.h"
#include "compiler/driver/HyperparameterOptions.h"
#include "compiler/driver/ModelLoader.h"
#include "compiler/session/DataFeed.h"
#include "compiler/session/ModelCheckpoint.h"
#include "compiler/session/ModelPlan.h"
#include "compiler/session/tune/Search.h"
#include "compiler/session/tune/TrialRunner.h"
#include "runtime/checkpoint/Safetensors.h"
#include "runtime/plot/SvgPlot.h"
#include "runtime/support/AtomicFile.h"
#include "runtime/training/Normalizer.h"
#include "runtime/training/Sampling.h"

namespace nnc::driver {
namespace {

// Kept local to this command for now: `train` has its own handler (the lead unifies them).
std::atomic<bool> gTuneInterrupted{false};
extern "C" void onTuneInterrupt(int) {
  gTuneInterrupted.store(true);
  std::signal(SIGINT, SIG_DFL);  // a second Ctrl-C ends the process at once
}

constexpr int64_t kHyperbandFactor = 3;  // eta, as Keras Tuner's default and the paper's example

std::string number(double v) {
  std::ostringstream s;
  s << std::setprecision(4) << v;
  return s.str();
}

Result<void> writeAtomically(const std::string& path, const std::string& text) {
  auto file = io::AtomicFile::create(path);
  if (!file) return file.error();
  NNC_TRY(file->write(text.data(), text.size()));
  return file->commit();
}

class TuneCommand : public Command {
 public:
  const char* name() const override { return "tune"; }
  const char* help() const override { return "Search the tune block's hyperparameters; keep the best model"; }
  void addOptions(CLI::App& sub) override {
    sub.add_option("--trials", trials_, "Trials to run (default: the tune block's trials, else 10)")
        ->check(CLI::Range(int64_t(1), int64_t(1000000)));
    sub.add_option("--strategy", strategy_, "hyperband (default) or random")
        ->check(CLI::IsMember({"hyperband", "random"}));
    sub.add_option("--max-epochs", maxEpochs_, "The largest number of epochs a trial trains (default: the tune "
                                               "block's max_epochs, else the train block's epochs)")
        ->check(CLI::Range(int64_t(1), int64_t(1000000)));
    sub.add_option("--out", out_, "Directory for trials.jsonl, best.json, best.safetensors (default tune-MODEL)");
    sub.add_option("--seed", seed_, "Seed of the search and of every trial's training (default: the train block's)");
    sub.add_option("--data", data_, "Data source (default fashion-mnist:train); scored on its validation split");
    sub.add_option("--threads", threads_, "Threads (default: every core)")->check(CLI::Range(1, 1024));
  }

  int run(const std::string& path) override {
    loaded_ = loadModel(path);
    if (!loaded_) return kExitError;
    const Model& model = loaded_->model;
    if (!model.tune) {
      reportError(path, "the model has no tune block: add tune { NAME = choice(...) ... } (docs/language.md)");
      return kExitError;
    }
    space_ = *model.tune;
    auto fixed = requestedHyperparameters();  // --set / --hparams names are not searched
    if (!fixed) return fail(fixed.error().message);
    fixed_ = *fixed;
    if (!trials_) trials_ = space_.trials;
    if (!maxEpochs_) maxEpochs_ = space_.maxEpochs ? space_.maxEpochs : model.train->epochs;
    if (!seed_) seed_ = model.train->seed;
    dir_ = out_ ? *out_ : "tune-" + model.name;

    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec || !std::filesystem::is_directory(dir_)) return fail("cannot create the output directory " + dir_);
    for (const char* f : {"trials.jsonl", "best.json", "best.safetensors", "trials.svg"})
      if (auto ok = ckpt::checkWritableDestination(dir_ + "/" + f); !ok) return fail(ok.error().message);

    // The data, loaded and normalised once (the default values' train block says how).
    auto feed = loadModelData(model, data_, data::Split::Train);
    if (!feed) return fail(feed.error().message);
    training::TrainingPlan plan = trainingPlanFor(model);
    training::Split split = training::splitForValidation(feed->samples, plan.validation);
    if (split.validationCount() == 0)
      return fail("the validation split of " + number(plan.validation) + " holds no samples of " +
                  std::to_string(feed->samples) + "; tune scores trials on it");
    normalization_ = training::computeNormalization(plan.normalization, plan.normalizeScale, feed->names,
                                                    feed->arrays, split.trainCount);
    normalizeModelData(*feed, normalization_);
    data_feed_ = std::move(*feed);

    tune::TrialSettings settings;
    settings.objective = space_.objective;
    settings.seed = *seed_;
    settings.threads = threads_.value_or(0);
    settings.interrupt = &gTuneInterrupted;
    runner_.emplace(data_feed_, settings);

    printHeader();
    auto start = std::chrono::steady_clock::now();
    std::signal(SIGINT, onTuneInterrupt);
    Result<void> searched = strategy_ == "random" ? randomSearch() : hyperband();
    std::signal(SIGINT, SIG_DFL);
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!searched) return fail(searched.error().message);
    printSummary(wall);
    if (interrupted_) {
      std::cout << "Interrupted: the " << done_ << " finished trials are kept in " << dir_ << "\n";
      return kExitError;
    }
    return done_ > 0 && best_ ? kExitOk : kExitError;
  }

 private:
  struct Candidate {
    HyperparameterValues values;
    std::optional<tune::TrialOutcome> last;  // the previous round's run
  };

  HyperparameterValues withFixed(HyperparameterValues v) const {
    for (const auto& [name, value] : fixed_) v[name] = value;
    return v;
  }

  bool finished() const { return interrupted_ || done_ >= *trials_; }

  Result<void> randomSearch() {
    tune::Random random(*seed_);
    while (!finished()) {
      Candidate c{tune::sampleAll(space_, random, fixed_), std::nullopt};
      NNC_TRY(runTrial(c, *maxEpochs_));
    }
    return {};
  }

  // Li et al. 2018, Algorithm 1, repeated until the trials are spent.
  Result<void> hyperband() {
    tune::Random random(*seed_);
    std::vector<tune::Bracket> brackets = tune::hyperbandBrackets(*maxEpochs_, kHyperbandFactor);
    while (!finished()) {
      for (const tune::Bracket& b : brackets) {
        std::vector<Candidate> round;
        for (int64_t i = 0; i < b.rounds.front().configs; ++i)
          round.push_back(Candidate{tune::sampleAll(space_, random, fixed_), std::nullopt});
        for (size_t r = 0; r < b.rounds.size() && !finished(); ++r) {
          if (r > 0) {
            // The best n_r of the round before continue (a failed trial ranks last).
            std::stable_sort(round.begin(), round.end(), [this](const Candidate& a, const Candidate& c) {
              return rank(a) > rank(c);
            });
            round.resize(size_t(std::min<int64_t>(b.rounds[r].configs, int64_t(round.size()))));
          }
          int64_t epochs = tune::epochsFor(b.rounds[r].resource, *maxEpochs_);
          for (Candidate& c : round) {
            if (finished()) break;
            NNC_TRY(runTrial(c, epochs));
          }
        }
        if (finished()) break;
      }
    }
    return {};
  }

  double rank(const Candidate& c) const {
    return c.last && c.last->score ? signedScore(*c.last->score) : -std::numeric_limits<double>::infinity();
  }

  Result<void> runTrial(Candidate& c, int64_t epochs) {
    int64_t id = done_ + 1;
    const tune::TrialOutcome* from = c.last ? &*c.last : nullptr;
    // A model that cannot be built stops the search (its diagnostics are printed); a trial
    // that fails while training (a diverging loss) is recorded as failed and the search goes on.
    std::optional<Model> model = relowerModel(*loaded_, withFixed(c.values));
    if (!model)
      return makeError("trial " + std::to_string(id) + " (" + valuesText(c.values) + ") does not make a valid model");
    Result<tune::TrialOutcome> r = runner_->run(std::move(*model), epochs, from);
    if (!r) {
      ++done_;
      ++failed_;
      printRow(id, c.values, std::nullopt, from ? from->epochsDone : 0, 0, "failed: " + r.error().message);
      NNC_TRY(record(id, c.values, nullptr, r.error().message));
      c.last.reset();
      return {};
    }
    tune::TrialOutcome& t = *r;
    if (t.interrupted) {
      interrupted_ = true;
      return {};
    }
    ++done_;
    compiled_ += t.compiled;
    compileSeconds_ += t.compileSeconds;
    trainSeconds_ += t.trainSeconds;
    epochsTrained_ += t.epochsDone - (from ? from->epochsDone : 0);
    bool better = t.score && (!best_ || signedScore(*t.score) > signedScore(best_->score));
    if (better) {
      best_ = Best{id, *t.score, t.keptEpoch, c.values};
      CheckpointInfo info;
      info.model = loaded_->model.name;
      info.optimizer = std::string(loaded_->model.train->optimizer.name());
      info.epochs = t.epochsDone;
      info.steps = t.stepsDone;
      info.normalization = normalization_;
      NNC_TRY(saveModelCheckpoint(dir_ + "/best.safetensors", *t.executor, info));
      NNC_TRY(writeAtomically(dir_ + "/best.json", bestJson().dump(2) + "\n"));
    }
    printRow(id, c.values, t.score, t.epochsDone, t.trainSeconds + t.compileSeconds, "");
    NNC_TRY(record(id, c.values, &t, ""));
    t.executor.reset();  // the next trial makes its own (sharing the compiled code)
    c.last = std::move(t);
    return {};
  }

  // Higher is better whatever the objective.
  double signedScore(double score) const { return space_.objective == TuneObjective::ValAccuracy ? score : -score; }
  const char* objectiveName() const { return space_.objective == TuneObjective::ValAccuracy ? "val_accuracy" : "val_loss"; }

  nlohmann::json valuesJson(const HyperparameterValues& values) const {
    nlohmann::json j = nlohmann::json::object();
    for (const Hyperparameter& h : space_.params) {
      double v = values.at(h.name);
      if (h.integral && v == std::floor(v)) j[h.name] = int64_t(v);
      else j[h.name] = v;
    }
    return j;
  }

  std::string valuesText(const HyperparameterValues& values) const {
    std::string s;
    for (const Hyperparameter& h : space_.params) s += (s.empty() ? "" : ", ") + h.name + " = " + number(values.at(h.name));
    return s;
  }

  nlohmann::json bestJson() const {
    nlohmann::json j;
    j["model"] = loaded_->model.name;
    j["objective"] = objectiveName();
    j["score"] = best_->score;
    j["trial"] = best_->trial;
    j["epochs"] = best_->epoch;
    j["values"] = valuesJson(best_->values);
    return j;
  }

  Result<void> record(int64_t id, const HyperparameterValues& values, const tune::TrialOutcome* t,
                      const std::string& error) {
    nlohmann::json j;
    j["trial"] = id;
    j["values"] = valuesJson(values);
    if (t) {
      j["score"] = t->score ? nlohmann::json(*t->score) : nlohmann::json(nullptr);
      j["epochs"] = t->epochsDone;
      j["kept_epoch"] = t->keptEpoch;
      j["seconds"] = t->trainSeconds + t->compileSeconds;
      j["compile_seconds"] = t->compileSeconds;
      j["compiled"] = t->compiled;
      nlohmann::json metrics = nlohmann::json::array();
      for (const training::EpochStats& e : t->history) {
        nlohmann::json m;
        m["epoch"] = e.epoch;
        m["loss"] = e.loss;
        if (e.accuracy) m["accuracy"] = *e.accuracy;
        if (e.valLoss) m["val_loss"] = *e.valLoss;
        if (e.valAccuracy) m["val_accuracy"] = *e.valAccuracy;
        m["seconds"] = e.seconds;
        metrics.push_back(m);
      }
      j["metrics"] = metrics;
      NNC_TRY(drawTrials(id, *t));
    } else {
      j["score"] = nullptr;
      j["error"] = error;
    }
    trialLines_ += j.dump() + "\n";
    return writeAtomically(dir_ + "/trials.jsonl", trialLines_);
  }

  // DIR/trials.svg: every trial's objective against its epochs (a promoted Hyperband trial
  // from its configuration's first epoch), the best trial's kept epoch marked; redrawn after
  // each trial, like trials.jsonl.
  Result<void> drawTrials(int64_t id, const tune::TrialOutcome& t) {
    plot::Series series{"trial " + std::to_string(id), {}};
    for (const training::EpochStats& e : t.history) {
      std::optional<double> v = space_.objective == TuneObjective::ValAccuracy ? e.valAccuracy : e.valLoss;
      if (v) series.points.push_back({double(e.epoch), *v});
    }
    trialSeries_.push_back(std::move(series));
    plot::Panel panel{objectiveName(), "epoch", objectiveName()};
    panel.integerX = true;
    panel.series = trialSeries_;
    if (best_) panel.markers.push_back({double(best_->epoch), "best: trial " + std::to_string(best_->trial)});
    plot::Figure figure{loaded_->model.name, "tune: " + std::to_string(trialSeries_.size()) + " trials", {panel}};
    return plot::writeSvg(dir_ + "/trials.svg", figure);
  }

  void printHeader() {
    std::cout << "Searching " << space_.params.size() << " hyperparameters with "
              << (strategy_ == "random" ? "random search" : "Hyperband (eta = 3)") << ": " << *trials_
              << " trials of at most " << *maxEpochs_ << " epochs, scored by " << objectiveName() << "\n";
    std::cout << std::left << std::setw(7) << "trial";
    for (const Hyperparameter& h : space_.params) std::cout << std::setw(std::max<int>(11, int(h.name.size()) + 2)) << h.name;
    std::cout << std::setw(14) << objectiveName() << std::setw(8) << "epochs" << std::setw(10) << "seconds"
              << "best\n"
              << std::flush;
  }

  void printRow(int64_t id, const HyperparameterValues& values, std::optional<double> score, int64_t epochs,
                double seconds, const std::string& note) {
    std::cout << std::left << std::setw(7) << id;
    for (const Hyperparameter& h : space_.params)
      std::cout << std::setw(std::max<int>(11, int(h.name.size()) + 2)) << number(values.at(h.name));
    std::ostringstream secs;
    secs << std::fixed << std::setprecision(1) << seconds;
    std::cout << std::setw(14) << (score ? number(*score) : "-") << std::setw(8) << epochs << std::setw(10)
              << secs.str() << (best_ ? number(best_->score) + " (trial " + std::to_string(best_->trial) + ")" : "-");
    if (!note.empty()) std::cout << "  " << note;
    std::cout << "\n" << std::flush;
  }

  void printSummary(double wall) {
    if (best_)
      std::cout << "Best: trial " << best_->trial << ", " << objectiveName() << " " << number(best_->score)
                << " at epoch " << best_->epoch << " (" << valuesText(best_->values) << ")\n";
    else
      std::cout << "No trial finished with a score.\n";
    std::ostringstream s;
    s << std::fixed << std::setprecision(2);
    s << "Compiled " << compiled_ << (compiled_ == 1 ? " model" : " models") << " for " << done_
      << " trials; compiling " << compileSeconds_ << " s, training " << trainSeconds_ << " s (" << epochsTrained_
      << " epochs), wall " << wall << " s";
    if (failed_) s << "; " << failed_ << " failed";
    std::cout << s.str() << "\nWrote " << dir_ << "/trials.jsonl" << (best_ ? ", best.json, best.safetensors" : "")
              << "\n";
  }

  struct Best {
    int64_t trial = 0;
    double score = 0;
    int64_t epoch = 0;
    HyperparameterValues values;
  };

  // Options.
  std::optional<int64_t> trials_, maxEpochs_;
  std::string strategy_ = "hyperband";
  std::optional<std::string> out_;
  std::optional<uint64_t> seed_;
  std::string data_ = "fashion-mnist:train";
  std::optional<int> threads_;

  // The search.
  std::optional<LoadedModel> loaded_;
  TuneSpace space_;
  HyperparameterValues fixed_;
  std::string dir_;
  ModelData data_feed_;
  std::vector<training::InputNormalization> normalization_;
  std::optional<tune::TrialRunner> runner_;
  std::optional<Best> best_;
  std::string trialLines_;
  std::vector<plot::Series> trialSeries_;  // trials.svg
  int64_t done_ = 0, failed_ = 0, compiled_ = 0, epochsTrained_ = 0;
  double compileSeconds_ = 0, trainSeconds_ = 0;
  bool interrupted_ = false;
};

}  // namespace
std::unique_ptr<Command> makeTuneCommand() { return std::make_unique<TuneCommand>(); }
}  // namespace nnc::driver
