#include "compiler/session/ModelPlan.h"

namespace nnc {

std::vector<NodeId> modelInputs(const Model& model) { return model.graph.leaves(OpKind::Input); }

std::vector<data::InputSpec> inputSpecsFor(const Model& model) {
  std::vector<data::InputSpec> specs;
  for (NodeId id : modelInputs(model)) {
    const Node& n = model.graph.node(id);
    std::vector<int64_t> sample = n.type.shape.dims;
    if (n.type.shape.isBatched()) sample.erase(sample.begin());
    specs.push_back({n.name, n.type.dtype == DType::I32, sample});
  }
  return specs;
}

std::vector<training::TensorSpec> inputTensorSpecsFor(const Model& model) {
  std::vector<training::TensorSpec> specs;
  for (NodeId id : modelInputs(model)) {
    const Node& n = model.graph.node(id);
    specs.push_back({n.name, n.type.dtype == DType::I32 ? data::DType::I32 : data::DType::F32, n.type.shape.dims});
  }
  return specs;
}

int64_t numClassesOf(const Model& model) {
  if (!model.train || model.train->accuracy != AccuracyKind::Categorical || model.train->accuracyLogits == kNoNode)
    return 0;
  const Shape& s = model.graph.type(model.train->accuracyLogits).shape;
  return s.rank() ? s.dims.back() : 0;
}

training::TrainingPlan trainingPlanFor(const Model& model) {
  using namespace training;
  TrainingPlan plan;
  if (!model.train) return plan;
  const TrainConfig& t = *model.train;
  plan.batch = t.batch;
  plan.epochs = t.epochs;
  plan.validation = t.validation;
  plan.shuffle = t.shuffle;
  plan.seed = t.seed;
  plan.learningRate = t.optimizer.lr();
  plan.schedule = t.schedule;
  plan.earlyStopPatience = t.earlyStopPatience;
  plan.normalization = t.normalize == NormalizeKind::Scale         ? Normalization::Scale
                       : t.normalize == NormalizeKind::Standardize ? Normalization::Standardize
                                                                   : Normalization::None;
  plan.normalizeScale = t.normalizeScale;
  plan.classWeighting = t.classWeights == ClassWeightsKind::Balanced ? ClassWeighting::Balanced
                        : t.classWeights == ClassWeightsKind::List   ? ClassWeighting::List
                                                                     : ClassWeighting::None;
  plan.classWeights = t.classWeightList;
  if (t.classWeightsState != kNoNode) plan.classWeightsState = model.graph.node(t.classWeightsState).name;
  plan.oversample = t.sampling == SamplingKind::Oversample;
  plan.accuracy = t.accuracy == AccuracyKind::Categorical ? Accuracy::Categorical
                  : t.accuracy == AccuracyKind::Binary    ? Accuracy::Binary
                                                          : Accuracy::None;
  std::vector<NodeId> inputs = modelInputs(model);
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i] == t.accuracyLabels) plan.labelInput = int(i);
  if (plan.labelInput < 0) plan.accuracy = Accuracy::None;  // labels computed in the model: not compared
  plan.numClasses = numClassesOf(model);
  return plan;
}

}  // namespace nnc
