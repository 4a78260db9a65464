#pragma once
// Binding a loaded Dataset to a model's inputs.
//
//  - fashion-mnist and idx (positional): the images go to the model's first input and the
//    labels to the second. A model with a single input gets the images only.
//  - npy and csv (named): each array goes to the input of the same name. An array naming no
//    input, or an input with no array, is an error listing the model's inputs.
//  - Shapes: an array of per-sample shape S binds to an input declared [batch, D...] when S
//    and D hold the same number of elements (it is reshaped, row-major: 784 columns fill
//    f32[batch, 28, 28]); otherwise the error names both shapes.
//  - Types: i32 data converts to an f32 input; f32 data converts to an i32 input only when
//    every value is an integer (else the error names the first sample that is not).
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/data/Dataset.h"

namespace nnc::data {

// One model input, in the model's declaration order.
struct InputSpec {
  std::string name;
  bool isInteger = false;             // i32 (else f32)
  std::vector<int64_t> sampleShape;  // the declared shape without the leading batch dim
};

struct BindOptions {
  // Drop arrays that match no input instead of failing: for predict, which passes only the
  // inputs its outputs need, so a data set's labels are simply not used.
  bool ignoreUnusedArrays = false;
};

// The arrays for `specs`, in the same order, each shaped [n, sampleShape...] with the
// input's dtype. Takes the dataset by value: pass std::move(dataset) to avoid copying arrays
// that need no conversion.
Result<std::vector<Array>> bindInputs(Dataset dataset, const std::vector<InputSpec>& specs,
                                      const BindOptions& options = {});

// Every label in [0, numClasses); else an error naming the source, the first bad sample and
// its value. f32 labels must also be integers.
Result<void> checkLabels(const Array& labels, int64_t numClasses, const std::string& sourceDescription);

}  // namespace nnc::data
