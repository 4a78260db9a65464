#pragma once
// Classification metrics for `nnc eval`: the confusion matrix and per-class precision and
// recall.
#include <cstdint>
#include <iosfwd>
#include <vector>

namespace nnc::training {

class ConfusionMatrix {
 public:
  explicit ConfusionMatrix(int64_t classes) : n_(classes), counts_(size_t(classes * classes), 0) {}
  void add(int32_t actual, int32_t predicted);
  int64_t classes() const { return n_; }
  int64_t at(int64_t actual, int64_t predicted) const { return counts_[size_t(actual * n_ + predicted)]; }
  // Of the samples predicted as c, the fraction that are c (0 when none is predicted c).
  double precision(int64_t c) const;
  // Of the samples of class c, the fraction predicted c (0 when there are none).
  double recall(int64_t c) const;
  int64_t support(int64_t c) const;  // samples of class c
  // Rows: actual class; columns: predicted class.
  void print(std::ostream& os) const;

 private:
  int64_t n_;
  std::vector<int64_t> counts_;
};

}  // namespace nnc::training
