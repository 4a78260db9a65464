#pragma once
// Reads a model file and runs the front end, printing diagnostics to stderr.
#include <optional>
#include <string>

#include "compiler/ir/Model.h"

namespace nnc::driver {

struct LoadedModel {
  std::string path;
  std::string source;
  Model model;
};

// Prints `FILE: error: ...` or the model's diagnostics on failure. The tune block's names
// take the values of --set and --hparams (HyperparameterOptions.h), else their fallbacks.
std::optional<LoadedModel> loadModel(const std::string& path);

// The loaded file's model again, with these values for tune names (a trial of `nnc tune`).
// Prints the model's diagnostics on failure.
std::optional<Model> relowerModel(const LoadedModel& loaded, const HyperparameterValues& values);

// Prints an error that concerns a file or the model as a whole (no line/column).
void reportError(const std::string& where, const std::string& message);
// Prints an error at a position in the model file (caret diagnostics).
void reportModelError(const LoadedModel& m, const Error& err);

}  // namespace nnc::driver
