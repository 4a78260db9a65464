#pragma once
// One `nnc FILE COMMAND` subcommand: its name, help, options (added to its CLI11 app) and
// what it runs. main.cpp holds the table of all commands.
#include <CLI/CLI.hpp>
#include <functional>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace nnc::driver {

// Exit statuses fixed by LANGUAGE.md.
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;  // an error in the user's model, data or files
inline constexpr int kExitUsage = 2;

// A finite number above zero (--lr, --epochs, --batch). CLI::PositiveNumber lets NaN through
// (`--lr nan` trained to a NaN loss) and words its refusal "Value 0 not in range 0.000000 to
// 179769313486231570814527...".
inline CLI::Validator positiveNumber() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        // As a double, the type the options hold: 1e999 overflows to inf and is refused.
        char* end = nullptr;
        double v = std::strtod(value.c_str(), &end);
        if (value.empty() || end != value.c_str() + value.size() || !std::isfinite(v) || !(v > 0))
          return "'" + value + "' is not a positive number";
        return {};
      },
      "");
}

// An unsigned integer (--seed): CLI11 reads "-1" into a uint64_t as 2^64 - 1, although the
// help says UINT.
inline CLI::Validator unsignedInteger() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        bool digits = !value.empty() && value.size() <= 20 &&
                      value.find_first_not_of("0123456789") == std::string::npos;
        // 20 digits may still exceed 2^64 - 1: compare as text against it.
        if (digits && value.size() == 20 && value > "18446744073709551615") digits = false;
        return digits ? std::string() : "'" + value + "' is not an unsigned integer (0 to 18446744073709551615)";
      },
      "UINT");
}

class Command {
 public:
  virtual ~Command() = default;
  virtual const char* name() const = 0;
  virtual const char* help() const = 0;
  virtual void addOptions(CLI::App& sub) { (void)sub; }
  virtual int run(const std::string& modelPath) = 0;
};

std::unique_ptr<Command> makeCheckCommand();
std::unique_ptr<Command> makeSummaryCommand();
std::unique_ptr<Command> makeIrCommand();
std::unique_ptr<Command> makeGradcheckCommand();
std::unique_ptr<Command> makeTrainCommand();
std::unique_ptr<Command> makeEvalCommand();
std::unique_ptr<Command> makePredictCommand();
std::unique_ptr<Command> makeBenchCommand();
std::unique_ptr<Command> makeCompileCommand();
std::unique_ptr<Command> makeTuneCommand();

}  // namespace nnc::driver
