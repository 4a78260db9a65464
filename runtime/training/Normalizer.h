#pragma once
// Input normalisation (`normalize` in the train block): x' = (x - shift) * multiplier for
// every float input. `scale(c)` is shift 0, multiplier c; `standardize` is one mean and
// standard deviation per input over the training split. The statistics are saved with the
// weights and applied by eval and predict too.
#include <string>
#include <vector>

#include "runtime/data/Array.h"
#include "runtime/training/TrainingPlan.h"

namespace nnc::training {

struct InputNormalization {
  std::string input;
  double shift = 0;
  double multiplier = 1;
};

// Statistics for every f32 input among `arrays` (aligned with `names`), computed over
// samples [0, trainCount). Integer inputs (labels) are never normalised.
std::vector<InputNormalization> computeNormalization(Normalization kind, double scale,
                                                     const std::vector<std::string>& names,
                                                     const std::vector<data::Array>& arrays, int64_t trainCount);

// Applies the statistics to the matching f32 arrays, in place.
void applyNormalization(const std::vector<InputNormalization>& norms, const std::vector<std::string>& names,
                        std::vector<data::Array>& arrays);

}  // namespace nnc::training
