#include "runtime/training/Metrics.h"

#include <algorithm>
#include <ostream>
#include <string>

namespace nnc::training {

void ConfusionMatrix::add(int32_t actual, int32_t predicted) {
  if (actual < 0 || actual >= n_ || predicted < 0 || predicted >= n_) return;
  ++counts_[size_t(actual * n_ + predicted)];
}

double ConfusionMatrix::precision(int64_t c) const {
  int64_t predicted = 0;
  for (int64_t a = 0; a < n_; ++a) predicted += at(a, c);
  return predicted ? double(at(c, c)) / double(predicted) : 0.0;
}

double ConfusionMatrix::recall(int64_t c) const {
  int64_t s = support(c);
  return s ? double(at(c, c)) / double(s) : 0.0;
}

int64_t ConfusionMatrix::support(int64_t c) const {
  int64_t s = 0;
  for (int64_t p = 0; p < n_; ++p) s += at(c, p);
  return s;
}

void ConfusionMatrix::print(std::ostream& os) const {
  int64_t largest = 0;
  for (int64_t v : counts_) largest = std::max(largest, v);
  size_t width = std::max(std::to_string(largest).size(), std::to_string(n_ - 1).size()) + 1;
  auto cell = [width](int64_t v) {
    std::string t = std::to_string(v);
    return std::string(width > t.size() ? width - t.size() : 0, ' ') + t;
  };
  os << "confusion matrix (rows: actual class, columns: predicted class)\n";
  os << std::string(8, ' ');
  for (int64_t p = 0; p < n_; ++p) os << cell(p);
  os << '\n';
  for (int64_t a = 0; a < n_; ++a) {
    std::string label = std::to_string(a);
    os << std::string(label.size() < 6 ? 6 - label.size() : 0, ' ') << label << " |";
    for (int64_t p = 0; p < n_; ++p) os << cell(at(a, p));
    os << '\n';
  }
}

}  // namespace nnc::training
