#pragma once
// Deterministic pseudo-random numbers for generated training data: the same values on every
// platform and standard library (std::normal_distribution is implementation-defined).
#include <cmath>
#include <cstdint>

namespace nnc::test {

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1).
  double uniform() { return double(next() >> 11) * 0x1.0p-53; }
  // Standard normal (Box-Muller).
  double normal() {
    const double u1 = 1.0 - uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  int32_t below(int32_t n) { return int32_t(next() % uint64_t(n)); }

 private:
  uint64_t state_;
};

}  // namespace nnc::test
