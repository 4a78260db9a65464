#pragma once
// Seconds since a steady-clock time point: compile and training times, benchmark loops.
#include <chrono>

namespace nnc {

inline double secondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace nnc
