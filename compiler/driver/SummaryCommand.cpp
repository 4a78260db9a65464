#include <iostream>

#include "compiler/driver/Command.h"
#include "compiler/driver/ModelLoader.h"
#include "compiler/driver/SummaryTable.h"

namespace nnc::driver {
namespace {
class SummaryCommand : public Command {
 public:
  const char* name() const override { return "summary"; }
  const char* help() const override { return "Print a Keras-style table of layers, output shapes and parameter counts"; }
  int run(const std::string& path) override {
    auto loaded = loadModel(path);
    if (!loaded) return kExitError;
    printSummary(loaded->model, std::cout);
    return kExitOk;
  }
};
}  // namespace
std::unique_ptr<Command> makeSummaryCommand() { return std::make_unique<SummaryCommand>(); }
}  // namespace nnc::driver
