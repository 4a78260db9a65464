#pragma once
// Mode lowering: the model's forward graph with its mode-dependent ops replaced by
// primitives, as training or inference runs it.
//
//   Dropout(x){rate}
//     training:  x * DropoutMask(x, step){rate, seed = train seed, salt = k}
//                (k = 0, 1, 2, ... for the model's dropout nodes in order; rate 0: x)
//                with Model::runtimeDropoutRates: DropoutMask(x, step, r){seed, salt = k}, r the
//                Hyper leaf dropoutRateName(k), whatever the rate
//     inference: x
//   BatchNorm(x, gamma, beta, running_mean, running_var){momentum, eps}, statistics over
//   every axis but the last:
//     training:  mean = mean(x), var = mean((x - mean)^2)  (the batch's biased variance)
//                y = (x - mean) * (1 / sqrt(var + eps)) * gamma + beta
//                updates running_mean <- momentum * running_mean + (1 - momentum) * mean
//                        running_var  <- momentum * running_var  + (1 - momentum) * var
//     inference: y = (x - running_mean) * (1 / sqrt(running_var + eps)) * gamma + beta
//   RandomFlip(x){mode}, RandomTranslation(x){height, width} (compiler/ir/Augment.h)
//     training:  AugmentImages(x, step){their attributes, transform, seed = train seed,
//                salt = augment::kSaltBase + k} (k = 0, 1, ... for the model's augmentations
//                in order; a translation by 0 and 0: x)
//     inference: x
//
// Only the nodes that `roots` depend on are copied (plus every Input, Param, State and Hyper
// leaf, which the runtime binds by name). A training-mode graph starts with the Hyper leaves
// "lr" and "step".
#include <cstdint>
#include <vector>

#include "compiler/ir/Model.h"
#include "support/Result.h"

namespace nnc {

enum class GraphMode { Training, Inference };

struct ModeLoweredGraph {
  Graph graph;
  std::vector<NodeId> fromModel;  // model node id -> its value in `graph`, kNoNode when not copied
  NodeId lr = kNoNode;            // the Hyper leaves (training mode)
  NodeId step = kNoNode;
  NodeId firstRow = kNoNode;      // with `shardedBatch`
};

// `shardedBatch` (training mode, data-parallel runs): the batch is one process's rows of a
// larger one, starting at the Hyper leaf "first_row", which every DropoutMask (and
// AugmentImages) also takes so that a sample's mask (and transform) is the one it gets in a
// single process.
Result<ModeLoweredGraph> lowerModes(const Model& model, GraphMode mode, const std::vector<NodeId>& roots,
                                    bool shardedBatch = false);

}  // namespace nnc
