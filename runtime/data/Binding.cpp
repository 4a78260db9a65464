#include "runtime/data/Binding.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "support/Suggest.h"
#include "runtime/support/Checked.h"

namespace nnc::data {

namespace {

std::string inputList(const std::vector<InputSpec>& specs) {
  std::string s;
  for (size_t i = 0; i < specs.size(); ++i) {
    if (i) s += ", ";
    s += specs[i].name;
  }
  return s;
}

// "f32[batch, 28, 28]"
std::string declared(const InputSpec& spec) {
  std::string s = std::string(spec.isInteger ? "i32" : "f32") + "[batch";
  for (int64_t d : spec.sampleShape) s += ", " + std::to_string(d);
  return s + "]";
}

std::string arrayLabel(const Dataset& d, const NamedArray& a) {
  if (d.positional) return d.description + ": " + a.name + (a.origin.empty() ? "" : " (" + a.origin + ")");
  return d.description + ": array '" + a.name + "'" + (a.origin.empty() ? "" : " (" + a.origin + ")");
}

// Reshapes and converts one array for one input.
Result<Array> fit(const Dataset& d, NamedArray& a, const InputSpec& spec) {
  const std::string what = arrayLabel(d, a);
  if (a.array.rank() == 0) return makeError(what + " is a scalar, with no sample dimension");
  auto want = io::checkedProduct(spec.sampleShape);
  const int64_t have = a.array.sampleNumel();
  if (!want || int64_t(*want) != have)
    return makeError(what + " has per-sample shape " + shapeString(a.array.sampleShape()) + " (" +
                     std::to_string(have) + " values) but input '" + spec.name + "' is " + declared(spec) + " (" +
                     (want ? std::to_string(*want) : std::string("too many")) + " values per sample)");
  std::vector<int64_t> shape{a.array.numSamples()};
  shape.insert(shape.end(), spec.sampleShape.begin(), spec.sampleShape.end());
  Array out = std::move(a.array);
  NNC_TRY(out.reshape(std::move(shape)));
  return convertArray(std::move(out), spec.isInteger ? DType::I32 : DType::F32,
                      what + " for input '" + spec.name + "' " + declared(spec));
}

}  // namespace

Result<std::vector<Array>> bindInputs(Dataset d, const std::vector<InputSpec>& specs, const BindOptions& options) {
  NNC_TRY(checkSampleCounts(d));
  // Which array goes to which input, as indices into d.arrays.
  std::vector<size_t> source(specs.size());
  if (d.positional) {
    std::vector<size_t> order;
    if (d.images) order.push_back(*d.images);
    if (d.labels) order.push_back(*d.labels);
    if (specs.size() > order.size()) {
      std::string provides = order.size() == 2 ? "images and labels" : "images only";
      return makeError(d.description + " provides " + provides + " (" + std::to_string(order.size()) +
                       (order.size() == 1 ? " array" : " arrays") + ", bound by position) but the model has " + std::to_string(specs.size()) +
                       " inputs: " + inputList(specs) +
                       (order.size() < 2 && specs.size() == 2
                            ? "; give the labels too (idx:IMAGES,LABELS)"
                            : "; supply each input by name with npy:NAME=FILE,..."));
    }
    for (size_t i = 0; i < specs.size(); ++i) source[i] = order[i];
  } else {
    std::vector<std::string> inputNames, arrayNames;
    for (auto& s : specs) inputNames.push_back(s.name);
    for (auto& a : d.arrays) arrayNames.push_back(a.name);
    if (!options.ignoreUnusedArrays)
      for (auto& a : d.arrays) {
        bool used = false;
        for (auto& s : specs) used |= s.name == a.name;
        if (!used)
          return makeError(arrayLabel(d, a) + " matches no input of the model" + didYouMean(a.name, inputNames) +
                           "; the model's inputs are: " + inputList(specs));
      }
    for (size_t i = 0; i < specs.size(); ++i) {
      const NamedArray* found = d.find(specs[i].name);
      if (!found) {
        std::string have;
        for (size_t j = 0; j < arrayNames.size(); ++j) have += (j ? ", " : "") + arrayNames[j];
        return makeError(d.description + ": no data for input '" + specs[i].name + "'" +
                         didYouMean(specs[i].name, arrayNames) + "; the model's inputs are: " + inputList(specs) +
                         "; the data provides: " + have);
      }
      source[i] = size_t(found - d.arrays.data());
    }
  }
  std::vector<Array> out;
  for (size_t i = 0; i < specs.size(); ++i) {
    // fit() moves the array out; one bound to a later input too (two inputs of one name)
    // gets a copy instead.
    bool usedAgain = false;
    for (size_t j = i + 1; j < specs.size(); ++j) usedAgain |= source[j] == source[i];
    NamedArray& a = d.arrays[source[i]];
    NamedArray copy;
    if (usedAgain) copy = a;
    auto bound = fit(d, usedAgain ? copy : a, specs[i]);
    if (!bound.ok()) return bound.error();
    out.push_back(std::move(*bound));
  }
  return out;
}

Result<void> checkLabels(const Array& labels, int64_t numClasses, const std::string& sourceDescription) {
  if (numClasses <= 0)
    return makeError(sourceDescription + ": the model has " + std::to_string(numClasses) + " classes");
  const int64_t perSample = std::max<int64_t>(1, labels.rank() > 0 ? labels.sampleNumel() : 1);
  auto bad = [&](int64_t i, const std::string& value, const std::string& why) {
    return makeError(sourceDescription + ": label " + value + " of sample " + std::to_string(i / perSample) + " " + why);
  };
  const std::string range = "is outside the model's " + std::to_string(numClasses) + " classes (0.." +
                            std::to_string(numClasses - 1) + ")";
  if (labels.dtype() == DType::I32) {
    auto v = labels.i32();
    for (size_t i = 0; i < v.size(); ++i)
      if (v[i] < 0 || v[i] >= numClasses) return bad(int64_t(i), std::to_string(v[i]), range);
  } else {
    auto v = labels.f32();
    for (size_t i = 0; i < v.size(); ++i) {
      if (std::nearbyint(v[i]) != v[i] || v[i] < 0 || v[i] >= float(numClasses)) {
        std::ostringstream os;
        os << v[i];
        return bad(int64_t(i), os.str(), std::nearbyint(v[i]) != v[i] ? "is not an integer class id" : range);
      }
    }
  }
  return {};
}

}  // namespace nnc::data
