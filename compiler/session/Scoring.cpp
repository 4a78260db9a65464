#include "compiler/session/Scoring.h"

#include <algorithm>

namespace nnc {

training::BatchResult scoreBatch(double loss, const PredictionView& prediction,
                                 const std::vector<training::TensorSpec>& inputSpecs, int labelInput,
                                 std::span<const void* const> inputs, int64_t batch, bool wantPredicted) {
  training::BatchResult r;
  r.loss = loss;
  if (!prediction.data || labelInput < 0 || size_t(labelInput) >= inputs.size() || !inputs[size_t(labelInput)])
    return r;
  const training::TensorSpec& label = inputSpecs[size_t(labelInput)];
  int64_t perSample = 1;
  for (size_t i = 1; i < label.shape.size(); ++i) perSample *= label.shape[i];
  int64_t n = std::min<int64_t>(prediction.count, batch * perSample);
  const void* labels = inputs[size_t(labelInput)];
  for (int64_t i = 0; i < n; ++i) {
    double actual = label.dtype == data::DType::I32 ? static_cast<const int32_t*>(labels)[i]
                                                    : static_cast<const float*>(labels)[i];
    double predicted = prediction.isInteger ? static_cast<const int32_t*>(prediction.data)[i]
                                            : static_cast<const float*>(prediction.data)[i];
    r.correct += predicted == actual;
  }
  r.counted = n;
  if (wantPredicted && prediction.isInteger) {
    const int32_t* p = static_cast<const int32_t*>(prediction.data);
    r.predicted.assign(p, p + prediction.count);
  }
  return r;
}

}  // namespace nnc
