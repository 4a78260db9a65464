#pragma once
// Learning curves: a training run's loss and accuracy per epoch (training and validation)
// as a Figure for SvgPlot, from the trainer's history (`train --plot`) or from the JSON-lines
// logs `train --log` writes (`nnc plot`).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/plot/SvgPlot.h"
#include "runtime/training/Progress.h"
#include "support/Result.h"

namespace nnc::plot {

struct Run {
  std::string label;  // names the run in the legend when several are drawn ("run1")
  std::string model;  // the model's name (may be empty: a log from before it was recorded)
  std::vector<training::EpochStats> epochs;
  std::optional<int64_t> bestEpoch;  // early stopping kept this epoch's weights: marked
};

// Two panels, loss and accuracy (only loss when no run has an accuracy), with epochs on x.
// One run: training and validation in two colours. Several: a colour per run, validation
// dashed. The title is the model's name (the names, when runs differ).
Figure learningCurves(const std::vector<Run>& runs);

// Reads a log written by `train --log`: one JSON object per line with `epoch` (a positive
// integer, increasing) and `loss`, and optionally `accuracy`, `val_loss`, `val_accuracy`,
// `model`. Errors name the file and the line: a missing file, a line that is not a JSON
// object, a missing or non-numeric value, epochs out of order, a log with no epochs.
Result<Run> readTrainingLog(const std::string& path);

}  // namespace nnc::plot
