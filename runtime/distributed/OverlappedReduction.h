#pragma once
// Averaging tensors across processes while the backward pass still computes (DDP's and
// Horovod's overlap; docs/distributed.md, "Overlap").
//
// The gradient entry calls nnc_update_ready as each gradient becomes final (UpdateSignal.h).
// Tensors are grouped into buckets: runs of tensors adjacent in the state buffer, in the order
// their signals come, of up to a cap of floats. A thread of its own (MPI_THREAD_SERIALIZED)
// scales each bucket by the process's share of the rows and sums it across processes as soon
// as its last tensor is final, while the entry goes on computing earlier layers' gradients.
// Buckets are reduced in one fixed order on every process (collectives must match), the
// order in which their last signal came during the first step. Tensors the entry never
// signals (copied into the state at its end) form the last buckets, reduced once it returns.
//
// The first step learns the order (its buckets are those of adjacent tensors, all reduced
// after the entry); the processes check they learned the same plan before using it, and
// keep the first step's plan if they did not.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include "runtime/distributed/Communicator.h"
#include "runtime/distributed/UpdateSignal.h"

namespace nnc::distributed {

// A run of tensors reduced by one collective (or by pieces of at most the cap, for a tensor
// larger than it).
struct Bucket {
  float* begin = nullptr;
  int64_t floats = 0;
  std::vector<int> tensors;  // indices into the reduction's tensor list
};

// Buckets over `tensors` visited in `order` (indices): a bucket grows while the next tensor
// is adjacent in memory to either end of it (64-byte alignment padding, zeros on every
// process, may lie between) and the whole stays within `capFloats`; the first `closedAfter`
// entries of `order` never share a bucket with the later ones.
std::vector<Bucket> planBuckets(const std::vector<std::span<float>>& tensors, const std::vector<int>& order,
                                size_t closedAfter, int64_t capFloats);

class OverlappedReduction final : public UpdateListener {
 public:
  // `tensors`: every tensor a step averages (gradients, running statistics), in the state
  // buffer that the entries signal about. Starts the reduction thread.
  OverlappedReduction(Communicator& comm, std::vector<std::span<float>> tensors, int64_t capFloats);
  ~OverlappedReduction() override;

  // Runs `entry` (the gradient half of a step) with this as the thread's update listener and
  // returns once every tensor, multiplied by `weight`, is summed across processes. The
  // reductions complete even when the entry fails, so the processes' collectives stay
  // matched; the entry's error comes first, then a reduction's.
  Result<void> run(float weight, const std::function<Result<void>()>& entry);

  void updateReady(void* state, int64_t byteOffset, int64_t bytes) override;

  // What the overlap achieved, summed over steps.
  struct Stats {
    int64_t steps = 0;
    int64_t buckets = 0;              // reduced
    int64_t readyDuringEntry = 0;     // of those, complete before the entry returned
    int64_t startedDuringEntry = 0;   // ... and whose collective started before it returned
    double entrySeconds = 0;          // in the gradient entry (the reductions overlap it)
    double waitSeconds = 0;           // after it, waiting for the reductions to finish
    double reduceSeconds = 0;         // the reduction thread's busy time
    // Per bucket of the current plan: when it was complete, as a fraction of its entry's
    // time, summed over the steps that used the plan (planSteps; 1.0 for the buckets
    // completed only by the entry's return).
    std::vector<double> readyFraction;
    int64_t planSteps = 0;
  };
  const Stats& stats() const { return stats_; }
  int64_t bucketsPerStep() const { return int64_t(plan_.size()); }

 private:
  void reductionLoop();
  Result<void> reduce(const Bucket& b, float weight);
  Result<void> adoptLearnedPlan();

  Communicator& comm_;
  std::vector<std::span<float>> tensors_;
  std::map<const float*, int> tensorAt_;
  int64_t cap_;
  std::vector<Bucket> plan_;
  std::vector<int> bucketOf_;  // per tensor
  bool learning_ = true;
  std::vector<int> learnedOrder_;

  std::mutex mutex_;
  std::condition_variable wake_, finished_;
  std::vector<int> missing_;    // per bucket: tensors not yet final this step
  std::vector<bool> ready_;     // per bucket
  size_t next_ = 0;             // the next bucket the thread reduces
  bool active_ = false;         // a step is under way
  bool entryDone_ = false;
  std::chrono::steady_clock::time_point entryStart_;
  std::vector<double> readyAt_;  // per bucket: seconds into the entry, or -1
  bool stop_ = false;
  float weight_ = 1;
  std::optional<Error> error_;
  Stats stats_;
  std::thread thread_;
};

}  // namespace nnc::distributed
