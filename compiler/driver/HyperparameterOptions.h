#pragma once
// `--set NAME=VALUE` (repeatable) and `--hparams FILE.json`: values for the names of a model's
// `tune` block, for every command that loads a model (global options, like the limits).
// `--hparams` reads the `best.json` that `nnc tune` writes (its "values" object) or a flat
// object of numbers; `--set` wins over it. loadModel() applies them.
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "compiler/ir/Model.h"
#include "support/Result.h"

namespace nnc::driver {

struct HyperparameterOptions {
  std::vector<std::string> sets;  // NAME=VALUE as given
  std::string hparamsFile;
};

HyperparameterOptions& hyperparameterOptions();
void addHyperparameterOptions(CLI::App& app);

// The values the options give (an error names the bad option or file).
Result<HyperparameterValues> requestedHyperparameters();

// Every requested name must be a name of the model's tune block.
Result<void> checkRequestedNames(const Model& model, const HyperparameterValues& values);

// Reads a best.json (or a flat object of numbers) into values.
Result<HyperparameterValues> readHyperparameterFile(const std::string& path);

}  // namespace nnc::driver
