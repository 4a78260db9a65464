#pragma once
// The training step split in two for data-parallel runs (docs/distributed.md): between the
// gradients and the optimizer update, every process's gradients are averaged (MPI_Allreduce),
// which the single fused step has no place for.
//
//   gradient graph: forward (training mode, batch sharded: see ModeLowering.h), loss and
//                   backward. It writes each gradient to the State leaf "<param>/grad" and
//                   updates batch-norm running statistics, nothing else.
//   update graph:   reads every "<param>/grad", adds weight decay, and applies the optimizer
//                   to the Params and their slots (Hyper leaves "lr" and "step").
//
// Run one after the other on one state buffer, they compute what buildTrainingStep's graph
// does. The runtime reduces `gradientStates` and `statistics` in between.
#include <string>
#include <vector>

#include "compiler/train/TrainingGraph.h"

namespace nnc {

inline constexpr const char* kGradientSuffix = "/grad";

struct SplitTrainingStep {
  TrainingGraph gradient;                   // its graph as described above
  Graph update;
  std::vector<std::string> gradientStates;  // "<param>/grad", in parameter order
  std::vector<std::string> statistics;      // State leaves the gradient graph updates (running statistics)
};

Result<SplitTrainingStep> buildSplitTrainingStep(const Model& model);

}  // namespace nnc
