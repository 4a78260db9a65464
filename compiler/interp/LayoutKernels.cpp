// Data movement: reshape, transpose, concat, slice, one_hot. No arithmetic, so these are exact
// in either precision.
#include <array>

#include "compiler/interp/Kernels.h"
#include "compiler/interp/TensorIndex.h"
#include "compiler/ir/TypedAttrs.h"

namespace nnc::interp {

// Row-major data is unchanged by a reshape; only the shape (batch resolved) is new.
void reshapeKernel(const KernelArgs& k) { k.out.data = k.in[0]->data; }

// out[i0, ..., in] = x[the same index permuted back]: output axis d reads input axis perm[d].
void transposeKernel(const KernelArgs& k) {
  const Tensor& x = *k.in[0];
  std::vector<int64_t> perm = PermAttr::of(k.node).perm;
  std::vector<int64_t> inStrides = rowMajorStrides(x.shape);
  std::array<std::vector<int64_t>, 1> strides{std::vector<int64_t>(perm.size())};
  for (size_t d = 0; d < perm.size(); ++d) strides[0][d] = inStrides[static_cast<size_t>(perm[d])];
  forEachIndex(k.out.shape, strides, [&](int64_t i, const std::array<int64_t, 1>& off) {
    k.out.data[static_cast<size_t>(i)] = x.data[static_cast<size_t>(off[0])];
  });
}

// Operands laid side by side along `axis`: for each index before the axis, each operand's
// block (its extent along the axis times everything after it) in turn.
void concatKernel(const KernelArgs& k) {
  size_t axis = static_cast<size_t>(normalizeAxis(AxisAttr::of(k.node).axis, k.out.shape.size()));
  int64_t outer = product(k.out.shape, 0, axis), inner = product(k.out.shape, axis + 1, k.out.shape.size());
  size_t pos = 0;
  for (int64_t o = 0; o < outer; ++o)
    for (const Tensor* t : k.in) {
      int64_t block = t->shape[axis] * inner;
      for (int64_t j = 0; j < block; ++j) k.out.data[pos++] = t->data[static_cast<size_t>(o * block + j)];
    }
}

// Elements [begin, end) along `axis`.
void sliceKernel(const KernelArgs& k) {
  const Tensor& x = *k.in[0];
  const SliceAttr sl = SliceAttr::of(k.node);
  size_t axis = static_cast<size_t>(normalizeAxis(sl.axis, x.shape.size()));
  int64_t begin = sl.begin;
  int64_t outer = product(x.shape, 0, axis), inner = product(x.shape, axis + 1, x.shape.size());
  int64_t inBlock = x.shape[axis] * inner, outBlock = k.out.shape[axis] * inner;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < outBlock; ++j)
      k.out.data[static_cast<size_t>(o * outBlock + j)] = x.data[static_cast<size_t>(o * inBlock + begin * inner + j)];
}

// Label l -> a row of `depth` zeros with a 1 at l. A label outside [0, depth) gives an all-zero
// row (as TensorFlow's one_hot does; the data loader rejects such labels before they get here).
void oneHotKernel(const KernelArgs& k) {
  const Tensor& labels = *k.in[0];
  int64_t depth = k.out.shape.back();
  for (size_t i = 0; i < labels.data.size(); ++i) {
    double l = labels.data[i];
    if (l >= 0 && l < static_cast<double>(depth))
      k.out.data[i * static_cast<size_t>(depth) + static_cast<size_t>(l)] = 1.0;
  }
}

}  // namespace nnc::interp
