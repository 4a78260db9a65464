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

// Prints `FILE: error: ...` or the model's diagnostics on failure.
std::optional<LoadedModel> loadModel(const std::string& path);

// Prints an error that concerns a file or the model as a whole (no line/column).
void reportError(const std::string& where, const std::string& message);
// Prints an error at a position in the model file (caret diagnostics).
void reportModelError(const LoadedModel& m, const Error& err);

}  // namespace nnc::driver
