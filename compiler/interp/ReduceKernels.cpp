// Reductions (sum, mean, max, argmax, element count) and the normalised exponentials
// (softmax, log_softmax), which reduce along one axis.
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "compiler/interp/Kernels.h"
#include "compiler/ir/ScalarMath.h"
#include "compiler/interp/TensorIndex.h"
#include "compiler/ir/TypedAttrs.h"

namespace nnc::interp {

namespace {

// Which axes of a rank-`rank` tensor the `axes` attribute reduces. As in the shape rule, an
// empty list reduces no axis (the front end writes out every axis of `sum(x)`), so the
// reduction is the identity and element_count is 1.
std::vector<bool> reducedAxes(const Attrs& attrs, size_t rank) {
  std::vector<bool> reduced(rank, false);
  for (int64_t a : AxesAttr::of(attrs).axes) {
    int64_t n = normalizeAxis(a, rank);
    if (n >= 0) reduced[static_cast<size_t>(n)] = true;
  }
  return reduced;
}

// An axis split: the product of the dims before it, its own dim and the product after it.
struct AxisSplit {
  int64_t outer, dim, inner;
};

AxisSplit splitAt(const std::vector<int64_t>& shape, int64_t axis) {
  size_t a = static_cast<size_t>(normalizeAxis(axis, shape.size()));
  return {product(shape, 0, a), shape[a], product(shape, a + 1, shape.size())};
}

}  // namespace

// Sum, mean and max over the reduced axes. Each output accumulates its inputs in row-major
// order, in double. Over an empty set: sum 0, mean NaN (0/0), max -inf.
void reduceKernel(const KernelArgs& k) {
  const Tensor& x = *k.in[0];
  OpKind op = k.node.op;
  std::vector<bool> reduced = reducedAxes(k.node.attrs, x.shape.size());
  // The output seen with keepdims: size 1 along reduced axes; its layout is the output's.
  std::vector<int64_t> kept = x.shape;
  int64_t count = 1;
  for (size_t i = 0; i < kept.size(); ++i)
    if (reduced[i]) {
      count *= kept[i];
      kept[i] = 1;
    }
  std::vector<double>& y = k.out.data;
  if (op == OpKind::ReduceMax) std::fill(y.begin(), y.end(), -std::numeric_limits<double>::infinity());
  bool ints = x.dtype == DType::I32;
  std::array<std::vector<int64_t>, 1> outStrides{broadcastStrides(kept, x.shape)};
  forEachIndex(x.shape, outStrides, [&](int64_t i, const std::array<int64_t, 1>& off) {
    double v = x.data[static_cast<size_t>(i)];
    double& acc = y[static_cast<size_t>(off[0])];
    if (op == OpKind::ReduceMax) {
      if (scalar::beatsMax(v, acc)) acc = v;
    } else if (ints) {
      acc = wrapI32(static_cast<int64_t>(acc) + static_cast<int64_t>(v));  // i32 sums wrap
    } else {
      acc += v;
    }
  });
  if (op == OpKind::ReduceMean)
    for (double& v : y) v /= static_cast<double>(count);
}

// The index of the maximum along `axis`, as i32; the first one on ties (torch.argmax,
// numpy.argmax); a NaN counts as the maximum. 0 for an empty axis.
void argMaxKernel(const KernelArgs& k) {
  const Tensor& x = *k.in[0];
  AxisSplit s = splitAt(x.shape, AxisAttr::of(k.node).axis);
  for (int64_t o = 0; o < s.outer; ++o)
    for (int64_t in = 0; in < s.inner; ++in) {
      const double* row = x.data.data() + o * s.dim * s.inner + in;
      int64_t best = 0;
      for (int64_t j = 1; j < s.dim; ++j)
        if (scalar::beatsMax(row[j * s.inner], row[best * s.inner])) best = j;
      k.out.data[static_cast<size_t>(o * s.inner + in)] = static_cast<double>(best);
    }
}

// The number of elements the reduced axes hold (batch resolved), as an f32 scalar: the
// divisor of a mean.
void elementCountKernel(const KernelArgs& k) {
  const Tensor& x = *k.in[0];
  std::vector<bool> reduced = reducedAxes(k.node.attrs, x.shape.size());
  double n = 1;
  for (size_t i = 0; i < x.shape.size(); ++i)
    if (reduced[i]) n *= static_cast<double>(x.shape[i]);
  k.out.data[0] = n;
}

// softmax(x)_j = exp(x_j - m) / sum_i exp(x_i - m) and
// log_softmax(x)_j = x_j - m - log(sum_i exp(x_i - m)), with m the maximum along the axis:
// subtracting it keeps exp from overflowing and leaves the result unchanged.
void softmaxKernel(const KernelArgs& k) {
  const Tensor& x = *k.in[0];
  bool logForm = k.node.op == OpKind::LogSoftmax;
  AxisSplit s = splitAt(x.shape, AxisAttr::of(k.node).axis);
  for (int64_t o = 0; o < s.outer; ++o)
    for (int64_t in = 0; in < s.inner; ++in) {
      int64_t base = o * s.dim * s.inner + in;
      const double* row = x.data.data() + base;
      double* out = k.out.data.data() + base;
      double m = -std::numeric_limits<double>::infinity();
      for (int64_t j = 0; j < s.dim; ++j)
        if (scalar::beatsMax(row[j * s.inner], m)) m = row[j * s.inner];
      double sum = 0;
      for (int64_t j = 0; j < s.dim; ++j) sum += std::exp(row[j * s.inner] - m);
      double logSum = std::log(sum);
      for (int64_t j = 0; j < s.dim; ++j)
        out[j * s.inner] = logForm ? row[j * s.inner] - m - logSum : std::exp(row[j * s.inner] - m) / sum;
    }
}

}  // namespace nnc::interp
