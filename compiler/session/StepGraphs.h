#pragma once
// The three graphs an executor runs, each with the outputs the training loop reads:
//   train   - the whole training step; outputs "loss", "prediction" (and the model's)
//   eval    - inference mode with the loss when the model has one; "loss", "prediction"
//   predict - inference mode; the model's outputs, the first being what `predict` writes
// "prediction" is each sample's predicted class (argmax of the loss's logits, i32) for a
// categorical loss, or the logits thresholded at 0 (sigmoid at 0.5, f32 0/1) for a binary one.
#include <optional>

#include "compiler/ir/Model.h"
#include "support/Result.h"

namespace nnc {

struct StepGraph {
  Graph graph;
  NodeId loss = kNoNode;
  NodeId prediction = kNoNode;
};

struct StepGraphs {
  std::optional<StepGraph> train;  // when the model has a train block with a loss
  std::optional<StepGraph> eval;   // when the model has a loss
  StepGraph predict;
};

Result<StepGraphs> buildStepGraphs(const Model& model);

// Adds the output "prediction" (described above) to a graph built from `model`, whose
// `fromModel` maps model nodes to its nodes; kNoNode when the loss has no accuracy.
Result<NodeId> addPredictionOutput(Graph& g, const Model& model, const std::vector<NodeId>& fromModel);

}  // namespace nnc
