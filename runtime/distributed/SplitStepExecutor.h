#pragma once
// What data-parallel training needs of an executor besides training::Executor: the training
// step in two halves, with the tensors to average across processes in between.
#include <cstdint>
#include <span>
#include <vector>

#include "runtime/training/Executor.h"

namespace nnc::distributed {

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
  // The optimizer update from gradients().
  virtual Result<void> updateStep(float lr, float step) = 0;
  // Where the gradient step leaves each gradient, and the running statistics it updated.
  virtual std::vector<std::span<float>> gradients() = 0;
  virtual std::vector<std::span<float>> statistics() = 0;
};

}  // namespace nnc::distributed
