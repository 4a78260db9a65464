// Reference kernels of multi_head_attention's fused softmax (Ops.def: attention_softmax and
// its gradient). Scores are [..., Tq, Tk]; row i of a [Tq, Tk] block is query i. With
// `causal`, keys j > i are excluded: their probability is 0, and so is their gradient.
#include <algorithm>
#include <cmath>
#include <limits>

#include "compiler/interp/Kernels.h"
#include "compiler/ir/TypedAttrs.h"

namespace nnc::interp {

namespace {

struct AttentionRows {
  int64_t rows, queries, keys;
  double scale;
  bool causal;
  // The number of keys row r attends to.
  int64_t visible(int64_t r) const { return causal ? std::min(keys, r % queries + 1) : keys; }
};

AttentionRows attentionRows(const KernelArgs& k) {
  const std::vector<int64_t>& s = k.in[0]->shape;
  int64_t keys = s.back(), queries = s[s.size() - 2];
  return {Tensor::count(s) / std::max<int64_t>(keys, 1), queries, keys, AttentionAttr::of(k.node).scale,
          AttentionAttr::of(k.node).causal};
}

}  // namespace

void attentionSoftmaxKernel(const KernelArgs& k) {
  AttentionRows a = attentionRows(k);
  for (int64_t r = 0; r < a.rows; ++r) {
    const double* x = k.in[0]->data.data() + r * a.keys;
    double* y = k.out.data.data() + r * a.keys;
    int64_t n = a.visible(r);
    double m = -std::numeric_limits<double>::infinity();
    for (int64_t j = 0; j < n; ++j)
      if (scalar::beatsMax(a.scale * x[j], m)) m = a.scale * x[j];
    double sum = 0;
    for (int64_t j = 0; j < n; ++j) sum += std::exp(a.scale * x[j] - m);
    for (int64_t j = 0; j < a.keys; ++j) y[j] = j < n ? std::exp(a.scale * x[j] - m) / sum : 0.0;
  }
}

void attentionSoftmaxGradKernel(const KernelArgs& k) {
  AttentionRows a = attentionRows(k);
  for (int64_t r = 0; r < a.rows; ++r) {
    const double* y = k.in[0]->data.data() + r * a.keys;
    const double* dy = k.in[1]->data.data() + r * a.keys;
    double* dx = k.out.data.data() + r * a.keys;
    int64_t n = a.visible(r);
    double dot = 0;
    for (int64_t j = 0; j < n; ++j) dot += dy[j] * y[j];
    for (int64_t j = 0; j < a.keys; ++j) dx[j] = j < n ? a.scale * y[j] * (dy[j] - dot) : 0.0;
  }
}

}  // namespace nnc::interp
