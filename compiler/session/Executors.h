#pragma once
// Choosing and creating the executor that runs a model.
#include <memory>
#include <string>

#include "compiler/ir/Model.h"
#include "runtime/training/Executor.h"

namespace nnc {

enum class Backend { Jit, Interpreter };

struct ExecutorOptions {
  Backend backend = Backend::Jit;
  int threads = 0;    // 0: every core
  uint64_t seed = 0;  // parameter initialisation
  // Compile the training step split in gradients and update (train/SplitStep.h), as
  // data-parallel training needs: the executor is then a distributed::SplitStepExecutor too.
  bool splitStep = false;
  // With splitStep: the global batch it trains on (0: the train block's), and whether dense
  // weight gradients may travel as their factors (train/SplitStep.h, "Sufficient factors").
  int64_t splitBatch = 0;
  bool gradientFactors = true;
  // A profiling build (CompileOptions::profile): the entries time each kernel when
  // profile::record is on (NNC_MPI_PROFILE=kernels, for the data-parallel step's halves).
  bool profileKernels = false;
};

// "jit" / "interpreter"
Result<Backend> parseBackend(const std::string& name);

// Falls back to nothing: a backend that is not available is an error naming it.
Result<std::unique_ptr<training::Executor>> createExecutor(const Model& model, const ExecutorOptions& options);

}  // namespace nnc
