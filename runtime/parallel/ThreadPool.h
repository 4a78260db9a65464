#pragma once
// The runtime's one thread pool, behind the C entry nnc_parallel_for (runtime/include/nnc/runtime.h).
//
// A region splits [0, n) into `chunks` contiguous pieces (a pure function of n, grain and the
// thread count, so runs are reproducible); worker w runs piece w and the calling thread runs
// piece 0. Workers spin briefly after each region, then sleep on a futex, so back-to-back
// regions (the kernels of one training step) cost a few microseconds each while an idle
// pool costs nothing.
#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "runtime/include/nnc/runtime.h"

namespace nnc::rt {

// [begin, end) of piece `index` when [0, n) is split into `chunks` near-equal pieces.
inline void chunkRange(int64_t n, int64_t chunks, int64_t index, int64_t* begin, int64_t* end) {
  int64_t base = n / chunks, extra = n % chunks;
  *begin = index * base + (index < extra ? index : extra);
  *end = *begin + base + (index < extra ? 1 : 0);
}

// How many pieces a region of n iterations with this grain uses on `threads` threads.
inline int64_t chunkCount(int64_t n, int64_t grain, int threads) {
  if (n <= 0) return 0;
  if (grain < 1) grain = 1;
  int64_t c = n / grain;
  if (c > threads) c = threads;
  return c < 1 ? 1 : c;
}

class ThreadPool {
 public:
  // The process-wide pool (created on first use, never destroyed: workers may still be
  // parked when static destructors run).
  static ThreadPool& instance();

  void parallelFor(nnc_parallel_body body, void* ctx, int64_t n, int64_t grain) noexcept;
  int setThreads(int n) noexcept;
  int threads() const noexcept { return numThreads_.load(std::memory_order_relaxed); }

  // Usable hardware threads of this process (its CPU affinity mask), at least 1.
  static int hardwareThreads() noexcept;

 private:
  ThreadPool();
  void workerLoop(int index) noexcept;
  void startWorkers(int total) noexcept;  // caller holds mu_
  void stopWorkers() noexcept;            // caller holds mu_

  struct Job {
    nnc_parallel_body body = nullptr;
    void* ctx = nullptr;
    int64_t n = 0;
    int64_t chunks = 0;
  };

  std::mutex mu_;  // owned by the host thread whose region is running
  std::vector<std::thread> workers_;
  std::atomic<int> numThreads_{1};
  Job job_;  // written before generation_ is bumped, read by workers after they see it
  std::atomic<uint32_t> generation_{0};
  std::atomic<int> pending_{0};       // workers that have not yet finished the current region
  std::atomic<int> sleepers_{0};      // workers parked on generation_
  std::atomic<int> callerSleeping_{0};
  std::atomic<bool> stop_{false};
};

}  // namespace nnc::rt
