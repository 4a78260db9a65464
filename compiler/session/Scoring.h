#pragma once
// Turns a batch's loss and "prediction" output into the training loop's BatchResult: counts
// predictions equal to the labels (class ids for categorical losses, 0/1 targets for binary
// ones) and keeps the predicted classes when asked.
#include <span>
#include <vector>

#include "runtime/training/Executor.h"

namespace nnc {

struct PredictionView {
  const void* data = nullptr;  // null: the loss has no notion of accuracy
  bool isInteger = false;
  int64_t count = 0;  // elements
};

training::BatchResult scoreBatch(double loss, const PredictionView& prediction,
                                 const std::vector<training::TensorSpec>& inputSpecs, int labelInput,
                                 std::span<const void* const> inputs, int64_t batch, bool wantPredicted);

}  // namespace nnc
