#pragma once
// The `.nn` front end and everything `nnc FILE ir --stage optimized` runs on a model: parse,
// check, lower to the graph IR, differentiate (the training step) and build the inference
// graph, then the simplification passes and the printer. Shared by fuzz_frontend and the
// regression replay in tests/hostile/FuzzRegressionTest.cpp.
//
// Findings: any sanitizer report, a crash, a hang (libFuzzer's -timeout), and broken promises
// of the code under test: a model the front end accepts must give graphs that pass the
// verifier, and the passes must not fail on them (a failure is a compiler bug).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "FuzzInput.h"
#include "compiler/ir/Printer.h"
#include "compiler/ir/Verifier.h"
#include "compiler/passes/PassPipeline.h"
#include "compiler/train/TrainingGraph.h"
#include "dsl/Frontend.h"

namespace nnc::fuzz {

inline void optimizeAndPrint(const Graph& g) {
  NNC_FUZZ_CHECK(verifyGraph(g).ok());
  Result<Graph> opt = optimizeGraph(g);
  NNC_FUZZ_CHECK(opt.ok());
  (void)printGraph(*opt);
}

inline void fuzzFrontend(const uint8_t* data, size_t size) {
  std::string_view source(reinterpret_cast<const char*>(data), size);
  DiagnosticEngine diags("fuzz.nn", source);
  std::optional<ast::Module> module = parseModule(source, diags);
  if (module) {
    std::optional<Model> model = lowerModule(*module, diags);
    if (model && !diags.hasErrors()) {
      NNC_FUZZ_CHECK(verifyGraph(model->graph).ok());
      (void)printGraph(model->graph);
      if (model->train && model->train->loss != kNoNode) {
        // An error here is legitimate (e.g. an op on the loss path without a gradient rule).
        if (Result<Graph> train = buildTrainingGraph(*model)) optimizeAndPrint(*train);
      }
      if (Result<Graph> inference = buildInferenceGraph(*model, /*withLoss=*/true)) optimizeAndPrint(*inference);
    }
  }
  // Every diagnostic must render (long lines, control bytes, positions at the end of input).
  (void)diags.renderToString();
}

}  // namespace nnc::fuzz
