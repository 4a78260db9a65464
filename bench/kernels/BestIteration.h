#pragma once
// The fastest single iteration of a benchmark loop, reported as the counter `best_ns`. On a
// machine shared with other jobs the mean over iterations (Google Benchmark's time) mixes
// in every preemption and every neighbour's burst, so two runs of the same kernel a minute
// apart differ by 30% or more; the fastest iteration is the one that ran undisturbed, and a
// ratio of two of them (nnc against its peer, both timed this way) is what an idle machine
// would show. The clock costs tens of nanoseconds against kernels of microseconds.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <limits>

namespace nnc::bench {

class BestIteration {
 public:
  void start() { t0_ = Clock::now(); }
  void stop() { best_ = std::min(best_, std::chrono::duration<double, std::nano>(Clock::now() - t0_).count()); }
  void report(benchmark::State& state) const {
    if (best_ < std::numeric_limits<double>::infinity()) state.counters["best_ns"] = best_;
  }

 private:
  using Clock = std::chrono::steady_clock;
  Clock::time_point t0_{};
  double best_ = std::numeric_limits<double>::infinity();
};

}  // namespace nnc::bench
