#include "compiler/driver/ModelLoader.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <sys/stat.h>

#include "compiler/driver/Limits.h"
#include "compiler/driver/OnnxModel.h"
#include "dsl/Frontend.h"

namespace nnc::driver {

void reportError(const std::string& where, const std::string& message) {
  std::cerr << where << ": error: " << message << '\n';
}

void reportModelError(const LoadedModel& m, const Error& err) {
  std::cerr << renderDiagnostic(m.path, m.source, Diagnostic{err.loc, err.message});
}

std::optional<LoadedModel> loadModel(const std::string& path) {
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
  if (isOnnxPath(path)) return loadOnnxModel(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    reportError(path, std::string("cannot open the model file: ") + std::strerror(errno));
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  LoadedModel loaded{path, text.str(), {}};
  DiagnosticEngine diags(path, loaded.source);
  std::optional<Model> model = compileModel(loaded.source, diags, limits);
  if (!model || diags.hasErrors()) {
    diags.render(std::cerr);
    return std::nullopt;
  }
  loaded.model = std::move(*model);
  if (auto bound = bindConstInputs(loaded.model); !bound) {
    reportError(path, bound.error().message);
    return std::nullopt;
  }
  return loaded;
}

}  // namespace nnc::driver
