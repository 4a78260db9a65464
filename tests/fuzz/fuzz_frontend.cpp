// Fuzz target: the `.nn` front end and everything `nnc FILE ir --stage optimized` runs on a
// model: parse, check, lower to the graph IR, differentiate (the training step) and build the
// inference graph, then the simplification passes and the printer.
//
// Findings: any sanitizer report, a crash, a hang (libFuzzer's -timeout), and broken
// promises of the code under test: a model the front end accepts must give graphs that pass
// the verifier, and the passes must not fail on them (a failure is a compiler bug).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "FuzzInput.h"
#include "compiler/ir/Printer.h"
#include "compiler/ir/Verifier.h"
#include "compiler/passes/PassPipeline.h"
#include "compiler/train/TrainingGraph.h"
#include "dsl/Frontend.h"

namespace {

void optimizeAndPrint(const nnc::Graph& g) {
  NNC_FUZZ_CHECK(nnc::verifyGraph(g).ok());
  nnc::Result<nnc::Graph> opt = nnc::optimizeGraph(g);
  NNC_FUZZ_CHECK(opt.ok());
  (void)nnc::printGraph(*opt);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view source(reinterpret_cast<const char*>(data), size);
  nnc::DiagnosticEngine diags("fuzz.nn", source);
  std::optional<nnc::ast::Module> module = nnc::parseModule(source, diags);
  if (module) {
    std::optional<nnc::Model> model = nnc::lowerModule(*module, diags);
    if (model && !diags.hasErrors()) {
      NNC_FUZZ_CHECK(nnc::verifyGraph(model->graph).ok());
      (void)nnc::printGraph(model->graph);
      if (model->train && model->train->loss != nnc::kNoNode) {
        // An error here is legitimate (e.g. an op on the loss path without a gradient rule).
        if (nnc::Result<nnc::Graph> train = nnc::buildTrainingGraph(*model)) optimizeAndPrint(*train);
      }
      if (nnc::Result<nnc::Graph> inference = nnc::buildInferenceGraph(*model, /*withLoss=*/true))
        optimizeAndPrint(*inference);
    }
  }
  // Every diagnostic must render (long lines, control bytes, positions at the end of input).
  (void)diags.renderToString();
  return 0;
}
