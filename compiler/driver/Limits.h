#pragma once
// Resource limits of one `nnc` run. Each is documented in docs/language.md ("Limits") and
// can be raised (or lowered) by a global option, written before or after the command, or by
// an environment variable:
//
//   --max-model-mib N    NNC_MAX_MODEL_MIB    size of the model file            (16)
//   --max-nesting N      NNC_MAX_NESTING      bracket nesting, expression depth (256)
//   --max-tensor-gib G   NNC_MAX_TENSOR_GIB   one parameter/state/input sample  (16)
//   --max-time-steps N   NNC_MAX_TIME_STEPS   time steps of rnn/lstm/gru        (65536)
//   --max-memory-gib G   NNC_MAX_MEMORY_GIB   what running the model may take   (the machine's memory)
#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "compiler/ir/Model.h"
#include "compiler/session/MemoryEstimate.h"
#include "dsl/Frontend.h"

namespace nnc::driver {

struct RunLimits {
  FrontendLimits frontend;
  std::optional<double> maxMemoryGib;  // unset: the machine's memory
};

// The limits of this process, as set by the options (main parses them before any command runs).
RunLimits& runLimits();

// Adds the options above to the top-level app (they fall through from every command).
void addLimitOptions(CLI::App& app);

// Refuses a model whose state plus intermediate values at `batch` exceed the memory limit,
// before any of it is allocated; the message gives the sizes in GiB and the limit. Commands
// check at batch 1 before creating the executor (which allocates the state), and again at
// the batch they will run once the data (and so the number of samples) is known.
class MemoryCheck {
 public:
  explicit MemoryCheck(const Model& model) : model_(model) {}
  Result<void> atBatch(int64_t batch);

 private:
  const Model& model_;
  std::optional<MemoryEstimate> estimate_;
  bool measured_ = false;
};

}  // namespace nnc::driver
