#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "compiler/driver/Command.h"
#include "compiler/driver/Limits.h"
#include "compiler/driver/ModelLoader.h"
#include "compiler/session/DataFeed.h"
#include "compiler/session/Executors.h"
#include "compiler/session/ModelCheckpoint.h"
#include "compiler/session/ModelPlan.h"
#include "runtime/training/Metrics.h"
#include "runtime/training/Trainer.h"

namespace nnc::driver {
namespace {

class EvalCommand : public Command {
 public:
  const char* name() const override { return "eval"; }
  const char* help() const override {
    return "Loss, accuracy, per-class precision and recall, and the confusion matrix of saved weights on data";
  }
  void addOptions(CLI::App& sub) override {
    sub.add_option("--weights", weights_, "The checkpoint to evaluate")->required();
    sub.add_option("--data", data_, "Data source (default fashion-mnist:test)");
    sub.add_flag("--json", json_, "Print one JSON object with loss and accuracy (and the per-class figures)");
    sub.add_option("--batch", batch_, "Evaluation batch size")->check(positiveNumber());
    sub.add_option("--threads", threads_, "Threads (default: every core)")->check(CLI::Range(1, 1024));
    sub.add_option("--backend", backend_, "jit (default) or interpreter")->check(CLI::IsMember({"jit", "interpreter"}));
  }

  int run(const std::string& path) override {
    auto loaded = loadModel(path);
    if (!loaded) return kExitError;
    const Model& model = loaded->model;
    if (!model.train || model.train->loss == kNoNode) {
      reportError(path, "the model has no loss to evaluate (eval needs a train block with a loss)");
      return kExitError;
    }
    ExecutorOptions eo;
    eo.backend = *parseBackend(backend_);
    eo.threads = threads_.value_or(0);
    MemoryCheck memory(model);  // before the executor allocates the parameters
    if (auto ok = memory.atBatch(1); !ok) return fail(ok.error().message);
    auto exec = createExecutor(model, eo);
    if (!exec) return fail(exec.error().message);
    auto info = loadModelCheckpoint(weights_, **exec);
    if (!info) return fail(info.error().message);
    auto feed = loadModelData(model, data_, data::Split::Test);
    if (!feed) return fail(feed.error().message);
    normalizeModelData(*feed, info->normalization);
    training::TrainingPlan plan = trainingPlanFor(model);
    int64_t batch = batch_.value_or(std::max<int64_t>(plan.batch, 256));
    if (auto ok = memory.atBatch(std::min(batch, std::max<int64_t>(feed->samples, 1))); !ok)
      return fail(ok.error().message);
    bool categorical = plan.accuracy == training::Accuracy::Categorical && plan.numClasses > 0;
    auto summary = training::evaluateRange(**exec, feed->arrays, 0, feed->samples, batch, categorical);
    if (!summary) return fail(summary.error().message);

    std::optional<training::ConfusionMatrix> cm;
    if (categorical) {
      cm.emplace(plan.numClasses);
      auto labels = feed->arrays[size_t(plan.labelInput)].i32();
      for (size_t i = 0; i < summary->predicted.size() && i < labels.size(); ++i) cm->add(labels[i], summary->predicted[i]);
    }
    if (json_) {
      nlohmann::json j;
      j["loss"] = summary->loss;
      j["accuracy"] = summary->accuracy ? nlohmann::json(*summary->accuracy) : nlohmann::json(nullptr);
      j["samples"] = summary->samples;
      if (cm) {
        nlohmann::json classes = nlohmann::json::array(), matrix = nlohmann::json::array();
        for (int64_t c = 0; c < cm->classes(); ++c) {
          classes.push_back({{"class", c}, {"precision", cm->precision(c)}, {"recall", cm->recall(c)}, {"support", cm->support(c)}});
          nlohmann::json row = nlohmann::json::array();
          for (int64_t p = 0; p < cm->classes(); ++p) row.push_back(cm->at(c, p));
          matrix.push_back(row);
        }
        j["per_class"] = classes;
        j["confusion_matrix"] = matrix;
      }
      std::cout << j.dump() << '\n';
      return kExitOk;
    }
    char line[128];
    std::snprintf(line, sizeof line, "loss: %.4f", summary->loss);
    std::cout << feed->description << ": " << summary->samples << " samples\n" << line;
    if (summary->accuracy) {
      std::snprintf(line, sizeof line, " - accuracy: %.4f", *summary->accuracy);
      std::cout << line;
    }
    std::cout << '\n';
    if (cm) {
      std::cout << "\nclass  precision  recall  support\n";
      for (int64_t c = 0; c < cm->classes(); ++c) {
        std::snprintf(line, sizeof line, "%5lld  %9.4f  %6.4f  %7lld\n", static_cast<long long>(c), cm->precision(c),
                      cm->recall(c), static_cast<long long>(cm->support(c)));
        std::cout << line;
      }
      std::cout << '\n';
      cm->print(std::cout);
    }
    return kExitOk;
  }

 private:
  std::string weights_, data_ = "fashion-mnist:test", backend_ = "jit";
  bool json_ = false;
  std::optional<int64_t> batch_;
  std::optional<int> threads_;
};

}  // namespace
std::unique_ptr<Command> makeEvalCommand() { return std::make_unique<EvalCommand>(); }
}  // namespace nnc::driver
