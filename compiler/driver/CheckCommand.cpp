#include "compiler/driver/Command.h"
#include "compiler/driver/ModelLoader.h"

namespace nnc::driver {
namespace {
class CheckCommand : public Command {
 public:
  const char* name() const override { return "check"; }
  const char* help() const override { return "Parse and type-check the model; print nothing on success"; }
  int run(const std::string& path) override { return loadModel(path, true) ? kExitOk : kExitError; }
};
}  // namespace
std::unique_ptr<Command> makeCheckCommand() { return std::make_unique<CheckCommand>(); }
}  // namespace nnc::driver
