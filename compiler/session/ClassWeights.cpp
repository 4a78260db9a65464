#include "compiler/session/ClassWeights.h"

#include "runtime/training/Sampling.h"

namespace nnc {

Result<void> applyClassWeights(const training::TrainingPlan& plan, const std::vector<data::Array>& arrays,
                               int64_t trainCount, training::Executor& exec) {
  if (plan.classWeighting == training::ClassWeighting::None || plan.classWeightsState.empty()) return {};
  std::span<float> dst = exec.state(plan.classWeightsState);
  std::vector<double> w = plan.classWeights;
  if (plan.classWeighting == training::ClassWeighting::Balanced) {
    if (plan.labelInput < 0 || size_t(plan.labelInput) >= arrays.size() ||
        arrays[size_t(plan.labelInput)].dtype() != data::DType::I32)
      return makeError("class_weights = balanced needs integer class labels as a model input");
    auto labels = arrays[size_t(plan.labelInput)].i32();
    w = training::balancedClassWeights(labels.subspan(0, std::min(labels.size(), size_t(trainCount))), plan.numClasses);
  }
  if (w.size() != dst.size())
    return makeError("class_weights has " + std::to_string(w.size()) + " entries for " + std::to_string(dst.size()) +
                     " classes");
  for (size_t i = 0; i < w.size(); ++i) dst[i] = float(w[i]);
  return {};
}

}  // namespace nnc
