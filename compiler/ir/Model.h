#pragma once
// A checked model: its forward graph (as the user wrote it, layers expanded into
// primitives except the mode-dependent Dropout and BatchNorm), the `train` block's
// configuration, and the Keras-style layer table that `nnc summary` prints.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "compiler/ir/Graph.h"
#include "compiler/ir/Optimizer.h"
#include "compiler/ir/TuneSpace.h"
#include "runtime/training/TrainingPlan.h"

namespace nnc {

// One row of `nnc summary`: a named value of the model (an input, a layer, an op).
struct LayerRow {
  std::string name;     // "h1"
  std::string kind;     // "Dense", "Conv2D", "InputLayer", "Flatten", ...
  Shape outputShape;
  int64_t trainableParams = 0;
  int64_t nonTrainableParams = 0;
};

enum class NormalizeKind { None, Scale, Standardize };
enum class ClassWeightsKind { None, Balanced, List };
enum class SamplingKind { None, Oversample };
// What accuracy means for the loss: argmax of logits vs integer labels, or a thresholded
// sigmoid vs 0/1 targets; None for regression losses.
enum class AccuracyKind { None, Categorical, Binary };

// How products compute (LANGUAGE.md's `precision`): F32, or BF16 mixed precision, where every
// matrix product and convolution takes its operands rounded to bfloat16 and accumulates in
// f32 (passes/RoundProductOperands.h; train/TrainingGraph.h applies it to every graph).
enum class ProductPrecision { F32, BF16 };
inline const char* productPrecisionName(ProductPrecision p) { return p == ProductPrecision::BF16 ? "bf16" : "f32"; }

struct TrainConfig {
  SourceLoc loc;  // the `train` keyword
  NodeId loss = kNoNode;
  OptimizerConfig optimizer;
  double weightDecay = 0;
  int64_t batch = 32;
  int64_t epochs = 1;
  double validation = 0;
  bool shuffle = true;
  uint64_t seed = 0;
  NormalizeKind normalize = NormalizeKind::None;
  double normalizeScale = 1;
  training::LearningRateSchedule schedule;  // Cosine's epochs filled in (the block's epochs by default)
  std::optional<int64_t> earlyStopPatience;
  ClassWeightsKind classWeights = ClassWeightsKind::None;
  std::vector<double> classWeightList;
  // The State leaf holding per-class weights that cross_entropy reads when the train block
  // names class_weights (the runtime fills it: `balanced` needs the data's class counts).
  NodeId classWeightsState = kNoNode;
  SamplingKind sampling = SamplingKind::None;
  AccuracyKind accuracy = AccuracyKind::None;
  NodeId accuracyLogits = kNoNode;  // the loss's prediction operand
  NodeId accuracyLabels = kNoNode;  // the loss's label operand
};

struct Model {
  std::string name;
  Graph graph;
  std::vector<LayerRow> layers;
  std::optional<TrainConfig> train;
  std::optional<TuneSpace> tune;
  // The value each tune name took in this model, in the tune block's order (`summary` shows them).
  std::vector<std::pair<std::string, double>> hyperparameters;
  // Training graphs take each dropout's rate as a run-time scalar (a Hyper leaf named by
  // dropoutRateName(k), compiler/train/TrainingGraph.h) instead of an attribute, so models
  // that differ only in dropout rates share compiled code. `nnc tune` sets it; off, the
  // graphs (and the AOT interface) are as before.
  bool runtimeDropoutRates = false;
  // The train block's `precision`, or `--precision`, which overrides it (also for a model
  // without a train block): every graph built from the model computes its products so.
  ProductPrecision precision = ProductPrecision::F32;
};

}  // namespace nnc
