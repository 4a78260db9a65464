#include "compiler/driver/Limits.h"

#include <cmath>
#include <functional>
#include <sstream>
#include <stdexcept>

#include "compiler/session/MemoryEstimate.h"

namespace nnc::driver {

RunLimits& runLimits() {
  static RunLimits limits;
  return limits;
}

namespace {

constexpr double kGiB = 1024.0 * 1024 * 1024;

// One row per limit: the option, its environment variable, its range, and where it goes.
struct LimitOption {
  const char* flag;
  const char* env;
  const char* help;
  double min, max;
  bool integer;  // counts take whole numbers; sizes may be fractional
  std::function<void(double)> apply;
};

std::vector<LimitOption> limitOptions() {
  RunLimits& l = runLimits();
  return {
      {"--max-model-mib", "NNC_MAX_MODEL_MIB", "Largest model file, in MiB (default 16)", 1, 4096, false,
       [&l](double v) { l.frontend.maxSourceBytes = size_t(v * 1024 * 1024); }},
      {"--max-nesting", "NNC_MAX_NESTING",
       "Deepest nesting of brackets and unary minus, and depth of an expression (default 256)", 1, 4096, true,
       [&l](double v) { l.frontend.maxNesting = size_t(v); }},
      {"--max-tensor-gib", "NNC_MAX_TENSOR_GIB",
       "Largest parameter, state tensor or input sample, in GiB of f32 (default 16)", 1e-9, 4096, false,
       [&l](double v) { l.frontend.maxTensorBytes = int64_t(v * kGiB); }},
      {"--max-time-steps", "NNC_MAX_TIME_STEPS", "Most time steps of an rnn, lstm or gru (default 65536)", 1, 1 << 20, true,
       [&l](double v) { l.frontend.maxTimeSteps = int64_t(v); }},
      {"--max-memory-gib", "NNC_MAX_MEMORY_GIB",
       "Most memory running the model may take, in GiB (default: this machine's memory)", 1e-9, 1 << 20, false,
       [&l](double v) { l.maxMemoryGib = v; }},
  };
}

// "a number from 1 to 4096" (CLI11's own Range says "not in range 0.000000 to ..." even
// for a value that is not a number).
CLI::Validator numberBetween(double min, double max, bool integer) {
  auto text = [](double v) {
    std::ostringstream s;
    s.precision(12);
    s << v;
    return s.str();
  };
  std::string expected = std::string(integer ? "a whole number" : "a number") + " from " + text(min) + " to " + text(max);
  return CLI::Validator(
      [=](std::string& value) -> std::string {
        double v = 0;
        size_t used = 0;
        try {
          v = std::stod(value, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used != value.size() || !std::isfinite(v) || v < min || v > max || (integer && v != std::floor(v)))
          return "'" + value + "' is not " + expected;
        return {};
      },
      "");
}

}  // namespace

void addLimitOptions(CLI::App& app) {
  auto* group = app.add_option_group("Limits", "Resource limits (docs/language.md), for any command");
  for (LimitOption& o : limitOptions()) {
    auto apply = o.apply;
    group->add_option_function<double>(o.flag, [apply](const double& v) { apply(v); }, o.help)
        ->envname(o.env)
        ->check(numberBetween(o.min, o.max, o.integer))
        ->type_name("N");
  }
}

Result<void> MemoryCheck::atBatch(int64_t batch) {
  const RunLimits& l = runLimits();
  long double limit = 0;
  std::string origin;
  if (l.maxMemoryGib) {
    limit = static_cast<long double>(*l.maxMemoryGib) * kGiB;
    origin = "set by --max-memory-gib or NNC_MAX_MEMORY_GIB";
  } else {
    limit = static_cast<long double>(machineMemoryBytes());
    origin = "this machine's memory";
  }
  if (limit <= 0) return {};
  if (!measured_) {
    measured_ = true;
    // An error building the graphs is left to the executor, which reports it in context.
    if (Result<MemoryEstimate> e = MemoryEstimate::of(model_)) estimate_ = std::move(*e);
  }
  if (!estimate_) return {};
  return checkMemory(*estimate_, batch, limit, origin,
                     "a smaller model or --batch needs less; --max-memory-gib G raises the limit");
}

}  // namespace nnc::driver
