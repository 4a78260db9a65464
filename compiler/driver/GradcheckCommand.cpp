#include <iostream>

#include "compiler/driver/Command.h"
#include "compiler/driver/ModelLoader.h"
#include "compiler/train/GradCheck.h"

namespace nnc::driver {
namespace {

class GradcheckCommand : public Command {
 public:
  const char* name() const override { return "gradcheck"; }
  const char* help() const override {
    return "Compare every parameter's gradient with central finite differences (f64); exit 1 above the tolerance";
  }
  void addOptions(CLI::App& sub) override {
    sub.add_option("--seed", options_.seed, "Seed of the random data and parameters")->check(unsignedInteger())->capture_default_str();
  }
  int run(const std::string& path) override {
    auto loaded = loadModel(path);
    if (!loaded) return kExitError;
    if (!loaded->model.train || loaded->model.train->loss == kNoNode) {
      reportError(path, "the model has no train block with a loss, so there is no gradient to check");
      return kExitError;
    }
    Result<GradCheckReport> report = gradCheck(loaded->model, options_);
    if (!report) return fail(*loaded, report.error());
    std::cout << formatGradCheckReport(*report);
    return report->passed() ? kExitOk : kExitError;
  }

 private:
  GradCheckOptions options_;
};

}  // namespace
std::unique_ptr<Command> makeGradcheckCommand() { return std::make_unique<GradcheckCommand>(); }
}  // namespace nnc::driver
