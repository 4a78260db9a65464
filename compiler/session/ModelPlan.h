#pragma once
// What the runtime needs to know of a checked Model: its inputs as data specs, and the
// `train` block as a TrainingPlan.
#include <vector>

#include "compiler/ir/Model.h"
#include "runtime/data/Binding.h"
#include "runtime/training/Executor.h"
#include "runtime/training/TrainingPlan.h"

namespace nnc {

// The model's Input leaves, in declaration order.
std::vector<NodeId> modelInputs(const Model& model);
std::vector<data::InputSpec> inputSpecsFor(const Model& model);
std::vector<training::TensorSpec> inputTensorSpecsFor(const Model& model);

// The train block as the loop needs it (defaults when the model has none).
training::TrainingPlan trainingPlanFor(const Model& model);

// The number of classes of a categorical loss (the logits' last dimension), else 0.
int64_t numClassesOf(const Model& model);

}  // namespace nnc
