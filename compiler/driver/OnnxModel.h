#pragma once
// ONNX models on the command line: `nnc FILE.onnx COMMAND`, the global `--const` option, and
// `predict` on every output (`--out DIR/`) with the file's declared element types.
#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "compiler/driver/ModelLoader.h"

namespace nnc::driver {

bool isOnnxPath(const std::string& path);

// --const NAME=FILE.npy[,NAME=FILE.npy...] (global: before or after the command).
void addConstOptions(CLI::App& app);
// Replaces the model's inputs bound with --const by constants (for .nn models; an ONNX model
// gets them at import, where shape arithmetic folds).
Result<void> bindConstInputs(Model& model);

// Imports FILE.onnx with the --const bindings; prints the error on failure.
std::optional<LoadedModel> loadOnnxModel(const std::string& path);

struct PredictRequest {
  std::string weights, data, out;
  int64_t batch = 256;
};
// `predict` through a compiled forward of every output: --out DIR/ writes DIR/NAME.npy per
// output, --out FILE.npy the first; ONNX outputs in their declared element types.
int predictAllOutputs(const LoadedModel& loaded, const PredictRequest& request);

}  // namespace nnc::driver
