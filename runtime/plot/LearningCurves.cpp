#include "runtime/plot/LearningCurves.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <nlohmann/json.hpp>

#include "runtime/support/ByteReader.h"

namespace nnc::plot {

namespace {

using Metric = std::optional<double> training::EpochStats::*;

// One curve of one run: the epochs where the metric is known.
Series curve(const Run& run, Metric metric, double training::EpochStats::*always, std::string name, int color,
             bool dashed) {
  Series s{std::move(name), {}, color, dashed};
  for (const training::EpochStats& e : run.epochs) {
    if (always) s.points.push_back({double(e.epoch), e.*always});
    else if (e.*metric) s.points.push_back({double(e.epoch), *(e.*metric)});
  }
  return s;
}

bool has(const Run& run, Metric metric) {
  for (const training::EpochStats& e : run.epochs)
    if (e.*metric) return true;
  return false;
}

bool anyEpochHas(const std::vector<Run>& runs, Metric metric) {
  return std::any_of(runs.begin(), runs.end(), [&](const Run& r) { return has(r, metric); });
}

std::string joinedModelNames(const std::vector<Run>& runs) {
  std::vector<std::string> names;
  for (const Run& r : runs)
    if (!r.model.empty() && std::find(names.begin(), names.end(), r.model) == names.end()) names.push_back(r.model);
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

Figure learningCurves(const std::vector<Run>& runs) {
  Figure fig;
  fig.title = joinedModelNames(runs);
  if (fig.title.empty()) fig.title = "learning curves";
  const bool several = runs.size() > 1;
  int64_t epochs = 0;
  for (const Run& r : runs) epochs = std::max<int64_t>(epochs, int64_t(r.epochs.size()));
  fig.subtitle = several ? "learning curves of " + std::to_string(runs.size()) + " runs"
                         : "learning curves, " + std::to_string(epochs) + (epochs == 1 ? " epoch" : " epochs");

  Panel loss{"loss", "epoch", "loss", {}, {}, true, {}, {}};
  Panel accuracy{"accuracy", "epoch", "accuracy", {}, {}, true, {}, {}};
  for (size_t i = 0; i < runs.size(); ++i) {
    const Run& r = runs[i];
    // One run: the familiar two colours. Several: a colour per run, validation dashed.
    const std::string prefix = several ? r.label + " " : "";
    const int trainColor = several ? int(i) : 0, valColor = several ? int(i) : 1;
    loss.series.push_back(curve(r, nullptr, &training::EpochStats::loss, prefix + "training", trainColor, false));
    accuracy.series.push_back(
        curve(r, &training::EpochStats::accuracy, nullptr, prefix + "training", trainColor, false));
    if (has(r, &training::EpochStats::valLoss) || has(r, &training::EpochStats::valAccuracy)) {
      loss.series.push_back(curve(r, &training::EpochStats::valLoss, nullptr, prefix + "validation", valColor, several));
      accuracy.series.push_back(
          curve(r, &training::EpochStats::valAccuracy, nullptr, prefix + "validation", valColor, several));
    }
    if (r.bestEpoch) {
      const std::string label = (several ? r.label + ": " : "") + "best epoch " + std::to_string(*r.bestEpoch) +
                                " (weights kept)";
      loss.markers.push_back({double(*r.bestEpoch), label});
      accuracy.markers.push_back({double(*r.bestEpoch), label});
    }
  }
  fig.panels.push_back(std::move(loss));
  if (anyEpochHas(runs, &training::EpochStats::accuracy) || anyEpochHas(runs, &training::EpochStats::valAccuracy))
    fig.panels.push_back(std::move(accuracy));
  else
    fig.width = 640;  // one panel: no need for the width of two
  return fig;
}

Result<Run> readTrainingLog(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return makeError(path + ": cannot open the log: " + io::systemError(errno));
  if (S_ISDIR(st.st_mode)) return makeError(path + ": cannot open the log: it is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) return makeError(path + ": cannot open the log: " + io::systemError(errno));

  Run run;
  std::string line;
  int64_t lineNo = 0;
  while (std::getline(in, line)) {
    ++lineNo;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    const std::string where = path + ":" + std::to_string(lineNo) + ": ";
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object())
      return makeError(where + "not a JSON object; a log written by 'train --log' has one object per line");
    training::EpochStats e;
    auto epoch = j.find("epoch");
    if (epoch == j.end() || !epoch->is_number_integer() || epoch->get<int64_t>() < 1)
      return makeError(where + "'epoch' is missing or not a positive integer");
    e.epoch = epoch->get<int64_t>();
    if (!run.epochs.empty() && e.epoch <= run.epochs.back().epoch)
      return makeError(where + "epoch " + std::to_string(e.epoch) + " comes after epoch " +
                       std::to_string(run.epochs.back().epoch) + "; the epochs of a log increase");
    auto loss = j.find("loss");
    if (loss == j.end() || !loss->is_number()) return makeError(where + "'loss' is missing or not a number");
    e.loss = loss->get<double>();
    for (auto [key, field] : {std::pair{"accuracy", &training::EpochStats::accuracy},
                              std::pair{"val_loss", &training::EpochStats::valLoss},
                              std::pair{"val_accuracy", &training::EpochStats::valAccuracy}}) {
      auto v = j.find(key);
      if (v == j.end() || v->is_null()) continue;
      if (!v->is_number()) return makeError(where + "'" + key + "' is not a number");
      e.*field = v->get<double>();
    }
    if (auto m = j.find("model"); m != j.end() && m->is_string() && run.model.empty()) run.model = m->get<std::string>();
    run.epochs.push_back(e);
  }
  if (in.bad()) return makeError(path + ": cannot read the log: " + io::systemError(errno));
  if (run.epochs.empty()) return makeError(path + ": the log holds no epochs (it is empty)");
  return run;
}

}  // namespace nnc::plot
