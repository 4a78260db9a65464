#pragma once
// The engine of `nnc FILE gradcheck [--seed S]`: every parameter's gradient of the training
// loss, from the training graph's gradient nodes, against central finite differences, all
// in double precision through the reference interpreter.
//
// The point of comparison: a batch of `batch` random samples (f32 inputs uniform in [0, 1),
// like normalised images; i32 inputs uniform class labels in [0, depth) where the input
// feeds a one_hot of that depth, e.g. inside cross_entropy, else in [0, 2)); parameters and
// state from their initializers with the same seed; step 0, so every dropout mask is fixed.
// Batch normalisation runs in training mode (batch statistics), as the loss being trained.
//
// Per parameter, every entry of a parameter with at most `allEntriesUpTo` entries is
// checked, otherwise `sampledEntries` distinct random ones. The numeric derivative of entry
// w is the central difference (L(w + h) - L(w - h)) / 2h, h = relativeStep * max(1, |w|).
// Where that disagrees with the analytic value, the entry is re-measured with the two
// second-order one-sided differences, (+-)(3 L(w) - 4 L(w -+ h) + L(w -+ 2h)) / 2h, and the
// better of the three counts: relu, max and maxpool have kinks, and a kink within h of the
// point makes the central difference meaningless while one side of the point is still
// smooth. Where all three disagree, the same is tried with h / 10 and h / 100 (`stepShrinks`):
// in a deep relu stack whose signal has nearly died, activations are not much larger than h
// and a step of h crosses kinks on both sides. (For a smooth loss every estimate agrees to
// O(h^2), so a wrong gradient still fails.)
//
// The tolerance is PyTorch gradcheck's atol and rtol, with atol on the loss's scale: an entry
// passes when |a - n| <= max(tolerance * max(|a|, |n|), absoluteTolerance * max(1, |L|)).
// The absolute part is what f64 finite differences can resolve: rounding makes each L(.)
// uncertain by about 2^-52 |L|, which the smallest step (1e-8) turns into about 2e-8 |L| in
// the derivative; 1e-6 |L| leaves a margin. A derivative that small carries no signal: a 30
// layer relu stack gives its biases analytic -2.4e-08 against numeric -5.6e-11, both noise.
// The error reported is |a - n| / max(|a|, |n|, floor), floor = absoluteTolerance / tolerance
// * max(1, |L|), so a parameter passes when its largest error is at most `tolerance`.
//
// Each parameter's finite differences evaluate only the part of the forward graph that
// depends on it: values it cannot change are computed once and fed in.
#include <cstdint>
#include <string>
#include <vector>

#include "compiler/ir/Model.h"
#include "compiler/train/TrainingGraph.h"
#include "support/Result.h"

namespace nnc {

struct GradCheckOptions {
  uint64_t seed = 0;
  int64_t batch = 3;
  // 10 sampled entries keep fashion_cnn.nn (800k-parameter dense layer, two 5x5 convolutions)
  // at about 20 s in the reference interpreter.
  int64_t allEntriesUpTo = 16;
  int64_t sampledEntries = 10;
  double relativeStep = 1e-6;
  int stepShrinks = 2;              // also try h / 10, h / 100 where h disagrees
  double tolerance = 1e-6;          // relative (PyTorch's rtol)
  double absoluteTolerance = 1e-6;  // times max(1, |loss|) (PyTorch's atol, on the loss's scale)
};

struct ParamGradCheck {
  std::string name;
  int64_t entries = 0;         // the parameter's size
  int64_t checked = 0;         // how many entries were compared
  double maxError = 0;         // the largest error of a checked entry
  int64_t worstIndex = -1;     // its row-major index
  double analytic = 0, numeric = 0;  // the two derivatives there
  bool reached = true;         // false: the loss does not depend on it (its gradient is 0; checked as such)
  int64_t oneSided = 0;        // entries measured one-sidedly (a kink within h of the point)
};

struct GradCheckReport {
  std::vector<ParamGradCheck> params;
  double loss = 0;
  double tolerance = 0;
  double floor = 0;
  bool passed() const;
};

// Errors: no train block or loss, a gradient rule missing, the loss not finite at the
// random point, interpreter errors.
Result<GradCheckReport> gradCheck(const Model& model, const GradCheckOptions& options = {});
// The same on a gradient graph already built from `model` (buildGradientGraph): tests give it
// one with a deliberately wrong gradient, which must fail.
Result<GradCheckReport> gradCheck(const Model& model, const TrainingGraph& gradients,
                                  const GradCheckOptions& options = {});

// One line per parameter ("h1.weight  max relative error 3.1e-10  (20 of 200205 entries)")
// and a verdict line.
std::string formatGradCheckReport(const GradCheckReport& report);

}  // namespace nnc
