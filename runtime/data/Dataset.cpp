#include "runtime/data/Dataset.h"

#include <algorithm>
#include <cmath>

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

namespace {
// "[3, 4]" for flat element `index` of a sample of shape `dims`; "" for scalar samples.
std::string positionIn(const std::vector<int64_t>& dims, int64_t index) {
  if (dims.empty()) return "";
  std::vector<int64_t> at(dims.size());
  for (size_t i = dims.size(); i-- > 0;) {
    at[i] = dims[i] > 0 ? index % dims[i] : 0;
    index = dims[i] > 0 ? index / dims[i] : 0;
  }
  return ", position " + shapeString(at);
}
}  // namespace

Result<void> checkFinite(const NamedArray& a) {
  std::span<const float> v = a.array.f32();
  int64_t bad = 0, first = -1;
  for (size_t i = 0; i < v.size(); ++i)
    if (!std::isfinite(v[i])) {
      if (first < 0) first = int64_t(i);
      ++bad;
    }
  if (bad == 0) return {};
  const int64_t per = std::max<int64_t>(a.array.sampleNumel(), 1);
  const float value = v[size_t(first)];
  std::string where = a.origin.empty() ? "'" + a.name + "'" : a.origin;
  return makeError(where + ": sample " + std::to_string(first / per) + positionIn(a.array.sampleShape(), first % per) +
                   " is " + (std::isnan(value) ? "NaN" : value > 0 ? "inf" : "-inf") +
                   (bad > 1 ? " (the first of " + std::to_string(bad) + " values that are not finite)" : "") +
                   ": data must be finite numbers (samples counted from 0)");
}

Result<void> checkFinite(const Dataset& d) {
  for (const NamedArray& a : d.arrays) NNC_TRY(checkFinite(a));
  return {};
}

}  // namespace nnc::data
