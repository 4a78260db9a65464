#pragma once
// The search strategies of `nnc tune`, as plain arithmetic over a TuneSpace: drawing values
// from the distributions, and Hyperband's brackets (Li et al. 2018, "Hyperband: A Novel
// Bandit-Based Approach to Hyperparameter Optimization", Algorithm 1), which Keras Tuner's
// Hyperband also follows with max_epochs as the largest budget R.
#include <cstdint>
#include <vector>

#include "compiler/ir/TuneSpace.h"

namespace nnc::tune {

// A deterministic source of uniform numbers (SplitMix64): the same values on every platform
// and standard library, so `--seed` reproduces a search anywhere.
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}
  uint64_t next();
  double uniform();                // [0, 1)
  int64_t below(int64_t n);        // [0, n), n >= 1

 private:
  uint64_t state_;
};

// One value of `h`: choice uniformly among its values; uniform and int_uniform uniform on
// [lo, hi]; log_uniform uniform in log space.
double sample(const Hyperparameter& h, Random& random);

// Values for every name of `space`, drawn in the block's order; the names in `fixed` keep
// their given value (they are not searched).
HyperparameterValues sampleAll(const TuneSpace& space, Random& random, const HyperparameterValues& fixed);

// One round of successive halving: `configs` configurations, each trained to `resource`
// (epochs, from the start).
struct Round {
  int64_t configs = 0;
  double resource = 0;
};

// A bracket s = s_max .. 0: n = ceil(B / R * eta^s / (s + 1)) configurations at r = R eta^-s,
// then rounds i = 0 .. s of n_i = floor(n eta^-i) configurations at r_i = r eta^i, the best
// 1/eta kept each time; B = (s_max + 1) R and s_max = floor(log_eta R).
struct Bracket {
  int64_t s = 0;
  std::vector<Round> rounds;
};

// The brackets of one Hyperband iteration, most exploratory (s = s_max) first.
// R >= 1, eta >= 2.
std::vector<Bracket> hyperbandBrackets(int64_t R, int64_t eta);

// Epochs a round trains to: its resource rounded up, at least 1 and at most R.
int64_t epochsFor(double resource, int64_t R);

}  // namespace nnc::tune
