#pragma once
// Learning-rate schedules, exactly as LANGUAGE.md defines them.
#include <cstdint>

#include "runtime/training/TrainingPlan.h"

namespace nnc::training {

// The rate at epoch `epoch` (from 0) and optimizer step `step` (from 0).
double learningRateAt(double baseRate, const LearningRateSchedule& s, int64_t epoch, int64_t step);

}  // namespace nnc::training
