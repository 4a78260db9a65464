#include "runtime/parallel/ThreadPool.h"

#include <sched.h>

#include <system_error>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define NNC_CPU_RELAX() _mm_pause()
#else
#define NNC_CPU_RELAX() ((void)0)
#endif

namespace nnc::rt {

namespace {

// Spin iterations before a thread parks. A pause is tens of cycles, so this is some tens of
// microseconds: longer than the gap between the kernels of one step, short enough that an
// idle pool stops burning a core almost at once.
constexpr int kSpinIterations = 1 << 14;

// The most pieces a region can have (the claim word's field width).
constexpr int kMaxThreads = 0xffff;

// True on pool workers and on a host thread while it runs a region: a parallel_for issued
// from there runs serially instead of waiting for threads that are already busy.
thread_local bool tInsideRegion = false;

}  // namespace

ThreadPool& ThreadPool::instance() {
  static ThreadPool* pool = new ThreadPool();  // leaked on purpose, see the header
  return *pool;
}

ThreadPool::ThreadPool() {
  std::lock_guard<std::mutex> lock(mu_);
  startWorkers(hardwareThreads());
}

int ThreadPool::hardwareThreads() noexcept {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

void ThreadPool::startWorkers(int total) noexcept {
  if (total < 1) total = 1;
  if (total > kMaxThreads) total = kMaxThreads;
  workers_.reserve(static_cast<size_t>(total - 1));
  // The generation a new worker has "seen": read now, under mu_, so a region started before
  // the thread gets scheduled is still one it joins.
  uint32_t start = generation_.load(std::memory_order_acquire);
  for (int w = 1; w < total; ++w) {
    try {
      workers_.emplace_back([this, start] { workerLoop(start); });
    } catch (const std::system_error&) {
      break;  // fewer threads than asked for: run with what we have
    }
  }
  numThreads_.store(static_cast<int>(workers_.size()) + 1, std::memory_order_relaxed);
}

void ThreadPool::stopWorkers() noexcept {
  stop_.store(true, std::memory_order_seq_cst);
  generation_.fetch_add(1, std::memory_order_seq_cst);
  generation_.notify_all();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
  stop_.store(false, std::memory_order_seq_cst);
  numThreads_.store(1, std::memory_order_relaxed);
}

int ThreadPool::setThreads(int n) noexcept {
  if (n < 1) n = hardwareThreads();
  std::lock_guard<std::mutex> lock(mu_);
  if (n != threads()) {
    stopWorkers();
    startWorkers(n);
  }
  return threads();
}

void ThreadPool::runPieces(uint32_t generation) noexcept {
  uint64_t c = claim_.load(std::memory_order_acquire);
  for (;;) {
    uint32_t gen = static_cast<uint32_t>(c >> 32);
    uint32_t chunks = static_cast<uint32_t>(c >> 16) & 0xffff, next = static_cast<uint32_t>(c) & 0xffff;
    if (gen != generation || next >= chunks) return;  // another region, or nothing left
    if (!claim_.compare_exchange_weak(c, packClaim(gen, chunks, next + 1), std::memory_order_acq_rel,
                                      std::memory_order_acquire))
      continue;
    int64_t begin, end;
    chunkRange(n_, chunks, next, &begin, &end);
    body_(ctx_, begin, end);
    if (done_.fetch_add(1, std::memory_order_seq_cst) + 1 == static_cast<int>(chunks) &&
        callerSleeping_.load(std::memory_order_seq_cst) != 0)
      done_.notify_one();
    c = claim_.load(std::memory_order_acquire);
  }
}

void ThreadPool::workerLoop(uint32_t seen) noexcept {
  tInsideRegion = true;
  for (;;) {
    // Wait for the next region: spin, then park.
    uint32_t g = generation_.load(std::memory_order_acquire);
    for (int i = 0; g == seen && i < kSpinIterations; ++i) {
      NNC_CPU_RELAX();
      g = generation_.load(std::memory_order_acquire);
    }
    if (g == seen) {
      sleepers_.fetch_add(1, std::memory_order_seq_cst);
      while ((g = generation_.load(std::memory_order_seq_cst)) == seen) generation_.wait(seen, std::memory_order_seq_cst);
      sleepers_.fetch_sub(1, std::memory_order_relaxed);
    }
    seen = g;
    if (stop_.load(std::memory_order_acquire)) return;
    runPieces(g);
  }
}

void ThreadPool::parallelFor(nnc_parallel_body body, void* ctx, int64_t n, int64_t grain) noexcept {
  if (n <= 0 || body == nullptr) return;
  int64_t chunks = chunkCount(n, grain, threads());
  if (chunks <= 1 || tInsideRegion || !mu_.try_lock()) {
    body(ctx, 0, n);
    return;
  }
  // The thread count cannot change while we hold mu_; re-derive in case it just did.
  chunks = chunkCount(n, grain, threads());
  if (chunks <= 1) {
    mu_.unlock();
    body(ctx, 0, n);
    return;
  }
  tInsideRegion = true;
  body_ = body;
  ctx_ = ctx;
  n_ = n;
  done_.store(0, std::memory_order_relaxed);
  uint32_t gen = generation_.load(std::memory_order_relaxed) + 1;
  // Piece 0 is the caller's, claimed before the region is published (see the header).
  claim_.store(packClaim(gen, static_cast<uint32_t>(chunks), 1), std::memory_order_seq_cst);
  generation_.store(gen, std::memory_order_seq_cst);
  if (sleepers_.load(std::memory_order_seq_cst) > 0) generation_.notify_all();

  int64_t begin, end;
  chunkRange(n, chunks, 0, &begin, &end);
  body(ctx, begin, end);
  done_.fetch_add(1, std::memory_order_seq_cst);
  runPieces(gen);  // then any piece no worker has claimed yet

  int finished = done_.load(std::memory_order_acquire);
  for (int i = 0; finished != chunks && i < kSpinIterations; ++i) {
    NNC_CPU_RELAX();
    finished = done_.load(std::memory_order_acquire);
  }
  if (finished != chunks) {
    callerSleeping_.store(1, std::memory_order_seq_cst);
    while ((finished = done_.load(std::memory_order_seq_cst)) != chunks) done_.wait(finished, std::memory_order_seq_cst);
    callerSleeping_.store(0, std::memory_order_relaxed);
  }
  tInsideRegion = false;
  mu_.unlock();
}

}  // namespace nnc::rt

extern "C" {

int nnc_parallel_for(nnc_parallel_body body, void* ctx, int64_t n, int64_t grain) {
  nnc::rt::ThreadPool::instance().parallelFor(body, ctx, n, grain);
  return 0;
}

int nnc_set_num_threads(int n) { return nnc::rt::ThreadPool::instance().setThreads(n); }

int nnc_get_num_threads(void) { return nnc::rt::ThreadPool::instance().threads(); }

}  // extern "C"
