// nnc FILE COMMAND [options]: the command line of LANGUAGE.md.
#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>
#include <new>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "compiler/driver/Command.h"
#include "compiler/driver/HyperparameterOptions.h"
#include "compiler/driver/LargeStack.h"
#include "compiler/driver/Limits.h"
#include "compiler/driver/PlotCommand.h"
#include "compiler/driver/PrecisionOption.h"
#include "compiler/driver/OnnxModel.h"
#include "support/Suggest.h"
#include "runtime/support/Interrupt.h"

#ifndef NNC_VERSION
#define NNC_VERSION "unknown"
#endif

using namespace nnc::driver;

namespace {
std::vector<std::unique_ptr<Command>> allCommands() {
  std::vector<std::unique_ptr<Command>> cmds;
  cmds.push_back(makeCheckCommand());
  cmds.push_back(makeSummaryCommand());
  cmds.push_back(makeIrCommand());
  cmds.push_back(makeGradcheckCommand());
  cmds.push_back(makeTrainCommand());
  cmds.push_back(makeEvalCommand());
  cmds.push_back(makePredictCommand());
  cmds.push_back(makeCompileCommand());
  cmds.push_back(makeBenchCommand());
  cmds.push_back(makeTuneCommand());
  return cmds;
}

// One usage line, the contract's, for `nnc --help` and `nnc FILE COMMAND --help` (CLI11's
// own would read "nnc [OPTIONS] FILE SUBCOMMAND", beside ours in the description).
class UsageFormatter : public CLI::Formatter {
 public:
  std::string make_usage(const CLI::App* app, std::string) const override {
    if (app->get_parent() == nullptr) return "Usage: nnc FILE COMMAND [options]\n";
    return "Usage: nnc FILE " + app->get_name() + " [options]\n";
  }
};

bool isCommand(const char* word, const std::vector<std::unique_ptr<Command>>& cmds) {
  for (const auto& c : cmds)
    if (word == std::string_view(c->name())) return true;
  return false;
}

// `nnc check model.nn` is how git and cargo users type it: accept the command first when the
// word after it is not a command too. The arguments are reordered, not reinterpreted.
void acceptCommandFirst(int argc, char** argv, const std::vector<std::unique_ptr<Command>>& cmds) {
  if (argc >= 3 && isCommand(argv[1], cmds) && argv[2][0] != '-' && !isCommand(argv[2], cmds))
    std::swap(argv[1], argv[2]);
}

// CLI11 would say only "A subcommand is required" for a misspelt command.
bool reportUnknownCommand(int argc, char** argv, const std::vector<std::unique_ptr<Command>>& cmds) {
  if (argc < 3 || argv[1][0] == '-' || argv[2][0] == '-') return false;
  std::vector<std::string> names;
  for (const auto& c : cmds) names.push_back(c->name());
  std::string word = argv[2];
  for (const std::string& n : names)
    if (n == word) return false;
  std::cerr << "nnc: error: unknown command '" << word << "'" << nnc::didYouMean(word, names)
            << "\nRun 'nnc --help' for the list of commands.\n";
  return true;
}
}  // namespace

int main(int argc, char** argv) {
  if (isPlotCommand(argc, argv)) return runPlotCommand(argc, argv);  // the one command without a model
  std::vector<std::unique_ptr<Command>> commands = allCommands();
  CLI::App app{"nnc: a neural-network compiler.", "nnc"};
  app.formatter(std::make_shared<UsageFormatter>());
  app.footer("Also: nnc plot LOG.jsonl [LOG.jsonl ...] -o FILE.svg draws the learning curves of train --log runs.");
  app.set_version_flag("--version", std::string("nnc ") + NNC_VERSION);
  std::string modelPath;
  app.add_option("FILE", modelPath, "The .nn model file")->required();
  app.require_subcommand(1);
  // The --max-* limits are global: accepted before or after the command.
  addLimitOptions(app);
  addHyperparameterOptions(app);  // --set, --hparams: also for every command
  addConstOptions(app);  // --const NAME=FILE.npy (OnnxModel.h)
  addPrecisionOption(app);  // --precision f32|bf16 (PrecisionOption.h)
  app.fallthrough();
  std::vector<CLI::App*> subs;
  for (const auto& c : commands) {
    CLI::App* sub = app.add_subcommand(c->name(), c->help());
    c->addOptions(*sub);
    subs.push_back(sub);
  }
  acceptCommandFirst(argc, argv, commands);
  if (reportUnknownCommand(argc, argv, commands)) return kExitUsage;
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --help, --version
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  // SIGINT and SIGTERM, in every command: exit 1 with a message, no temporary left behind.
  nnc::interrupt::install();
  // Errors are values; an exception reaching here is either memory running out (a model or
  // data set larger than the limits foresaw) or a bug. Either way: a message, not a crash.
  // The command runs on a stack sized for the nesting limit (see LargeStack.h).
  try {
    for (size_t i = 0; i < commands.size(); ++i)
      if (subs[i]->parsed())
        return runWithStack(stackBytesForNesting(runLimits().frontend.maxNesting),
                            [&] { return commands[i]->run(modelPath); });
  } catch (const std::bad_alloc&) {
    std::cerr << "nnc: error: out of memory; the model or the data needs more memory than this machine has "
                 "(a smaller --batch or model needs less)\n";
    return kExitError;
  } catch (const std::exception& e) {
    std::cerr << "nnc: internal error: " << e.what() << "\nThis is a bug in nnc; please report it with the model "
                 "and the command.\n";
    return kExitError;
  }
  return kExitUsage;
}
