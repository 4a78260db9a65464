#pragma once
// From a checked Model to the graphs that run: the training step (forward, loss, backward
// and optimizer update as one graph) and the inference graph (predict).
//
// Leaves of the training graph: the model's Inputs; its Params; State (batch-norm running
// statistics, class weights, and optimizer slots named "<param>/<optimizer>.<slot>", e.g.
// "h1.weight/adam.m"); and two Hyper scalars: "lr" (f32) and "step" (f32, the optimizer
// step counted from 0). Its updates write every Param and State it changes; graph.loss is
// the loss and graph.outputs lists "loss" plus the model's outputs.
//
// Optimizer slot names (all State leaves, the parameter's type; see train/Optimizers.h for
// the update rules):
//   <param>/sgd.momentum                          (sgd with momentum != 0)
//   <param>/adam.m, <param>/adam.v
//   <param>/adadelta.square_avg, <param>/adadelta.acc_delta
//   <param>/rmsprop.square_avg, <param>/rmsprop.momentum   (the latter when momentum > 0)
//   <param>/adagrad.sum                           (starts at `initial`)
// A Param the loss does not depend on gets no gradient, no slots and no update (torch skips
// parameters whose .grad is None).
//
// Weight decay (`weight_decay = c`) adds c * w to the gradient of every Param named
// "<layer>.weight" and of every explicit `param` of rank >= 2. Explicit params are told from
// layer-created ones by name: layer parameters are "<layer>.<role>" (the front end names
// them so, and a `.nn` identifier has no '.'); a Param with attribute `layer` is a layer
// parameter whatever its name.
#include <string>
#include <vector>

#include "compiler/ir/Model.h"
#include "compiler/ir/TypedAttrs.h"
#include "support/Result.h"
#include "compiler/train/Optimizers.h"

namespace nnc {

inline constexpr const char* kLearningRateName = "lr";
inline constexpr const char* kStepName = "step";
// Data-parallel runs only: the global index of the batch's first row (see ModeLowering.h).
inline constexpr const char* kFirstRowName = "first_row";

// With Model::runtimeDropoutRates, the k-th Dropout of the model (in node order) takes its
// rate from the run-time scalar named dropoutRateName(k).
inline std::string dropoutRateName(int64_t k) { return "dropout_rate" + std::to_string(k); }
inline bool isDropoutRateName(const std::string& name) { return name.rfind("dropout_rate", 0) == 0; }
// The values those scalars take for `model`: its dropouts' rates, by name.
inline std::vector<std::pair<std::string, float>> dropoutRates(const Model& model) {
  std::vector<std::pair<std::string, float>> out;
  if (!model.runtimeDropoutRates) return out;
  int64_t k = 0;
  for (const Node& n : model.graph.nodes())
    if (n.op == OpKind::Dropout) out.push_back({dropoutRateName(k++), static_cast<float>(RateAttr::of(n).rate)});
  return out;
}

// Errors (located): the model has no train block or loss; an op on the path to the loss has
// no gradient rule.
// `embeddingGradBuffers`: a table whose gradient is one embedding_grad keeps it in a
// persistent buffer that the step writes only in the batch's rows (EmbeddingGradBuffers.h);
// false builds the dense gradient instead (for tests comparing the two).
Result<Graph> buildTrainingGraph(const Model& model, bool embeddingGradBuffers = true);

// The forward graph for predict/eval: Dropout is the identity, BatchNorm uses its running
// statistics, no loss (unless `withLoss` and the model has one: eval reports it), no updates.
Result<Graph> buildInferenceGraph(const Model& model, bool withLoss = false);

// The inference graph with the map from model nodes to its nodes (for callers that add
// outputs of their own, such as predictions for accuracy).
struct InferenceGraph {
  Graph graph;
  std::vector<NodeId> fromModel;  // model node id -> its value in `graph` (kNoNode: not needed)
};
Result<InferenceGraph> buildInferenceStep(const Model& model, bool withLoss = false);

// A training-mode graph with what its users need to find in it.
struct TrainingGraph {
  Graph graph;
  std::vector<NodeId> fromModel;         // model node id -> its value in `graph` (kNoNode: not needed)
  std::vector<ParamGradient> gradients;  // every Param the loss depends on, with its gradient
                                         // (the loss's gradient: no weight decay)
  std::vector<std::string> unreachedParams;  // Params the loss does not depend on
  NodeId lr = kNoNode, step = kNoNode;   // the Hyper leaves
};

// Forward (training mode) + loss + gradients; the only updates are batch-norm running
// statistics. What gradcheck differentiates.
// `shardedBatch`: the batch is one process's share of a larger one (ModeLowering.h).
Result<TrainingGraph> buildGradientGraph(const Model& model, bool shardedBatch = false);

// buildGradientGraph + weight decay + the optimizer's updates: the whole training step
// (buildTrainingGraph returns its graph). `gradients` still lists the loss's gradients.
Result<TrainingGraph> buildTrainingStep(const Model& model, bool embeddingGradBuffers = true);

// Whether `weight_decay` applies to this Param (see above).
bool weightDecayApplies(const Node& param);

}  // namespace nnc
