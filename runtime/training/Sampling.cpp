#include "runtime/training/Sampling.h"

#include <algorithm>

namespace nnc::training {

Split splitForValidation(int64_t n, double validation) {
  Split s;
  s.total = n;
  s.trainCount = static_cast<int64_t>(double(n) * (1.0 - validation));
  s.trainCount = std::clamp<int64_t>(s.trainCount, 0, n);
  return s;
}

uint64_t SplitMix64::next() {
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t SplitMix64::below(uint64_t n) {
  if (n <= 1) return 0;
  uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do x = next();
  while (x >= limit);
  return x % n;
}

namespace {
// Distinct streams for distinct purposes and epochs of one seed.
uint64_t streamSeed(uint64_t seed, uint64_t purpose, int64_t epoch) {
  SplitMix64 mix(seed ^ (purpose * 0xD1B54A32D192ED03ull) ^ (uint64_t(epoch) * 0x8CB92BA72F3D8DD7ull));
  return mix.next();
}
}  // namespace

std::vector<int64_t> epochOrder(int64_t trainCount, std::span<const int32_t> labels, int64_t numClasses,
                                const TrainingPlan& plan, int64_t epoch) {
  std::vector<int64_t> order(static_cast<size_t>(trainCount));
  for (int64_t i = 0; i < trainCount; ++i) order[size_t(i)] = i;
  if (plan.oversample && numClasses > 0 && labels.size() >= size_t(trainCount)) {
    // Draw extra samples of every class, with replacement, until each is as frequent as the
    // most frequent one.
    std::vector<std::vector<int64_t>> byClass(static_cast<size_t>(numClasses));
    for (int64_t i = 0; i < trainCount; ++i) {
      int32_t c = labels[size_t(i)];
      if (c >= 0 && c < numClasses) byClass[size_t(c)].push_back(i);
    }
    size_t largest = 0;
    for (const auto& members : byClass) largest = std::max(largest, members.size());
    SplitMix64 rng(streamSeed(plan.seed, 2, epoch));
    for (const auto& members : byClass) {
      if (members.empty()) continue;
      for (size_t k = members.size(); k < largest; ++k) order.push_back(members[rng.below(members.size())]);
    }
  }
  if (plan.shuffle) {
    SplitMix64 rng(streamSeed(plan.seed, 1, epoch));
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
  }
  return order;
}

std::vector<double> balancedClassWeights(std::span<const int32_t> labels, int64_t numClasses) {
  std::vector<int64_t> counts(static_cast<size_t>(std::max<int64_t>(numClasses, 0)), 0);
  for (int32_t c : labels)
    if (c >= 0 && c < numClasses) ++counts[size_t(c)];
  std::vector<double> w(counts.size(), 1.0);
  for (size_t c = 0; c < counts.size(); ++c)
    if (counts[c] > 0) w[c] = double(labels.size()) / (double(numClasses) * double(counts[c]));
  return w;
}

}  // namespace nnc::training
