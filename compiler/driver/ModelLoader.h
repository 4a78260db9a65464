#pragma once
// Reads a model file and runs the front end, printing diagnostics to stderr.
#include <optional>
#include <string>

#include "compiler/ir/Model.h"
#include "compiler/onnx/OnnxImport.h"

namespace nnc::driver {

struct LoadedModel {
  std::string path;
  std::string source;
  Model model;
  // An imported ONNX model's boundary: the declared element types of its inputs and outputs.
  bool onnx = false;
  std::vector<onnximport::BoundaryValue> onnxInputs, onnxOutputs;
};

// Prints `FILE: error: ...` or the model's diagnostics on failure. Warnings (a legal model
// that is probably a mistake) are printed when `showWarnings`: by `check` and `train`, where
// the model is being written, not by every command that runs it afterwards. The tune block's
// names take the values of --set and --hparams (HyperparameterOptions.h), else their fallbacks.
std::optional<LoadedModel> loadModel(const std::string& path, bool showWarnings = false);

// The loaded file's model again, with these values for tune names (a trial of `nnc tune`).
// Prints the model's diagnostics on failure.
std::optional<Model> relowerModel(const LoadedModel& loaded, const HyperparameterValues& values,
                                  bool showWarnings = false);

// Prints an error that concerns a file or the model as a whole (no line/column).
void reportError(const std::string& where, const std::string& message);
// Prints an error at a position in the model file (caret diagnostics).
void reportModelError(const LoadedModel& m, const Error& err);

// `message` ended as a sentence ('.' added unless it ends in '.', '?' or '!'), so that
// another can follow it.
std::string endSentence(std::string message);

// What every command returns on an error: prints it and gives the exit status 1.
// `nnc: error: MESSAGE` for errors of data, files or resources (no place in the model)...
int fail(const std::string& message);
// ...and the caret diagnostic for errors at a place in the model file.
int fail(const LoadedModel& m, const Error& err);

}  // namespace nnc::driver
