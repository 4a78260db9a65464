#include "runtime/training/Trainer.h"

#include <chrono>
#include <cmath>
#include <cstring>
#include <sstream>

#include "runtime/support/Interrupt.h"
#include "runtime/training/Schedule.h"

namespace nnc::training {

namespace {

using Clock = std::chrono::steady_clock;

// Gathers rows `order[first .. first+count)` of every input into contiguous batch buffers.
class BatchGatherer {
 public:
  // Buffers grow to the largest batch actually gathered: `--batch` may exceed the number of
  // samples by any amount (up to 2^63), and must not be allocated as asked.
  explicit BatchGatherer(const std::vector<data::Array>& arrays) : arrays_(arrays) {
    buffers_.resize(arrays.size());
    pointers_.resize(arrays.size());
  }
  std::span<const void* const> gather(const std::vector<int64_t>& order, size_t first, size_t count) {
    for (size_t i = 0; i < arrays_.size(); ++i) {
      size_t rowBytes = size_t(arrays_[i].sampleNumel()) * 4;
      const char* src = static_cast<const char*>(arrays_[i].data());
      if (buffers_[i].size() < count * rowBytes) buffers_[i].resize(count * rowBytes);
      char* dst = buffers_[i].data();
      for (size_t k = 0; k < count; ++k)
        std::memcpy(dst + k * rowBytes, src + size_t(order[first + k]) * rowBytes, rowBytes);
      pointers_[i] = dst;
    }
    return pointers_;
  }

 private:
  const std::vector<data::Array>& arrays_;
  std::vector<std::vector<char>> buffers_;
  std::vector<const void*> pointers_;
};

std::string numberText(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

// The first value that is not finite among the f32 inputs of the batch `order[first ..
// first+count)`, described for the NaN-loss message; "" when every value is finite. Tells bad
// data (a NaN in a file, an overflowing normalisation) from a diverging model.
std::string firstNonFiniteInput(const std::vector<TensorSpec>& inputs, const std::vector<data::Array>& arrays,
                                const std::vector<int64_t>& order, size_t first, size_t count) {
  for (size_t i = 0; i < arrays.size(); ++i) {
    if (arrays[i].dtype() != data::DType::F32) continue;
    const size_t perSample = size_t(arrays[i].sampleNumel());
    std::span<const float> values = arrays[i].f32();
    for (size_t k = 0; k < count; ++k) {
      const size_t sample = size_t(order[first + k]);
      for (size_t j = 0; j < perSample; ++j) {
        float v = values[sample * perSample + j];
        if (std::isfinite(v)) continue;
        std::string name = i < inputs.size() ? inputs[i].name : std::to_string(i);
        return "input '" + name + "' of sample " + std::to_string(sample) + " (counted from 0) is " +
               (std::isnan(v) ? "NaN" : v > 0 ? "+inf" : "-inf") + " at element " + std::to_string(j) + " of " +
               std::to_string(perSample);
      }
    }
  }
  return "";
}

std::string nonFiniteLossMessage(double loss, int64_t epoch, int64_t step, int64_t optimizerStep, double lr,
                                 const std::string& badInput) {
  std::string text = std::string("the loss became ") + (std::isnan(loss) ? "NaN" : "infinite") + " at epoch " +
                     std::to_string(epoch) + ", step " + std::to_string(step) + " (optimizer step " +
                     std::to_string(optimizerStep) + ", learning rate " + numberText(lr) + "); ";
  if (badInput.empty())
    return text + "the batch's inputs were all finite, so the model diverged (a learning rate too large, or a log "
                  "of zero in the loss). Training stopped; try a smaller learning rate.";
  return text + "the batch's inputs were not all finite: " + badInput +
         ". Training stopped; the data must be fixed, not the learning rate.";
}

}  // namespace

std::vector<std::vector<float>> snapshotState(Executor& exec) {
  std::vector<std::vector<float>> snap;
  for (const TensorSpec& t : exec.stateTensors()) {
    std::span<float> v = exec.state(t.name);
    snap.emplace_back(v.begin(), v.end());
  }
  return snap;
}

void restoreState(Executor& exec, const std::vector<std::vector<float>>& snapshot) {
  const auto& specs = exec.stateTensors();
  for (size_t i = 0; i < specs.size() && i < snapshot.size(); ++i) {
    std::span<float> v = exec.state(specs[i].name);
    if (v.size() == snapshot[i].size()) std::memcpy(v.data(), snapshot[i].data(), v.size_bytes());
  }
}

Result<EvalSummary> evaluateRange(Executor& exec, const std::vector<data::Array>& arrays, int64_t begin, int64_t end,
                                  int64_t batch, bool wantPredicted) {
  EvalSummary s;
  double lossSum = 0;
  int64_t correct = 0, counted = 0;
  std::vector<const void*> ptrs(arrays.size());
  for (int64_t first = begin, n = 0; first < end; first += n) {  // += n: first + batch may overflow
    n = std::min(batch, end - first);
    for (size_t i = 0; i < arrays.size(); ++i)
      ptrs[i] = static_cast<const char*>(arrays[i].data()) + size_t(first) * size_t(arrays[i].sampleNumel()) * 4;
    Result<BatchResult> r = exec.evaluate(ptrs, n, wantPredicted);
    if (!r) return r.error();
    lossSum += r->loss * double(n);
    correct += r->correct;
    counted += r->counted;
    if (wantPredicted) s.predicted.insert(s.predicted.end(), r->predicted.begin(), r->predicted.end());
    interrupt::testPoint("eval-batch");
  }
  s.samples = end - begin;
  s.loss = s.samples ? lossSum / double(s.samples) : 0;
  if (counted) s.accuracy = double(correct) / double(counted);
  return s;
}

Result<FitOutcome> fit(Executor& exec, const TrainingPlan& plan, const std::vector<data::Array>& arrays,
                       const FitOptions& options) {
  FitOutcome out;
  out.epochsDone = options.firstEpoch;
  out.stepsDone = options.firstStep;
  if (arrays.empty() || arrays[0].numSamples() == 0) return makeError("the training data holds no samples");
  const int64_t n = arrays[0].numSamples();
  Split split = splitForValidation(n, plan.validation);
  if (split.trainCount == 0)
    return makeError("the validation split of " + numberText(plan.validation) + " leaves no training samples out of " +
                     std::to_string(n));
  std::span<const int32_t> labels;
  if (plan.labelInput >= 0 && size_t(plan.labelInput) < arrays.size() && arrays[size_t(plan.labelInput)].dtype() == data::DType::I32)
    labels = arrays[size_t(plan.labelInput)].i32();
  const int64_t batch = std::max<int64_t>(1, plan.batch);
  BatchGatherer gatherer(arrays);

  // A copy of the weights with the epoch and step count they belong to: the last completed
  // epoch (what an error or an interrupt falls back to) and the best one (early stopping).
  struct Kept {
    std::vector<std::vector<float>> state;
    int64_t epochs = 0, steps = 0;
  };
  Kept lastGood{snapshotState(exec), options.firstEpoch, options.firstStep}, best;
  auto fallBackTo = [&](const Kept& kept) {
    restoreState(exec, kept.state);
    out.epochsDone = kept.epochs;
    out.stepsDone = kept.steps;
  };
  std::optional<double> bestValLoss;
  int64_t sinceBest = 0;
  int64_t stepsDone = options.firstStep;

  for (int64_t epoch = options.firstEpoch; epoch < plan.epochs; ++epoch) {  // from 0, in the whole run
    std::vector<int64_t> order = epochOrder(split.trainCount, labels, plan.numClasses, plan, epoch);
    // Not (size + batch - 1) / batch: that overflows for a batch near 2^63.
    const int64_t steps = int64_t(order.size()) / batch + (int64_t(order.size()) % batch != 0);
    if (options.progress) options.progress->beginEpoch(epoch + 1, steps);
    auto start = Clock::now();
    double lossSum = 0, lr = 0;
    int64_t seen = 0, correct = 0, counted = 0;
    for (int64_t s = 0; s < steps; ++s) {
      if (options.interrupt && options.interrupt->load()) {
        fallBackTo(lastGood);
        out.interrupted = true;
        return out;
      }
      size_t first = size_t(s * batch);
      size_t count = std::min(size_t(batch), order.size() - first);
      lr = learningRateAt(plan.learningRate, plan.schedule, epoch, stepsDone);
      Result<BatchResult> r = exec.trainStep(gatherer.gather(order, first, count), int64_t(count), float(lr),
                                             float(stepsDone));
      if (!r) {
        fallBackTo(lastGood);
        return r.error();
      }
      if (!std::isfinite(r->loss)) {
        fallBackTo(lastGood);
        return makeError(nonFiniteLossMessage(r->loss, epoch + 1, s + 1, stepsDone + 1, lr,
                                              firstNonFiniteInput(exec.inputs(), arrays, order, first, count)));
      }
      ++stepsDone;
      lossSum += r->loss * double(count);
      seen += int64_t(count);
      correct += r->correct;
      counted += r->counted;
      if (options.progress)
        options.progress->step(s + 1, lossSum / double(seen),
                               counted ? std::optional<double>(double(correct) / double(counted)) : std::nullopt);
      interrupt::testPoint("train-step");
    }
    EpochStats stats;
    stats.epoch = epoch + 1;
    stats.loss = seen ? lossSum / double(seen) : 0;
    if (counted) stats.accuracy = double(correct) / double(counted);
    stats.learningRate = lr;
    if (split.validationCount() > 0) {
      Result<EvalSummary> v = evaluateRange(exec, arrays, split.trainCount, split.total, batch, false);
      if (!v) {
        fallBackTo(lastGood);
        return v.error();
      }
      stats.valLoss = v->loss;
      stats.valAccuracy = v->accuracy;
    }
    stats.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    stats.samplesPerSecond = stats.seconds > 0 ? double(seen) / stats.seconds : 0;
    out.history.push_back(stats);
    lastGood = {snapshotState(exec), epoch + 1, stepsDone};
    out.epochsDone = lastGood.epochs;
    out.stepsDone = lastGood.steps;
    if (options.progress) options.progress->endEpoch(stats);
    if (options.log) NNC_TRY(options.log->write(stats));

    if (plan.earlyStopPatience && stats.valLoss) {
      if (!bestValLoss || *stats.valLoss < *bestValLoss) {
        bestValLoss = stats.valLoss;
        best = lastGood;
        out.bestEpoch = epoch + 1;
        sinceBest = 0;
      } else if (++sinceBest >= *plan.earlyStopPatience) {
        fallBackTo(best);
        out.stoppedEarly = true;
        if (options.progress)
          options.progress->message("Early stopping: val_loss has not improved for " + std::to_string(sinceBest) +
                                    " epochs; keeping the weights of epoch " + std::to_string(*out.bestEpoch) + ".");
        return out;
      }
    }
  }
  if (plan.earlyStopPatience && !best.state.empty() && out.bestEpoch && *out.bestEpoch != out.epochsDone) {
    fallBackTo(best);
    if (options.progress)
      options.progress->message("Keeping the weights of epoch " + std::to_string(*out.bestEpoch) +
                                ", which had the lowest val_loss.");
  }
  return out;
}

}  // namespace nnc::training
