#pragma once
// The runtime's one thread pool, behind the C entry nnc_parallel_for (runtime/include/nnc/runtime.h).
//
// A region splits [0, n) into `chunks` contiguous pieces: a pure function of n, grain and the
// thread count, so every run does the same arithmetic on the same pieces (bit-reproducible).
// Which thread runs which piece is decided at run time: the calling thread always runs piece 0
// (claimed before the region is published), and the workers claim the others from a shared
// counter. So on 2 threads, consecutive regions over the same rows give each thread the same
// rows every time (unless the worker is late and the caller takes its piece too): a region
// reads what the same core wrote in the region before, from its own cache. When the caller
// raced the worker for the first piece, the worker won it a quarter to all of the time on the
// 2-core VM, and every such region moved half of its operands between the cores' caches.
// A worker that is slow to wake (a busy machine) costs nothing: the caller claims its pieces
// itself and never waits for a thread that has not started one. Workers spin briefly after each region, then sleep on a futex, so back-to-back
// regions (the kernels of one training step) cost a few microseconds while an idle pool
// costs nothing.
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

// How many pieces a region of n iterations with this grain uses on `threads` threads: at most
// one per thread, each at least `grain` iterations (grain < 1 counts as 1).
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
  void workerLoop(uint32_t seen) noexcept;
  void startWorkers(int total) noexcept;  // caller holds mu_
  void stopWorkers() noexcept;            // caller holds mu_
  // Claims and runs pieces of region `generation` until none is left.
  void runPieces(uint32_t generation) noexcept;

  // The claim word: region generation (32 bits) | piece count (16) | next piece (16).
  static uint64_t packClaim(uint32_t gen, uint32_t chunks, uint32_t next) {
    return (uint64_t(gen) << 32) | (uint64_t(chunks) << 16) | next;
  }

  std::mutex mu_;  // owned by the host thread whose region is running
  std::vector<std::thread> workers_;
  std::atomic<int> numThreads_{1};
  // The current region. Written before claim_ is published; a piece of region g can only be
  // claimed while region g runs, and region g ends only after all its pieces are done, so a
  // worker holding a claimed piece always reads the right job.
  nnc_parallel_body body_ = nullptr;
  void* ctx_ = nullptr;
  int64_t n_ = 0;
  std::atomic<uint64_t> claim_{0};
  std::atomic<uint32_t> generation_{0};  // bumped per region: what parked workers wait on
  std::atomic<int> done_{0};             // pieces finished in the current region
  std::atomic<int> sleepers_{0};         // workers parked on generation_
  std::atomic<int> callerSleeping_{0};
  std::atomic<bool> stop_{false};
};

}  // namespace nnc::rt
