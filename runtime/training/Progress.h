#pragma once
// Training progress as a Keras user knows it. On a terminal: a live bar per epoch with the
// step count, ETA and running loss and accuracy. Otherwise (a file, a pipe, CI): one plain
// line per epoch. `--log` adds one JSON object per epoch to a file.
#include <chrono>
#include <cstdint>
#include <fstream>
#include <memory>
#include <iosfwd>
#include <optional>
#include <string>

#include "support/Result.h"

namespace nnc::training {

struct EpochStats {
  int64_t epoch = 0;  // from 1, as printed
  double loss = 0;
  std::optional<double> accuracy;
  std::optional<double> valLoss;
  std::optional<double> valAccuracy;
  double seconds = 0;
  double samplesPerSecond = 0;
  double learningRate = 0;
};

class ProgressReporter {
 public:
  ProgressReporter(std::ostream& os, bool interactive, int64_t totalEpochs)
      : os_(os), interactive_(interactive), totalEpochs_(totalEpochs) {}
  void beginEpoch(int64_t epoch, int64_t steps);
  void step(int64_t done, double runningLoss, std::optional<double> runningAccuracy);
  void endEpoch(const EpochStats& s);
  void message(const std::string& text);  // a line of its own (clears a live bar first)

 private:
  std::ostream& os_;
  bool interactive_;
  int64_t totalEpochs_;
  int64_t steps_ = 0;
  bool barShown_ = false;
  std::chrono::steady_clock::time_point epochStart_, lastDraw_;
};

// One JSON object per line: epoch, loss, accuracy, val_loss, val_accuracy (where known),
// seconds, samples_per_second, lr, and model (the model's name, when given: `nnc plot`
// titles its picture with it).
class JsonLog {
 public:
  static Result<JsonLog> open(const std::string& path, const std::string& model = "");
  Result<void> write(const EpochStats& s);

 private:
  std::string path_, model_;
  std::shared_ptr<std::ofstream> out_;
};

// "loss: 0.4213 - accuracy: 0.8512 - val_loss: ..." (the parts that are known).
std::string formatMetrics(const EpochStats& s);

}  // namespace nnc::training
