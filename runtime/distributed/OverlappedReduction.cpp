#include "runtime/distributed/OverlappedReduction.h"

#include <algorithm>
#include <chrono>

namespace nnc::distributed {

namespace {

const float* paddedEndOf(const float* p) {
  return reinterpret_cast<const float*>((reinterpret_cast<uintptr_t>(p) + 63) & ~uintptr_t(63));
}

// `b` starts where `a` ends, up to alignment padding.
bool followsInMemory(const float* aEnd, const float* b) { return b == aEnd || b == paddedEndOf(aEnd); }

double overlapSecondsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

std::vector<Bucket> planBuckets(const std::vector<std::span<float>>& tensors, const std::vector<int>& order,
                                size_t closedAfter, int64_t capFloats) {
  std::vector<Bucket> out;
  float* lo = nullptr;
  float* hi = nullptr;
  for (size_t i = 0; i < order.size(); ++i) {
    std::span<float> t = tensors[size_t(order[i])];
    float* newLo = nullptr;
    float* newHi = nullptr;
    if (!out.empty() && i != closedAfter) {
      if (followsInMemory(hi, t.data())) {
        newLo = lo;
        newHi = t.data() + t.size();
      } else if (followsInMemory(t.data() + t.size(), lo)) {
        newLo = t.data();
        newHi = hi;
      }
    }
    if (newLo && newHi - newLo <= capFloats) {
      lo = newLo;
      hi = newHi;
    } else {
      out.emplace_back();
      lo = t.data();
      hi = t.data() + t.size();
    }
    out.back().begin = lo;
    out.back().floats = hi - lo;
    out.back().tensors.push_back(order[i]);
  }
  return out;
}

OverlappedReduction::OverlappedReduction(Communicator& comm, std::vector<std::span<float>> tensors, int64_t capFloats)
    : comm_(comm), tensors_(std::move(tensors)), cap_(std::max<int64_t>(capFloats, 1)) {
  // The first step's plan: adjacent tensors in address order, all reduced after the entry.
  std::vector<int> byAddress(tensors_.size());
  for (size_t i = 0; i < tensors_.size(); ++i) {
    byAddress[i] = int(i);
    tensorAt_[tensors_[i].data()] = int(i);
  }
  std::sort(byAddress.begin(), byAddress.end(),
            [&](int a, int b) { return tensors_[size_t(a)].data() < tensors_[size_t(b)].data(); });
  plan_ = planBuckets(tensors_, byAddress, byAddress.size(), cap_);
  bucketOf_.assign(tensors_.size(), -1);
  for (size_t b = 0; b < plan_.size(); ++b)
    for (int t : plan_[b].tensors) bucketOf_[size_t(t)] = int(b);
  thread_ = std::thread([this] { reductionLoop(); });
}

OverlappedReduction::~OverlappedReduction() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void OverlappedReduction::updateReady(void* state, int64_t byteOffset, int64_t bytes) {
  auto it = tensorAt_.find(reinterpret_cast<const float*>(static_cast<char*>(state) + byteOffset));
  if (it == tensorAt_.end() || int64_t(tensors_[size_t(it->second)].size_bytes()) != bytes) return;  // not ours
  int t = it->second;
  if (learning_) learnedOrder_.push_back(t);
  std::lock_guard<std::mutex> lock(mutex_);
  int b = bucketOf_[size_t(t)];
  if (!active_ || b < 0 || ready_[size_t(b)] || --missing_[size_t(b)] > 0) return;
  ready_[size_t(b)] = true;
  readyAt_[size_t(b)] = overlapSecondsSince(entryStart_);
  ++stats_.readyDuringEntry;
  wake_.notify_all();
}

Result<void> OverlappedReduction::reduce(const Bucket& b, float weight) {
  float* end = b.begin + b.floats;
  if (weight == 0)
    std::fill(b.begin, end, 0.0f);
  else if (weight != 1)
    for (float* p = b.begin; p < end; ++p) *p *= weight;
  for (float* p = b.begin; p < end; p += cap_) NNC_TRY(comm_.sum(p, std::min<int64_t>(cap_, end - p)));
  return {};
}

void OverlappedReduction::reductionLoop() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stop_ || (active_ && next_ < plan_.size() && ready_[next_]); });
    if (stop_) return;
    const Bucket& bucket = plan_[next_];
    if (!entryDone_) ++stats_.startedDuringEntry;
    bool failed = error_.has_value();
    float weight = weight_;
    lock.unlock();
    auto t0 = std::chrono::steady_clock::now();
    // After a failed collective the job is ending (the driver aborts it): skip the rest.
    Result<void> r = failed ? Result<void>() : reduce(bucket, weight);
    double busy = overlapSecondsSince(t0);
    lock.lock();
    stats_.reduceSeconds += busy;
    if (!r && !error_) error_ = r.error();
    if (++next_ == plan_.size()) finished_.notify_all();
  }
}

Result<void> OverlappedReduction::run(float weight, const std::function<Result<void>()>& entry) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    missing_.assign(plan_.size(), 0);
    for (size_t b = 0; b < plan_.size(); ++b) missing_[b] = int(plan_[b].tensors.size());
    ready_.assign(plan_.size(), false);
    next_ = 0;
    weight_ = weight;
    entryDone_ = false;
    error_.reset();
    readyAt_.assign(plan_.size(), -1);
    entryStart_ = std::chrono::steady_clock::now();
    active_ = true;
  }
  auto t0 = entryStart_;
  setUpdateListener(this);
  Result<void> entryResult = entry();
  setUpdateListener(nullptr);
  double entrySeconds = overlapSecondsSince(t0);
  stats_.entrySeconds += entrySeconds;
  t0 = std::chrono::steady_clock::now();
  std::optional<Error> reduceError;
  {
    // Everything is final now: the buckets not yet complete (unsignalled tensors, or an
    // entry that failed half-way) go too.
    std::unique_lock<std::mutex> lock(mutex_);
    entryDone_ = true;
    std::fill(ready_.begin(), ready_.end(), true);
    wake_.notify_all();
    finished_.wait(lock, [&] { return next_ == plan_.size(); });
    active_ = false;
    reduceError = error_;
  }
  stats_.waitSeconds += overlapSecondsSince(t0);
  stats_.readyFraction.resize(plan_.size(), 0.0);
  for (size_t b = 0; b < plan_.size(); ++b)
    stats_.readyFraction[b] += readyAt_[b] < 0 || entrySeconds <= 0 ? 1.0 : std::min(readyAt_[b] / entrySeconds, 1.0);
  ++stats_.planSteps;
  ++stats_.steps;
  stats_.buckets += int64_t(plan_.size());
  if (reduceError) return entryResult ? *reduceError : entryResult.error();
  // Even after a failed entry (whose order is then partial, so the processes disagree and
  // keep the first plan): the other processes take part in the comparison.
  Result<void> adopted = learning_ ? adoptLearnedPlan() : Result<void>();
  if (!entryResult) return entryResult.error();
  return adopted;
}

Result<void> OverlappedReduction::adoptLearnedPlan() {
  learning_ = false;
  // The signalled tensors in signal order, then the others in address order.
  std::vector<int> order;
  std::vector<bool> seen(tensors_.size(), false);
  for (int t : learnedOrder_)
    if (!seen[size_t(t)]) {
      seen[size_t(t)] = true;
      order.push_back(t);
    }
  size_t signalled = order.size();
  std::vector<int> rest;
  for (size_t i = 0; i < tensors_.size(); ++i)
    if (!seen[i]) rest.push_back(int(i));
  std::sort(rest.begin(), rest.end(), [&](int a, int b) { return tensors_[size_t(a)].data() < tensors_[size_t(b)].data(); });
  order.insert(order.end(), rest.begin(), rest.end());
  std::vector<Bucket> plan = planBuckets(tensors_, order, signalled, cap_);
  // Every process must reduce the same buckets in the same order: compare a hash of the plan
  // (tensor indices, not addresses, which differ between processes).
  uint64_t h = 1469598103934665603ull;
  for (const Bucket& b : plan) {
    for (int t : b.tensors) h = (h ^ uint64_t(t + 1)) * 1099511628211ull;
    h = (h ^ 0xffffu) * 1099511628211ull;
  }
  uint64_t lo = 0, hi = 0;
  NNC_TRY(comm_.minMax(&h, &lo, &hi, 1));
  if (lo != hi) return {};  // keep the first step's plan: correct, without overlap
  std::lock_guard<std::mutex> lock(mutex_);
  plan_ = std::move(plan);
  stats_.readyFraction.assign(plan_.size(), 0.0);
  stats_.planSteps = 0;
  bucketOf_.assign(tensors_.size(), -1);
  for (size_t b = 0; b < plan_.size(); ++b)
    for (int t : plan_[b].tensors) bucketOf_[size_t(t)] = int(b);
  return {};
}

}  // namespace nnc::distributed
