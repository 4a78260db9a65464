#include "runtime/data/Dataset.h"

namespace nnc::data {

const NamedArray* Dataset::find(std::string_view name) const {
  for (auto& a : arrays)
    if (a.name == name) return &a;
  return nullptr;
}

namespace {
std::string label(const NamedArray& a) {
  return "'" + a.name + "'" + (a.origin.empty() ? std::string() : " (" + a.origin + ")");
}
}  // namespace

Result<void> checkSampleCounts(const Dataset& d) {
  for (auto& a : d.arrays)
    if (a.array.rank() == 0)
      return makeError(d.description + ": " + label(a) +
                       " is a scalar: data arrays need a first dimension counting the samples");
  for (size_t i = 1; i < d.arrays.size(); ++i) {
    const auto &first = d.arrays[0], &other = d.arrays[i];
    if (other.array.numSamples() != first.array.numSamples())
      return makeError(d.description + ": mismatched sample counts: " + label(first) + " holds " +
                       std::to_string(first.array.numSamples()) + " samples but " + label(other) + " holds " +
                       std::to_string(other.array.numSamples()));
  }
  return {};
}

}  // namespace nnc::data
