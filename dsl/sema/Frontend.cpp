// compileModel: the whole front end, text to checked Model.
#include "dsl/Frontend.h"

namespace nnc {

std::optional<Model> compileModel(std::string_view source, DiagnosticEngine& diags, const FrontendLimits& limits,
                                  const HyperparameterValues& hyperparameters) {
  std::optional<ast::Module> module = parseModule(source, diags, limits);
  if (!module) return std::nullopt;
  return lowerModule(*module, diags, limits, hyperparameters);
}

}  // namespace nnc
