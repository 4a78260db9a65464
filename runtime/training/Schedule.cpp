#include "runtime/training/Schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace nnc::training {

double learningRateAt(double base, const LearningRateSchedule& s, int64_t epoch, int64_t step) {
  switch (s.kind) {
    case LearningRateSchedule::Kind::Constant:
      return base;
    case LearningRateSchedule::Kind::Step:
      // `factor` every `every` epochs.
      return base * std::pow(s.factor, std::floor(double(epoch) / s.every));
    case LearningRateSchedule::Kind::Exponential:
      // lr * rate^(step / every), continuous in the step.
      return base * std::pow(s.rate, double(step) / s.every);
    case LearningRateSchedule::Kind::Cosine: {
      double e = std::min(double(epoch), s.epochs);
      return base * (1 + std::cos(std::numbers::pi * e / s.epochs)) / 2;
    }
  }
  return base;
}

}  // namespace nnc::training
