#pragma once
// What loading a data source gives: named arrays that all hold the same number of samples
// (their first dimension), and which of them play the images and labels roles.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/data/Array.h"

namespace nnc::data {

struct NamedArray {
  std::string name;    // "images"/"labels" for positional sources, else the input name
  Array array;
  std::string origin;  // the file it came from, for messages
};

struct Dataset {
  std::string description;  // the source in the user's words, e.g. "fashion-mnist:test"
  std::vector<NamedArray> arrays;
  // fashion-mnist and idx bind by position (images to the model's first input, labels to
  // the second); npy and csv bind by name.
  bool positional = false;
  std::optional<size_t> images;  // index into arrays of the images-like array (positional)
  std::optional<size_t> labels;  // index of the labels (positional sources; csv's last column)

  int64_t numSamples() const { return arrays.empty() ? 0 : arrays[0].array.numSamples(); }
  const NamedArray* find(std::string_view name) const;
  const Array* labelArray() const { return labels ? &arrays[*labels].array : nullptr; }
};

// Every array has a sample dimension and they all agree on its size; the error names the
// two arrays (and their files) that disagree.
Result<void> checkSampleCounts(const Dataset& d);

// Every f32 element is finite. NaN or infinity in inputs or targets would surface much later
// as a NaN loss that blames the learning rate; the error names the file (or `what` when the
// array has no file), the sample, the position in it and how many elements are not finite.
Result<void> checkFinite(const NamedArray& a);
// checkFinite on every array of `d`.
Result<void> checkFinite(const Dataset& d);

}  // namespace nnc::data
