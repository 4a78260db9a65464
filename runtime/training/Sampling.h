#pragma once
// Which samples a training epoch visits, and in what order: the validation split (taken from
// the end of the data, before any shuffling, as Keras does), per-epoch shuffling from the
// seed, oversampling of rare classes, and balanced class weights.
#include <cstdint>
#include <span>
#include <vector>

#include "runtime/training/TrainingPlan.h"

namespace nnc::training {

struct Split {
  int64_t trainCount = 0;  // samples [0, trainCount) train
  int64_t total = 0;       // samples [trainCount, total) validate
  int64_t validationCount() const { return total - trainCount; }
};

// Keras's rule: the first int(n * (1 - validation)) samples train.
Split splitForValidation(int64_t n, double validation);

// A small deterministic generator (splitmix64): the same seed gives the same stream on every
// platform, unlike std::shuffle with a standard engine.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next();
  // Uniform in [0, n), without modulo bias.
  uint64_t below(uint64_t n);

 private:
  uint64_t state_;
};

// The training samples of epoch `epoch`, in visiting order. `labels` are the class ids of
// samples [0, trainCount) (needed only when oversampling).
std::vector<int64_t> epochOrder(int64_t trainCount, std::span<const int32_t> labels, int64_t numClasses,
                                const TrainingPlan& plan, int64_t epoch);

// n / (classes * count_c), the weights that make every class weigh as much in total
// (scikit-learn's and Keras's `balanced`). Absent classes get weight 1.
std::vector<double> balancedClassWeights(std::span<const int32_t> labels, int64_t numClasses);

}  // namespace nnc::training
