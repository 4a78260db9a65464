// OverlappedReduction without MPI: two "processes" are two threads joined by an in-process
// communicator. A hand-written gradient entry signals its tensors in backward order and, in
// the overlapped steps, waits inside the entry until its first bucket has been summed: that
// only finishes if the reduction really runs while the entry is still computing.
#include <gtest/gtest.h>

#include <barrier>
#include <chrono>
#include <mutex>
#include <thread>

#include "runtime/distributed/OverlappedReduction.h"

namespace nnc::distributed {
namespace {

// Sums and min/max across the threads of a group through shared buffers; may be called from
// any one thread of a process at a time (MPI_THREAD_SERIALIZED).
class OverlapTestCommunicator final : public Communicator {
 public:
  struct Group {
    explicit Group(int n) : size(n), sync(n) {}
    int size;
    std::barrier<> sync;
    std::mutex mutex;
    std::vector<double> sum;
    uint64_t lo = 0, hi = 0;
  };
  OverlapTestCommunicator(Group& g, int rank) : g_(g), rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return g_.size; }
  bool serializedThreads() const override { return true; }
  Result<void> sum(float* data, int64_t n) override { return reduce(data, n); }
  Result<void> sum(double* data, int64_t n) override { return reduce(data, n); }
  Result<void> minMax(const uint64_t* values, uint64_t* mins, uint64_t* maxs, int n) override {
    for (int i = 0; i < n; ++i) {
      if (rank_ == 0) g_.lo = g_.hi = values[i];
      g_.sync.arrive_and_wait();
      {
        std::lock_guard<std::mutex> lock(g_.mutex);
        g_.lo = std::min(g_.lo, values[i]);
        g_.hi = std::max(g_.hi, values[i]);
      }
      g_.sync.arrive_and_wait();
      mins[i] = g_.lo;
      maxs[i] = g_.hi;
      g_.sync.arrive_and_wait();
    }
    return {};
  }
  [[noreturn]] void abortJob(int code) override { std::_Exit(code); }
  int64_t sums = 0;

 private:
  template <typename T>
  Result<void> reduce(T* data, int64_t n) {
    ++sums;
    if (rank_ == 0) g_.sum.assign(size_t(n), 0.0);
    g_.sync.arrive_and_wait();
    {
      std::lock_guard<std::mutex> lock(g_.mutex);
      for (int64_t i = 0; i < n; ++i) g_.sum[size_t(i)] += double(data[i]);
    }
    g_.sync.arrive_and_wait();
    for (int64_t i = 0; i < n; ++i) data[i] = T(g_.sum[size_t(i)]);
    g_.sync.arrive_and_wait();
    return {};
  }
  Group& g_;
  int rank_;
};

constexpr int kTensors = 3;
constexpr int kFloats = 16;  // 64 bytes: the tensors are adjacent, with no padding between

TEST(OverlappedReduction, BucketsFollowTheSignalOrderAndStayAdjacent) {
  alignas(64) float buffer[kTensors * kFloats] = {};
  std::vector<std::span<float>> tensors;
  for (int t = 0; t < kTensors; ++t) tensors.push_back(std::span<float>(buffer + t * kFloats, kFloats));
  // Backward order (last tensor first), all three fit one bucket: it grows downwards.
  std::vector<Bucket> one = planBuckets(tensors, {2, 1, 0}, 3, 3 * kFloats);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].begin, buffer);
  EXPECT_EQ(one[0].floats, 3 * kFloats);
  EXPECT_EQ(one[0].tensors, (std::vector<int>{2, 1, 0}));
  // A cap of two tensors: {2, 1}, then {0}.
  std::vector<Bucket> two = planBuckets(tensors, {2, 1, 0}, 3, 2 * kFloats);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].begin, buffer + kFloats);
  EXPECT_EQ(two[1].tensors, (std::vector<int>{0}));
  // Not adjacent in memory: separate buckets, whatever the cap.
  EXPECT_EQ(planBuckets(tensors, {0, 2, 1}, 3, 100).size(), 2u);
  // Signalled tensors never share a bucket with those reduced after the entry.
  EXPECT_EQ(planBuckets(tensors, {2, 1, 0}, 1, 100).size(), 2u);
}

TEST(OverlappedReduction, ReducesWhileTheEntryRunsAndEqualsTheSum) {
  OverlapTestCommunicator::Group group(2);
  constexpr int kSteps = 3;
  struct Rank {
    alignas(64) float state[kTensors * kFloats] = {};
    OverlappedReduction::Stats stats;
    bool overlapped[kSteps] = {};
    std::string error;
  } ranks[2];
  auto run = [&](int r) {
    OverlapTestCommunicator comm(group, r);
    Rank& me = ranks[r];
    std::vector<std::span<float>> tensors;
    for (int t = 0; t < kTensors; ++t) tensors.push_back(std::span<float>(me.state + t * kFloats, kFloats));
    // One tensor a bucket: the cap is one tensor.
    OverlappedReduction reduction(comm, tensors, kFloats);
    float weight = r == 0 ? 0.25f : 0.75f;
    for (int step = 0; step < kSteps; ++step) {
      Result<void> ok = reduction.run(weight, [&]() -> Result<void> {
        // The backward pass: tensor 2's gradient is final first, then 1, then 0.
        for (int t = kTensors - 1; t >= 0; --t) {
          for (int i = 0; i < kFloats; ++i) me.state[t * kFloats + i] = float((r + 1) * (100 * step + 10 * t + i));
          nnc_update_ready(me.state, int64_t(t) * kFloats * 4, kFloats * 4);
          if (step == 0 || t != kTensors - 1) continue;
          // From the second step on, tensor 2's bucket is reduced while this entry waits for it.
          float expect = 0.25f * float(100 * step + 10 * t) + 0.75f * 2 * float(100 * step + 10 * t);
          auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
          while (std::chrono::steady_clock::now() < deadline) {
            if (reinterpret_cast<volatile float*>(me.state)[t * kFloats] == expect) {
              me.overlapped[step] = true;
              break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
          }
        }
        return {};
      });
      if (!ok) me.error = ok.error().message;
      for (int t = 0; t < kTensors; ++t)
        for (int i = 0; i < kFloats; ++i) {
          float v = float(100 * step + 10 * t + i);
          EXPECT_FLOAT_EQ(me.state[t * kFloats + i], 0.25f * v + 0.75f * 2 * v) << "step " << step << " tensor " << t;
        }
    }
    me.stats = reduction.stats();
  };
  std::thread other(run, 1);
  run(0);
  other.join();
  for (const Rank& r : ranks) {
    EXPECT_EQ(r.error, "");
    EXPECT_TRUE(r.overlapped[1] && r.overlapped[2]) << "a bucket was not reduced while the entry ran";
    EXPECT_EQ(r.stats.steps, kSteps);
    EXPECT_EQ(r.stats.buckets, 3 * kSteps);
    // The learned plan: every bucket completes inside the entry in steps 2 and 3.
    EXPECT_GE(r.stats.readyDuringEntry, 2 * kTensors);
    EXPECT_GE(r.stats.startedDuringEntry, 2);
  }
}

TEST(OverlappedReduction, ReducesAfterAFailedEntryAndReportsItsError) {
  OverlapTestCommunicator::Group group(2);
  std::string errors[2];
  auto run = [&](int r) {
    OverlapTestCommunicator comm(group, r);
    alignas(64) float state[kFloats] = {1};
    OverlappedReduction reduction(comm, {std::span<float>(state, kFloats)}, kFloats);
    // Rank 1's entry fails before signalling; both processes still sum once, so neither waits forever.
    Result<void> ok = reduction.run(0.5f, [&]() -> Result<void> {
      if (r == 1) return makeError("entry failed");
      nnc_update_ready(state, 0, kFloats * 4);
      return {};
    });
    if (!ok) errors[r] = ok.error().message;
    EXPECT_EQ(comm.sums, 1);
  };
  std::thread other(run, 1);
  run(0);
  other.join();
  EXPECT_EQ(errors[0], "");
  EXPECT_EQ(errors[1], "entry failed");
}

}  // namespace
}  // namespace nnc::distributed
