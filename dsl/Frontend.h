#pragma once
// The `.nn` front end's entry points: text -> AST (parser) -> checked Model (semantic
// analysis and lowering to the graph IR). All errors go to the DiagnosticEngine; every
// semantic error of a file is reported in one run.
#include <optional>
#include <string_view>

#include "compiler/ir/Model.h"
#include "support/Diagnostics.h"
#include "dsl/ast/AST.h"

namespace nnc {

// Limits on input the front end accepts; documented in docs/language.md. `nnc` sets them
// from its --max-* options (compiler/driver/Limits.h).
struct FrontendLimits {
  size_t maxNesting = 256;           // parentheses / brackets / calls / unary minus, nested
  size_t maxSourceBytes = 16u << 20; // 16 MiB of model text
  // Largest parameter or state tensor, and largest input sample, in bytes of f32: beyond the
  // default a model cannot be trained on any machine we target, and dimensions that large
  // are typos.
  int64_t maxTensorBytes = int64_t(16) << 30;  // 16 GiB
  // Time steps of a recurrent layer (a loop: the graph does not grow with them; the limit
  // guards against a typo's million steps).
  int64_t maxTimeSteps = 65536;
};

// Parses a whole file. Returns nothing after reporting a syntax error.
std::optional<ast::Module> parseModule(std::string_view source, DiagnosticEngine& diags,
                                       const FrontendLimits& limits = {});

// Checks and lowers a parsed module. Returns nothing after reporting errors.
// `hyperparameters` gives names of the `tune` block values (others take their fallback).
std::optional<Model> lowerModule(const ast::Module& module, DiagnosticEngine& diags,
                                 const FrontendLimits& limits = {}, const HyperparameterValues& hyperparameters = {});

// parseModule then lowerModule.
std::optional<Model> compileModel(std::string_view source, DiagnosticEngine& diags,
                                  const FrontendLimits& limits = {}, const HyperparameterValues& hyperparameters = {});

}  // namespace nnc
