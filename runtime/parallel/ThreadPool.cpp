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
  workers_.reserve(static_cast<size_t>(total - 1));
  for (int w = 1; w < total; ++w) {
    try {
      workers_.emplace_back([this, w] { workerLoop(w); });
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

void ThreadPool::workerLoop(int index) noexcept {
  tInsideRegion = true;
  uint32_t seen = generation_.load(std::memory_order_acquire);
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

    Job job = job_;
    if (index < job.chunks) {
      int64_t begin, end;
      chunkRange(job.n, job.chunks, index, &begin, &end);
      job.body(job.ctx, begin, end);
    }
    // Every worker checks in (not only those with a piece), so job_ is never rewritten
    // while a late worker is still reading it.
    if (pending_.fetch_sub(1, std::memory_order_seq_cst) == 1 &&
        callerSleeping_.load(std::memory_order_seq_cst) != 0)
      pending_.notify_one();
  }
}

void ThreadPool::parallelFor(nnc_parallel_body body, void* ctx, int64_t n, int64_t grain) noexcept {
  if (n <= 0 || body == nullptr) return;
  int64_t chunks = chunkCount(n, grain, threads());
  if (chunks <= 1 || tInsideRegion || !mu_.try_lock()) {
    body(ctx, 0, n);
    return;
  }
  // The thread count cannot change while we hold mu_; re-derive in case it did just before.
  chunks = chunkCount(n, grain, threads());
  if (chunks <= 1) {
    mu_.unlock();
    body(ctx, 0, n);
    return;
  }
  tInsideRegion = true;
  job_ = Job{body, ctx, n, chunks};
  int workers = static_cast<int>(workers_.size());
  pending_.store(workers, std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_seq_cst);
  if (sleepers_.load(std::memory_order_seq_cst) > 0) generation_.notify_all();

  int64_t begin, end;
  chunkRange(n, chunks, 0, &begin, &end);
  body(ctx, begin, end);

  int left = pending_.load(std::memory_order_acquire);
  for (int i = 0; left != 0 && i < kSpinIterations; ++i) {
    NNC_CPU_RELAX();
    left = pending_.load(std::memory_order_acquire);
  }
  if (left != 0) {
    callerSleeping_.store(1, std::memory_order_seq_cst);
    while ((left = pending_.load(std::memory_order_seq_cst)) != 0) pending_.wait(left, std::memory_order_seq_cst);
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
