#include "runtime/training/Normalizer.h"

#include <cmath>

namespace nnc::training {

std::vector<InputNormalization> computeNormalization(Normalization kind, double scale,
                                                     const std::vector<std::string>& names,
                                                     const std::vector<data::Array>& arrays, int64_t trainCount) {
  std::vector<InputNormalization> out;
  if (kind == Normalization::None) return out;
  for (size_t i = 0; i < arrays.size() && i < names.size(); ++i) {
    if (arrays[i].dtype() != data::DType::F32) continue;
    InputNormalization n{names[i], 0, 1};
    if (kind == Normalization::Scale) {
      n.multiplier = scale;
    } else {
      auto values = arrays[i].f32();
      size_t count = size_t(trainCount) * size_t(arrays[i].sampleNumel());
      if (count > values.size()) count = values.size();
      double sum = 0, sumSq = 0;
      for (size_t k = 0; k < count; ++k) sum += values[k];
      double mean = count ? sum / double(count) : 0;
      for (size_t k = 0; k < count; ++k) sumSq += (values[k] - mean) * (values[k] - mean);
      double stddev = count ? std::sqrt(sumSq / double(count)) : 0;
      n.shift = mean;
      // A constant input stays as it is, centred, rather than dividing by zero.
      n.multiplier = stddev > 0 ? 1.0 / stddev : 1.0;
    }
    out.push_back(n);
  }
  return out;
}

void applyNormalization(const std::vector<InputNormalization>& norms, const std::vector<std::string>& names,
                        std::vector<data::Array>& arrays) {
  for (const InputNormalization& n : norms) {
    for (size_t i = 0; i < names.size() && i < arrays.size(); ++i) {
      if (names[i] != n.input || arrays[i].dtype() != data::DType::F32) continue;
      float shift = float(n.shift), mult = float(n.multiplier);
      for (float& v : arrays[i].f32()) v = (v - shift) * mult;
    }
  }
}

}  // namespace nnc::training
