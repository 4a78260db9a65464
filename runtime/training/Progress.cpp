#include "runtime/training/Progress.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <ostream>

namespace nnc::training {

namespace {
std::string fixed(double v, int digits = 4) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  long s = std::lround(seconds);
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  else if (s >= 60) std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%lds", s);
  return buf;
}
}  // namespace

std::string formatMetrics(const EpochStats& s) {
  std::string out = "loss: " + fixed(s.loss);
  if (s.accuracy) out += " - accuracy: " + fixed(*s.accuracy);
  if (s.valLoss) out += " - val_loss: " + fixed(*s.valLoss);
  if (s.valAccuracy) out += " - val_accuracy: " + fixed(*s.valAccuracy);
  return out;
}

void ProgressReporter::beginEpoch(int64_t epoch, int64_t steps) {
  steps_ = steps;
  epochStart_ = lastDraw_ = std::chrono::steady_clock::now();
  if (interactive_) os_ << "Epoch " << epoch << '/' << totalEpochs_ << '\n' << std::flush;
}

void ProgressReporter::step(int64_t done, double runningLoss, std::optional<double> runningAccuracy) {
  if (!interactive_) return;
  auto now = std::chrono::steady_clock::now();
  // Redraw at most ten times a second: a terminal is slower than a training step.
  if (done < steps_ && now - lastDraw_ < std::chrono::milliseconds(100)) return;
  lastDraw_ = now;
  double elapsed = std::chrono::duration<double>(now - epochStart_).count();
  double eta = done > 0 ? elapsed / double(done) * double(steps_ - done) : 0;
  constexpr int kWidth = 30;
  int filled = steps_ > 0 ? int(double(kWidth) * double(done) / double(steps_)) : kWidth;
  std::string bar(size_t(filled), '=');
  if (filled < kWidth) bar += '>' + std::string(size_t(kWidth - filled - 1), '.');
  std::string width = std::to_string(steps_);
  char count[64];
  std::snprintf(count, sizeof count, "%*lld/%lld", int(width.size()), static_cast<long long>(done),
                static_cast<long long>(steps_));
  os_ << '\r' << count << " [" << bar << "] " << (done < steps_ ? "ETA " + duration(eta) : duration(elapsed))
      << " - loss: " << fixed(runningLoss);
  if (runningAccuracy) os_ << " - accuracy: " << fixed(*runningAccuracy);
  os_ << "\x1b[K" << std::flush;  // clear what a longer previous line left
  barShown_ = true;
}

void ProgressReporter::endEpoch(const EpochStats& s) {
  if (interactive_) {
    if (barShown_) os_ << '\r' << "\x1b[K";
    barShown_ = false;
    os_ << steps_ << '/' << steps_ << " - " << duration(s.seconds) << " - " << formatMetrics(s) << '\n' << std::flush;
    return;
  }
  os_ << "Epoch " << s.epoch << '/' << totalEpochs_ << " - " << fixed(s.seconds, 1) << "s - " << formatMetrics(s)
      << '\n'
      << std::flush;
}

void ProgressReporter::message(const std::string& text) {
  if (barShown_) os_ << '\r' << "\x1b[K";
  barShown_ = false;
  os_ << text << '\n' << std::flush;
}

Result<JsonLog> JsonLog::open(const std::string& path, const std::string& model) {
  JsonLog log;
  log.path_ = path;
  log.model_ = model;
  log.out_ = std::make_shared<std::ofstream>(path, std::ios::trunc);
  if (!*log.out_) return makeError(path + ": cannot open the log file for writing: " + std::strerror(errno));
  return log;
}

Result<void> JsonLog::write(const EpochStats& s) {
  nlohmann::json j;
  j["epoch"] = s.epoch;
  j["loss"] = s.loss;
  if (s.accuracy) j["accuracy"] = *s.accuracy;
  if (s.valLoss) j["val_loss"] = *s.valLoss;
  if (s.valAccuracy) j["val_accuracy"] = *s.valAccuracy;
  j["seconds"] = s.seconds;
  j["samples_per_second"] = s.samplesPerSecond;
  j["lr"] = s.learningRate;
  if (!model_.empty()) j["model"] = model_;
  *out_ << j.dump() << '\n' << std::flush;
  if (!*out_) return makeError(path_ + ": cannot write the log file: " + std::strerror(errno));
  return {};
}

}  // namespace nnc::training
