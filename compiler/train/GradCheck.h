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
// smooth. (For a smooth loss the three agree to O(h^2), so a wrong gradient still fails.)
//
// The error of an entry is |a - n| / max(|a|, |n|, floor), floor = absoluteFloor * max(1, |L|).
// The floor is what f64 finite differences can resolve: rounding makes each L(.) uncertain by
// about 2^-52 |L|, which a one-sided difference at h = 1e-6 turns into an uncertainty of about
// 4e-16 |L| / 1e-6 ~ 1e-9 |L| in the derivative; with tolerance 1e-6 that needs a floor of
// about 1e-3 |L|, and 1e-2 |L| leaves a margin. So derivatives above 0.01 |L| are compared
// relatively (to 1e-6), smaller ones absolutely (to 1e-8 |L|). A parameter passes when its
// largest error is at most `tolerance`.
//
// Each parameter's finite differences evaluate only the part of the forward graph that
// depends on it: values it cannot change are computed once and fed in.
#include <cstdint>
#include <string>
#include <vector>

#include "compiler/ir/Model.h"
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
  double absoluteFloor = 1e-2;
  double tolerance = 1e-6;
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

// One line per parameter ("h1.weight  max relative error 3.1e-10  (20 of 200205 entries)")
// and a verdict line.
std::string formatGradCheckReport(const GradCheckReport& report);

}  // namespace nnc
