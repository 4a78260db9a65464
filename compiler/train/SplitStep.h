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
//
// Sufficient factors (docs/distributed.md): a weight gradient that is a product summed over
// the batch's rows, dW = A^T B with A [batch, m] and B [batch, n] (a dense layer's weight:
// its input and output gradient), is not written by the gradient graph when the factors of
// the global batch, batch * (m + n) floats, are fewer than the gradient's m * n. The gradient
// graph outputs the two factors instead, the runtime gathers every process's rows of them in
// global row order (MPI_Allgatherv), and the update graph, whose batch is then the global
// batch, computes the product itself from its Input leaves of those names.
#include <string>
#include <vector>

#include "compiler/train/TrainingGraph.h"

namespace nnc {

inline constexpr const char* kGradientSuffix = "/grad";

inline constexpr const char* kFactorSuffixA = "/factor.a";
inline constexpr const char* kFactorSuffixB = "/factor.b";

// One gradient computed by the update graph from gathered factors.
struct GradientFactors {
  std::string param;
  std::string a, b;  // "<param>/factor.a", "<param>/factor.b": gradient graph outputs, update graph Inputs
  int64_t aColumns = 0, bColumns = 0;  // floats a row
};

struct SplitStepOptions {
  // The global batch the step trains on (decides which gradients are worth factoring); 0:
  // the train block's.
  int64_t batch = 0;
  bool gradientFactors = true;  // false: every gradient is reduced whole
};

struct SplitTrainingStep {
  TrainingGraph gradient;                   // its graph as described above
  Graph update;
  std::vector<std::string> gradientStates;  // "<param>/grad", in parameter order
  std::vector<std::string> statistics;      // State leaves the gradient graph updates (running statistics)
  std::vector<GradientFactors> factors;     // gradients the update graph computes (not in gradientStates)
};

Result<SplitTrainingStep> buildSplitTrainingStep(const Model& model, const SplitStepOptions& options = {});

}  // namespace nnc
