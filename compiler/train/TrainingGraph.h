#pragma once
// From a checked Model to the graphs that run: the training step (forward, loss, backward
// and optimizer update as one graph) and the inference graph (predict).
//
// Leaves of the training graph: the model's Inputs; its Params; State (batch-norm running
// statistics, class weights, and optimizer slots named "<param>/<optimizer>.<slot>", e.g.
// "h1.weight/adam.m"); and two Hyper scalars: "lr" (f32) and "step" (f32, the optimizer
// step counted from 0). Its updates write every Param and State it changes; graph.loss is
// the loss and graph.outputs lists "loss" plus the model's outputs.
#include "compiler/ir/Model.h"
#include "compiler/support/Result.h"

namespace nnc {

inline constexpr const char* kLearningRateName = "lr";
inline constexpr const char* kStepName = "step";

// Errors (located): the model has no train block or loss; an op on the path to the loss has
// no gradient rule.
Result<Graph> buildTrainingGraph(const Model& model);

// The forward graph for predict/eval: Dropout is the identity, BatchNorm uses its running
// statistics, no loss (unless `withLoss` and the model has one: eval reports it), no updates.
Result<Graph> buildInferenceGraph(const Model& model, bool withLoss = false);

}  // namespace nnc
