#pragma once
// The training loop's configuration: the model's `train` block as the runtime needs it, with
// the command line's overrides applied. Plain data, so the runtime does not depend on the
// compiler.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nnc::training {

struct LearningRateSchedule {
  enum class Kind { Constant, Step, Exponential, Cosine } kind = Kind::Constant;
  double every = 1;    // Step: epochs; Exponential: optimizer steps
  double factor = 1;   // Step
  double rate = 1;     // Exponential
  double epochs = 1;   // Cosine
};

enum class Normalization { None, Scale, Standardize };
enum class ClassWeighting { None, Balanced, List };
enum class Accuracy { None, Categorical, Binary };

struct TrainingPlan {
  int64_t batch = 32;
  int64_t epochs = 1;
  double validation = 0;
  bool shuffle = true;
  uint64_t seed = 0;
  double learningRate = 0.01;
  LearningRateSchedule schedule;
  std::optional<int64_t> earlyStopPatience;
  Normalization normalization = Normalization::None;
  double normalizeScale = 1;
  ClassWeighting classWeighting = ClassWeighting::None;
  std::vector<double> classWeights;  // ClassWeighting::List
  std::string classWeightsState;     // the state tensor the loss reads class weights from
  bool oversample = false;
  Accuracy accuracy = Accuracy::None;
  int labelInput = -1;      // index of the input holding labels (or binary targets), -1 if none
  int64_t numClasses = 0;   // categorical losses: classes; else 0
};

}  // namespace nnc::training
