#include <iostream>

#include "compiler/codegen/aot/AotCompile.h"
#include "compiler/driver/Command.h"
#include "compiler/driver/ModelLoader.h"
#include "compiler/ir/Printer.h"
#include "compiler/passes/PassPipeline.h"
#include "compiler/session/StepGraphs.h"
#include "compiler/train/TrainingGraph.h"

namespace nnc::driver {
namespace {

class IrCommand : public Command {
 public:
  const char* name() const override { return "ir"; }
  const char* help() const override { return "Print the IR at a stage: parsed, train, optimized, llvm"; }
  void addOptions(CLI::App& sub) override {
    sub.add_option("--stage", stage_, "parsed: the checked model; train: the training step (forward, loss, "
                                      "backward, optimizer); optimized: training and inference graphs after the passes; "
                                      "llvm: the optimised LLVM IR the JIT compiles to machine code")
        ->check(CLI::IsMember({"parsed", "train", "optimized", "llvm"}))
        ->capture_default_str();
  }

  int run(const std::string& path) override {
    auto loaded = loadModel(path);
    if (!loaded) return kExitError;
    const Model& model = loaded->model;
    if (stage_ == "parsed") {
      printGraph(model.graph, std::cout);
      return kExitOk;
    }
    if (stage_ == "llvm") return printLLVM(*loaded);
    if (stage_ == "train") {
      if (!model.train) return noTrainBlock(*loaded);
      Result<Graph> g = buildTrainingGraph(model);
      if (!g) return fail(*loaded, g.error());
      printGraph(*g, std::cout);
      return kExitOk;
    }
    // optimized: the training step (when there is one) and the inference graph.
    if (model.train) {
      Result<Graph> g = buildTrainingGraph(model);
      if (!g) return fail(*loaded, g.error());
      if (!printOptimized(*loaded, *g)) return kExitError;
    }
    Result<Graph> inference = buildInferenceGraph(model);
    if (!inference) return fail(*loaded, inference.error());
    return printOptimized(*loaded, *inference) ? kExitOk : kExitError;
  }

 private:
  static int noTrainBlock(const LoadedModel& m) {
    reportError(m.path, "the model has no train block, so it has no training graph");
    return kExitError;
  }
  static bool printOptimized(const LoadedModel& m, const Graph& g) {
    Result<Graph> opt = optimizeGraph(g);
    if (!opt) {
      reportModelError(m, opt.error());
      return false;
    }
    printGraph(*opt, std::cout);
    return true;
  }

  // The module `train`, `eval` and `predict` compile: the inference entry nnc_forward (the
  // evaluation pass when the model has a loss, else the outputs) and nnc_train_step.
  static int printLLVM(const LoadedModel& m) {
    Result<StepGraphs> graphs = buildStepGraphs(m.model);
    if (!graphs) return fail(m, graphs.error());
    const Graph& inference = graphs->eval ? graphs->eval->graph : graphs->predict.graph;
    Result<std::string> ir = optimizedLLVMIR(inference, graphs->train ? &graphs->train->graph : nullptr);
    if (!ir) return fail(m, ir.error());
    std::cout << *ir;
    return kExitOk;
  }

  std::string stage_ = "parsed";
};

}  // namespace
std::unique_ptr<Command> makeIrCommand() { return std::make_unique<IrCommand>(); }
}  // namespace nnc::driver
