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
// w is (L(w + h) - L(w - h)) / (2h) with h = relativeStep * max(1, |w|). The error of an
// entry is |a - n| / max(|a|, |n|, floor), floor = absoluteFloor * max(1, |L|): f64 finite
// differences are accurate to about 1e-10 * |L| in absolute terms (rounding in L divided by
// 2h), so gradients smaller than the floor are compared in absolute terms instead of by a
// relative error that would only measure that noise. A parameter passes when its largest
// error is at most `tolerance`.
#include <cstdint>
#include <string>
#include <vector>

#include "compiler/ir/Model.h"
#include "compiler/support/Result.h"

namespace nnc {

struct GradCheckOptions {
  uint64_t seed = 0;
  int64_t batch = 3;
  int64_t allEntriesUpTo = 32;
  int64_t sampledEntries = 20;
  double relativeStep = 1e-5;
  double absoluteFloor = 1e-4;
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
