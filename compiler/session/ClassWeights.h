#pragma once
// Fills the class-weights state tensor the loss reads (`class_weights` in the train block):
// a given list, or `balanced` weights from the training split's class counts.
#include <vector>

#include "runtime/data/Array.h"
#include "runtime/training/Executor.h"
#include "runtime/training/TrainingPlan.h"

namespace nnc {

Result<void> applyClassWeights(const training::TrainingPlan& plan, const std::vector<data::Array>& arrays,
                               int64_t trainCount, training::Executor& exec);

}  // namespace nnc
