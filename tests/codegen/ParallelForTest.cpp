// The runtime's parallel-for: coverage, partition determinism, nesting, tiny regions,
// concurrent host threads and thread-count changes. No timing assertions.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "runtime/include/nnc/runtime.h"
#include "runtime/parallel/ThreadPool.h"

namespace nnc {
namespace {

struct Marks {
  std::vector<std::atomic<int>> hits;
  explicit Marks(int64_t n) : hits(static_cast<size_t>(n)) {}
};

void markRange(void* ctx, int64_t begin, int64_t end) {
  auto* m = static_cast<Marks*>(ctx);
  for (int64_t i = begin; i < end; ++i) m->hits[static_cast<size_t>(i)].fetch_add(1);
}

struct ThreadsScope {
  int before;
  explicit ThreadsScope(int n) : before(nnc_get_num_threads()) { nnc_set_num_threads(n); }
  ~ThreadsScope() { nnc_set_num_threads(before); }
};

TEST(ParallelFor, EveryIterationExactlyOnce) {
  for (int threads : {1, 2, 3, 8}) {
    ThreadsScope ts(threads);
    EXPECT_EQ(nnc_get_num_threads(), threads);
    for (int64_t n : {0, 1, 2, 3, 7, 64, 1000, 100003})
      for (int64_t grain : {0, 1, 5, 1000, 1 << 20}) {
        Marks m(n);
        EXPECT_EQ(nnc_parallel_for(markRange, &m, n, grain), 0);
        for (int64_t i = 0; i < n; ++i) ASSERT_EQ(m.hits[static_cast<size_t>(i)].load(), 1) << "n " << n << " i " << i;
      }
  }
}

TEST(ParallelFor, PartitionIsAPureFunctionOfSizeGrainAndThreads) {
  // The chunk boundaries the pool uses: contiguous, covering, sizes differing by at most 1,
  // each at least `grain`, the same on every call.
  for (int threads : {1, 2, 4})
    for (int64_t n : {1, 5, 17, 1000})
      for (int64_t grain : {1, 3, 100}) {
        int64_t chunks = rt::chunkCount(n, grain, threads);
        ASSERT_GE(chunks, 1);
        ASSERT_LE(chunks, threads);
        int64_t expect = 0;
        for (int64_t c = 0; c < chunks; ++c) {
          int64_t b, e;
          rt::chunkRange(n, chunks, c, &b, &e);
          EXPECT_EQ(b, expect);
          EXPECT_GE(e - b, std::min(grain, n));
          expect = e;
        }
        EXPECT_EQ(expect, n);
      }
}

struct Recorder {
  std::mutex mu;
  std::vector<std::pair<int64_t, int64_t>> ranges;
};

void recordRange(void* ctx, int64_t begin, int64_t end) {
  auto* r = static_cast<Recorder*>(ctx);
  std::lock_guard<std::mutex> lock(r->mu);
  r->ranges.push_back({begin, end});
}

TEST(ParallelFor, SameRangesOnEveryRun) {
  ThreadsScope ts(2);
  std::vector<std::pair<int64_t, int64_t>> first;
  for (int run = 0; run < 50; ++run) {
    Recorder r;
    nnc_parallel_for(recordRange, &r, 1001, 10);
    std::sort(r.ranges.begin(), r.ranges.end());
    if (run == 0)
      first = r.ranges;
    else
      ASSERT_EQ(r.ranges, first);
  }
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0], std::make_pair(int64_t(0), int64_t(501)));
  EXPECT_EQ(first[1], std::make_pair(int64_t(501), int64_t(1001)));
}

struct Nested {
  std::atomic<int64_t> inner{0};
};

void innerBody(void* ctx, int64_t begin, int64_t end) { static_cast<Nested*>(ctx)->inner.fetch_add(end - begin); }
void outerBody(void* ctx, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i) nnc_parallel_for(innerBody, ctx, 100, 1);  // runs serially
}

TEST(ParallelFor, NestedCallsRunSerially) {
  ThreadsScope ts(2);
  Nested n;
  nnc_parallel_for(outerBody, &n, 10, 1);
  EXPECT_EQ(n.inner.load(), 1000);
}

void addOne(void* ctx, int64_t begin, int64_t end) { static_cast<std::atomic<int64_t>*>(ctx)->fetch_add(end - begin); }

TEST(ParallelFor, ManyTinyRegions) {
  ThreadsScope ts(2);
  std::atomic<int64_t> total{0};
  for (int i = 0; i < 100000; ++i) nnc_parallel_for(addOne, &total, 2, 1);
  EXPECT_EQ(total.load(), 200000);
}

TEST(ParallelFor, ConcurrentHostThreadsNeverOversubscribe) {
  ThreadsScope ts(2);
  std::atomic<int64_t> total{0};
  std::vector<std::thread> hosts;
  for (int h = 0; h < 4; ++h)
    hosts.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) nnc_parallel_for(addOne, &total, 64, 1);
    });
  for (auto& t : hosts) t.join();
  EXPECT_EQ(total.load(), 4 * 2000 * 64);
}

TEST(ParallelFor, ThreadCountChangesAndDefault) {
  int hw = rt::ThreadPool::hardwareThreads();
  EXPECT_GE(hw, 1);
  {
    ThreadsScope ts(0);  // 0: one per hardware thread
    EXPECT_EQ(nnc_get_num_threads(), hw);
  }
  for (int n : {3, 1, 2, 5, 2}) {
    EXPECT_EQ(nnc_set_num_threads(n), n);
    Marks m(777);
    nnc_parallel_for(markRange, &m, 777, 1);
    for (auto& h : m.hits) ASSERT_EQ(h.load(), 1);
  }
}

// The calling thread runs piece 0 of every region (the piece whose rows it ran in the region
// before), whatever the workers are doing: consecutive kernels split over the same rows keep
// those rows in one core's cache. The other pieces may run on any thread.
struct FirstPieceOwners {
  std::thread::id caller;
  std::atomic<int> zeroOnCaller{0}, zeroElsewhere{0}, pieces{0};
};

void recordFirstPieceOwner(void* ctx, int64_t begin, int64_t /*end*/) {
  auto* o = static_cast<FirstPieceOwners*>(ctx);
  o->pieces.fetch_add(1);
  if (begin != 0) return;
  (std::this_thread::get_id() == o->caller ? o->zeroOnCaller : o->zeroElsewhere).fetch_add(1);
}

TEST(ParallelFor, TheCallerAlwaysRunsTheFirstPiece) {
  for (int threads : {2, 3}) {
    ThreadsScope ts(threads);
    FirstPieceOwners o;
    o.caller = std::this_thread::get_id();
    const int regions = 3000;
    for (int r = 0; r < regions; ++r) nnc_parallel_for(recordFirstPieceOwner, &o, 2 * threads, 1);
    EXPECT_EQ(o.zeroOnCaller.load(), regions) << threads << " threads";
    EXPECT_EQ(o.zeroElsewhere.load(), 0) << threads << " threads";
    EXPECT_EQ(o.pieces.load(), regions * threads);  // one piece per thread: n / grain > threads
  }
}

TEST(ParallelFor, NullBodyAndEmptyRangesAreHarmless) {
  EXPECT_EQ(nnc_parallel_for(nullptr, nullptr, 100, 1), 0);
  EXPECT_EQ(nnc_parallel_for(addOne, nullptr, 0, 1), 0);
  EXPECT_EQ(nnc_parallel_for(addOne, nullptr, -5, 1), 0);
}

}  // namespace
}  // namespace nnc
