#include "compiler/driver/HyperparameterOptions.h"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/Suggest.h"

namespace nnc::driver {

HyperparameterOptions& hyperparameterOptions() {
  static HyperparameterOptions options;
  return options;
}

void addHyperparameterOptions(CLI::App& app) {
  auto* group = app.add_option_group("Hyperparameters", "Values for the model's tune block, for any command");
  HyperparameterOptions& o = hyperparameterOptions();
  group->add_option("--set", o.sets, "Give a tune name a value: --set NAME=VALUE (repeatable)")
      ->type_name("NAME=VALUE")
      ->take_all()
      ->allow_extra_args(false);
  group->add_option("--hparams", o.hparamsFile, "Take tune names' values from a best.json that `nnc tune` wrote")
      ->type_name("FILE.json");
}

Result<HyperparameterValues> readHyperparameterFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return makeError(path + ": cannot open the hyperparameter file (--hparams)");
  nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return makeError(path + ": not a JSON object; --hparams takes the best.json that `nnc tune` writes");
  const nlohmann::json& values = j.contains("values") ? j["values"] : j;
  if (!values.is_object()) return makeError(path + ": \"values\" must be an object of numbers");
  HyperparameterValues out;
  for (auto it = values.begin(); it != values.end(); ++it) {
    if (!it.value().is_number() || !std::isfinite(it.value().get<double>()))
      return makeError(path + ": the value of '" + it.key() + "' must be a finite number");
    out[it.key()] = it.value().get<double>();
  }
  return out;
}

Result<HyperparameterValues> requestedHyperparameters() {
  const HyperparameterOptions& o = hyperparameterOptions();
  HyperparameterValues out;
  if (!o.hparamsFile.empty()) {
    auto file = readHyperparameterFile(o.hparamsFile);
    if (!file) return file.error();
    out = std::move(*file);
  }
  for (const std::string& s : o.sets) {
    size_t eq = s.find('=');
    std::string name = s.substr(0, eq == std::string::npos ? s.size() : eq);
    if (eq == std::string::npos || name.empty())
      return makeError("--set takes NAME=VALUE, got '" + s + "'");
    std::string text = s.substr(eq + 1);
    char* end = nullptr;
    double v = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v))
      return makeError("--set " + name + ": '" + text + "' is not a number");
    out[name] = v;
  }
  return out;
}

Result<void> checkRequestedNames(const Model& model, const HyperparameterValues& values) {
  std::vector<std::string> names;
  if (model.tune)
    for (const Hyperparameter& h : model.tune->params) names.push_back(h.name);
  for (const auto& [name, value] : values) {
    if (model.tune && model.tune->find(name)) continue;
    if (!model.tune)
      return makeError("'" + name + "' (--set or --hparams) is not a hyperparameter: the model has no tune block");
    return makeError("'" + name + "' (--set or --hparams) is not a name of the tune block" + didYouMean(name, names));
  }
  return {};
}

}  // namespace nnc::driver
