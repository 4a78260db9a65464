#include "compiler/driver/ModelLoader.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <sys/stat.h>

#include "compiler/driver/Command.h"
#include "compiler/driver/HyperparameterOptions.h"
#include "compiler/driver/Limits.h"
#include "compiler/driver/OnnxModel.h"
#include "compiler/driver/PrecisionOption.h"
#include "dsl/Frontend.h"

namespace nnc::driver {

void reportError(const std::string& where, const std::string& message) {
  std::cerr << where << ": error: " << message << '\n';
}

void reportModelError(const LoadedModel& m, const Error& err) {
  std::cerr << renderDiagnostic(m.path, m.source, Diagnostic{err.loc, err.message});
}

std::string endSentence(std::string message) {
  if (!message.empty() && message.back() != '.' && message.back() != '?' && message.back() != '!') message += '.';
  return message;
}

int fail(const std::string& message) {
  std::cerr << "nnc: error: " << message << '\n';
  return kExitError;
}

int fail(const LoadedModel& m, const Error& err) {
  reportModelError(m, err);
  return kExitError;
}

std::optional<LoadedModel> loadModel(const std::string& path, bool showWarnings) {
  const FrontendLimits& limits = runLimits().frontend;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    reportError(path, std::string("cannot open the model file: ") + std::strerror(errno));
    return std::nullopt;
  }
  if (S_ISDIR(st.st_mode)) {
    reportError(path, "is a directory, not a model file");
    return std::nullopt;
  }
  if (static_cast<uint64_t>(st.st_size) > limits.maxSourceBytes) {
    reportError(path, "the model file is " + std::to_string(st.st_size) + " bytes; the limit is " +
                          std::to_string(limits.maxSourceBytes) + " bytes (--max-model-mib raises it)");
    return std::nullopt;
  }
  if (isOnnxPath(path)) {
    std::optional<LoadedModel> onnx = loadOnnxModel(path);
    if (onnx) applyPrecisionOption(onnx->model);
    return onnx;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    reportError(path, std::string("cannot open the model file: ") + std::strerror(errno));
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  Result<HyperparameterValues> values = requestedHyperparameters();
  if (!values) {
    std::cerr << "nnc: error: " << values.error().message << '\n';
    return std::nullopt;
  }
  LoadedModel loaded;
  loaded.path = path;
  loaded.source = text.str();
  std::optional<Model> model = relowerModel(loaded, *values, showWarnings);
  if (!model) return std::nullopt;
  if (auto ok = checkRequestedNames(*model, *values); !ok) {
    std::cerr << "nnc: error: " << ok.error().message << '\n';
    return std::nullopt;
  }
  loaded.model = std::move(*model);
  if (auto bound = bindConstInputs(loaded.model); !bound) {
    reportError(path, bound.error().message);
    return std::nullopt;
  }
  return loaded;
}

std::optional<Model> relowerModel(const LoadedModel& loaded, const HyperparameterValues& values, bool showWarnings) {
  DiagnosticEngine diags(loaded.path, loaded.source);
  std::optional<Model> model = compileModel(loaded.source, diags, runLimits().frontend, values);
  const bool failed = !model || diags.hasErrors();
  if (failed || showWarnings) diags.render(std::cerr);  // the errors, or the warnings of a model that compiled
  if (failed) return std::nullopt;
  applyPrecisionOption(*model);
  return model;
}

}  // namespace nnc::driver
