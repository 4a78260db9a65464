#pragma once
// A concrete host tensor for the reference interpreter: a dtype, a concrete shape (batch
// resolved) and values held as doubles. Doubles hold every i32 and f32 exactly, so one
// representation serves f32 and f64 evaluation (f32 mode rounds every result to float).
#include <cstdint>
#include <vector>

#include "compiler/ir/Type.h"

namespace nnc {

struct Tensor {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<double> data;

  Tensor() = default;
  Tensor(DType t, std::vector<int64_t> s) : dtype(t), shape(std::move(s)), data(static_cast<size_t>(count(shape)), 0.0) {}
  Tensor(DType t, std::vector<int64_t> s, std::vector<double> d) : dtype(t), shape(std::move(s)), data(std::move(d)) {}

  static int64_t count(const std::vector<int64_t>& s) {
    int64_t n = 1;
    for (int64_t d : s) n *= d;
    return n;
  }
  int64_t size() const { return static_cast<int64_t>(data.size()); }
  static Tensor scalar(double v, DType t = DType::F32) { return Tensor(t, {}, {v}); }
};

}  // namespace nnc
