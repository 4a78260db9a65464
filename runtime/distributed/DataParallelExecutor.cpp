#include "runtime/distributed/DataParallelExecutor.h"

#include <algorithm>
#include <chrono>
#include <cstring>

namespace nnc::distributed {

// Gradients are summed in buckets of adjacent tensors (the state buffer keeps them together)
// of up to DataParallelOptions::bucketBytes, as Horovod's tensor fusion and DDP's buckets
// do: one collective per bucket instead of one per tensor, so small tensors (biases) do not
// pay a latency each.

std::pair<int64_t, int64_t> shareOf(int64_t batch, int rank, int size) {
  // batch * rank may overflow for absurd batches; __int128 keeps the split exact.
  auto at = [&](int r) { return int64_t((__int128)batch * r / size); };
  int64_t first = at(rank);
  return {first, at(rank + 1) - first};
}

DataParallelExecutor::DataParallelExecutor(training::Executor& inner, SplitStepExecutor& split, Communicator& comm,
                                           const std::atomic<bool>* localInterrupt, DataParallelOptions options)
    : inner_(inner), split_(split), comm_(comm), localInterrupt_(localInterrupt), options_(options),
      factors_(split.factors()), gathered_(factors_.size()) {
  const int64_t bytes = reducedBytesPerStep();
  if (options_.overlap == OverlapMode::Off)
    overlapOffReason_ = "turned off";
  else if (comm_.size() < 2)
    overlapOffReason_ = "one process";
  else if (!comm_.serializedThreads())
    overlapOffReason_ = "the communicator allows no thread of its own";
  else if (options_.overlap == OverlapMode::Automatic && !overlapPays(bytes))
    overlapOffReason_ = "automatic: " + std::to_string(bytes) + " bytes reduced per step, fewer than the " +
                        std::to_string(kOverlapMinBytes) + " that pay for a reduction thread";
  if (overlapOffReason_.empty()) {
    std::vector<std::span<float>> tensors = split_.gradients();
    for (std::span<float> s : split_.statistics()) tensors.push_back(s);
    overlap_ = std::make_unique<OverlappedReduction>(comm_, std::move(tensors), std::max<int64_t>(options_.bucketBytes / 4, 1));
  }
}

std::vector<const void*> DataParallelExecutor::rowsFrom(std::span<const void* const> inputs, int64_t first) const {
  std::vector<const void*> out(inputs.size());
  const auto& specs = inner_.inputs();
  for (size_t i = 0; i < inputs.size(); ++i) {
    int64_t rowElements = 1;
    if (i < specs.size())
      for (size_t d = 1; d < specs[i].shape.size(); ++d) rowElements *= specs[i].shape[d];
    out[i] = inputs[i] ? static_cast<const char*>(inputs[i]) + size_t(first) * size_t(rowElements) * 4 : nullptr;
  }
  return out;
}

Result<void> DataParallelExecutor::averageTensors(std::vector<std::span<float>> tensors, float weight) {
  std::sort(tensors.begin(), tensors.end(), [](auto a, auto b) { return a.data() < b.data(); });
  for (std::span<float> t : tensors) {
    if (weight == 0)
      std::fill(t.begin(), t.end(), 0.0f);
    else if (weight != 1)
      for (float& v : t) v *= weight;
  }
  // Tensors that follow each other in the state buffer (only the 64-byte alignment padding,
  // zeros on every process, between them) form one bucket.
  const int64_t bucketFloats = std::max<int64_t>(options_.bucketBytes / 4, 1);
  auto paddedEnd = [](const float* p) {
    return reinterpret_cast<const float*>((reinterpret_cast<uintptr_t>(p) + 63) & ~uintptr_t(63));
  };
  for (size_t i = 0; i < tensors.size();) {
    float* begin = tensors[i].data();
    float* end = begin + tensors[i].size();
    size_t j = i + 1;
    while (j < tensors.size() && (tensors[j].data() == end || tensors[j].data() == paddedEnd(end)) &&
           (tensors[j].data() + tensors[j].size()) - begin <= bucketFloats)
    {
      end = tensors[j].data() + tensors[j].size();
      ++j;
    }
    for (float* p = begin; p < end; p += bucketFloats)
      NNC_TRY(comm_.startSum(p, std::min<int64_t>(bucketFloats, end - p)));
    i = j;
  }
  return {};
}

Result<void> DataParallelExecutor::gatherFactors(int64_t batch, int64_t rows, float weight) {
  if (factors_.empty()) return {};
  std::vector<int64_t> shares(size_t(comm_.size()));
  for (int r = 0; r < comm_.size(); ++r) shares[size_t(r)] = shareOf(batch, r, comm_.size()).second;
  int64_t first = shareOf(batch, comm_.rank(), comm_.size()).first;
  for (size_t i = 0; i < factors_.size(); ++i) {
    const int64_t width = factors_[i].rowFloats;
    std::vector<float>& all = gathered_[i];
    if (int64_t(all.size()) < batch * width) all.resize(size_t(batch * width));
    if (rows > 0) {
      std::span<const float> local = split_.localFactor(i);
      if (int64_t(local.size()) != rows * width) return makeError("internal: a gradient factor has the wrong size");
      float scale = factors_[i].weighted ? weight : 1.0f;
      float* mine = all.data() + first * width;
      for (size_t k = 0; k < local.size(); ++k) mine[k] = local[k] * scale;
    }
    NNC_TRY(comm_.startGather(all.data(), width, shares));
    times_.factorBytes += rows * width * 4;
  }
  return {};
}

void DataParallelExecutor::localFigures(const training::BatchResult& local, int64_t rows, double figures[4]) const {
  bool stop = localInterrupt_ && localInterrupt_->load();
  figures[0] = local.loss * double(rows);
  figures[1] = double(local.correct);
  figures[2] = double(local.counted);
  figures[3] = stop ? 1.0 : 0.0;
}

training::BatchResult DataParallelExecutor::globalResult(const double figures[4], int64_t batch) {
  if (figures[3] > 0) globalInterrupt_.store(true);
  training::BatchResult r;
  r.loss = figures[0] / double(batch);
  r.correct = int64_t(figures[1]);
  r.counted = int64_t(figures[2]);
  return r;
}

Result<training::BatchResult> DataParallelExecutor::gradientHalf(std::span<const void* const> inputs, int64_t batch,
                                                                 float lr, float step, int64_t first, int64_t rows) {
  training::BatchResult local;
  // The gradient of the batch's mean loss is the rows-weighted mean of the shares' gradients.
  // Running statistics: momentum * running + (1 - momentum) * share statistic, averaged with
  // the same weights, is the update with the rows-weighted mean of the shares' statistics.
  float weight = float(double(rows) / double(batch));
  auto entry = [&]() -> Result<void> {
    if (rows == 0) return {};
    if (options_.profileKernels) profile::record(&gradientKernels_);
    Result<training::BatchResult> r = split_.gradientStep(rowsFrom(inputs, first), rows, lr, step, first);
    if (options_.profileKernels) profile::record(nullptr);
    if (!r) return r.error();
    local = std::move(*r);
    return {};
  };
  if (overlap_) {
    double before = overlap_->stats().entrySeconds;
    NNC_TRY(overlap_->run(weight, entry));
    lastEntrySeconds_ = overlap_->stats().entrySeconds - before;
  } else {
    auto t0 = std::chrono::steady_clock::now();
    NNC_TRY(entry());
    lastEntrySeconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    NNC_TRY(averageTensors(split_.gradients(), weight));
    NNC_TRY(averageTensors(split_.statistics(), weight));
  }
  // On the entry's thread, after the reduction thread's last collective of the step; the
  // caller finishes them.
  NNC_TRY(gatherFactors(batch, rows, weight));
  return local;
}

Result<training::BatchResult> DataParallelExecutor::trainStep(std::span<const void* const> inputs, int64_t batch,
                                                              float lr, float step) {
  using Clock = std::chrono::steady_clock;
  auto seconds = [](Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); };
  auto t0 = Clock::now();
  auto [first, rows] = shareOf(batch, comm_.rank(), comm_.size());
  Result<training::BatchResult> local = gradientHalf(inputs, batch, lr, step, first, rows);
  if (!local) return local.error();
  // The step's figures travel with the sums and gathers still in flight: one wait for all.
  double figures[4];
  localFigures(*local, rows, figures);
  NNC_TRY(comm_.startSum(figures, 4));
  NNC_TRY(comm_.finish());
  training::BatchResult global = globalResult(figures, batch);
  auto t2 = Clock::now();
  std::vector<const float*> factors;
  for (const std::vector<float>& f : gathered_) factors.push_back(f.data());
  if (options_.profileKernels) profile::record(&updateKernels_);
  Result<void> updated = split_.updateStep(lr, step, factors, batch);
  if (options_.profileKernels) profile::record(nullptr);
  NNC_TRY(updated);
  ++times_.steps;
  // The gradient half's time is its entry's; the rest of it is waiting for the reductions
  // that the entry did not hide.
  times_.updateSeconds += seconds(t2, Clock::now());
  times_.computeSeconds += lastEntrySeconds_ + seconds(t2, Clock::now());
  times_.reduceSeconds += seconds(t0, t2) - lastEntrySeconds_;
  return global;
}

Result<training::BatchResult> DataParallelExecutor::evaluate(std::span<const void* const> inputs, int64_t batch,
                                                             bool wantPredicted) {
  if (wantPredicted) return inner_.evaluate(inputs, batch, true);
  auto [first, rows] = shareOf(batch, comm_.rank(), comm_.size());
  training::BatchResult local;
  if (rows > 0) {
    Result<training::BatchResult> r = inner_.evaluate(rowsFrom(inputs, first), rows, false);
    if (!r) return r.error();
    local = std::move(*r);
  }
  double figures[4];
  localFigures(local, rows, figures);
  NNC_TRY(comm_.sum(figures, 4));
  return globalResult(figures, batch);
}

int64_t DataParallelExecutor::reducedBytesPerStep() const {
  int64_t floats = 0;
  for (std::span<float> t : split_.gradients()) floats += int64_t(t.size());
  for (std::span<float> t : split_.statistics()) floats += int64_t(t.size());
  return floats * 4;
}

}  // namespace nnc::distributed
