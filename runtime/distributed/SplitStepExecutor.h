#pragma once
// What data-parallel training needs of an executor besides training::Executor: the training
// step in two halves, with the tensors to average across processes in between.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "runtime/training/Executor.h"

namespace nnc::distributed {

// A factor of a gradient the update step computes itself from every process's rows
// (compiler/train/SplitStep.h, "Sufficient factors"): the gradient step leaves this process's
// rows of it; the update step takes the global batch's rows, gathered in global row order.
struct GradientFactor {
  std::string name;
  int64_t rowFloats = 0;
  // The product is linear in each factor: the share's weight (rows / batch) scales this one.
  bool weighted = false;
};

class SplitStepExecutor {
 public:
  virtual ~SplitStepExecutor() = default;
  // Whether the step was compiled split; the other calls fail when it was not.
  virtual bool isSplit() const = 0;
  // Forward and backward on `batch` rows that are rows [firstRow, firstRow + batch) of the
  // global batch (dropout masks are those of these global rows). Writes gradients() (of the
  // mean loss over these rows) and updates statistics(); parameters are left as they were.
  virtual Result<training::BatchResult> gradientStep(std::span<const void* const> inputs, int64_t batch, float lr,
                                                     float step, int64_t firstRow) = 0;
  // The optimizer update from gradients() and, for the gradients computed from factors, from
  // `factors[i]` (factors()[i] of `batch` rows: the global batch's, every process's rows in
  // order, each process's weighted ones scaled by its share).
  virtual Result<void> updateStep(float lr, float step, std::span<const float* const> factors = {},
                                  int64_t batch = 0) = 0;
  virtual std::vector<GradientFactor> factors() const { return {}; }
  // This process's rows of factors()[i] from the last gradientStep (rows * rowFloats floats).
  virtual std::span<const float> localFactor(size_t /*i*/) { return {}; }
  // Where the gradient step leaves each gradient, and the running statistics it updated.
  virtual std::vector<std::span<float>> gradients() = 0;
  virtual std::vector<std::span<float>> statistics() = 0;
  // Each kernel's label in the gradient (false) or update (true) entry, for the kernel
  // profile of a profiling build (NNC_MPI_PROFILE=kernels); empty when unknown.
  virtual std::vector<std::string> kernelLabels(bool /*updateEntry*/) const { return {}; }
};

}  // namespace nnc::distributed
