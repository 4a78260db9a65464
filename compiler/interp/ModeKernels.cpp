// The mode-dependent ops, interpreted with inference semantics (the training-graph builder
// replaces them by primitives before a training graph gets here), and the dropout mask.
#include <cmath>
#include <cstdint>

#include "compiler/interp/Kernels.h"
#include "compiler/ir/OpAttrs.h"
#include "support/Philox.h"

namespace nnc::interp {

// Dropout at inference is the identity.
void dropoutKernel(const KernelArgs& k) { k.out.data = k.in[0]->data; }

// (x, step) -> mask with x's shape: element i (row-major over the concrete shape) is
// 1 / (1 - rate) where philoxUniform(seed, salt, step, i) >= rate, else 0. The scale is
// computed in double (and rounded to float in f32 mode). `step` is the f32 scalar Hyper,
// made an integer by philox::stepFromFloat.
// The operands are (x, step[, rate][, first_row]) (OpAttrs.h's dropoutMaskOperands).
void dropoutMaskKernel(const KernelArgs& k) {
  const DropoutMaskOperands operands = dropoutMaskOperands(k.node);
  auto scalarOperand = [&](int i) { return k.in[i]->data.empty() ? 0.0 : k.in[i]->data[0]; };
  const DropoutMaskAttr mask = DropoutMaskAttr::of(k.node);
  double rate = operands.rate >= 0 ? scalarOperand(operands.rate) : mask.rate.value_or(0.0);
  uint64_t seed = mask.seed.value, salt = mask.salt.value;
  uint64_t step = philox::stepFromFloat(scalarOperand(1));
  uint32_t threshold = philox::dropoutThreshold(rate);
  double scale = 1.0 / (1.0 - rate);
  // With first_row, x holds rows [first_row, ...) of a larger batch (one process's share
  // under MPI): element i is element i + first_row * rowElements of that batch.
  uint64_t offset = 0;
  if (operands.firstRow >= 0 && !k.in[0]->shape.empty() && k.in[0]->shape[0] > 0)
    offset = philox::stepFromFloat(scalarOperand(operands.firstRow)) *
             (k.out.data.size() / static_cast<size_t>(k.in[0]->shape[0]));
  for (size_t i = 0; i < k.out.data.size(); ++i)
    k.out.data[i] = philox::uniformBits(seed, salt, step, offset + i) >= threshold ? scale : 0.0;
}

// Inference batch normalisation over the last axis:
//   (x - running_mean) / sqrt(running_var + eps) * gamma + beta
// operands (x, gamma, beta, running_mean, running_var); eps defaults to the language's 1e-3.
void batchNormKernel(const KernelArgs& k) {
  const Tensor& x = *k.in[0];
  const std::vector<double>&gamma = k.in[1]->data, &beta = k.in[2]->data, &mean = k.in[3]->data,
                          &var = k.in[4]->data;
  double eps = BatchNormAttr::of(k.node).eps;
  size_t c = x.shape.empty() ? 1 : static_cast<size_t>(x.shape.back());
  if (c == 0) return;
  for (size_t i = 0; i < x.data.size(); ++i) {
    size_t f = i % c;
    k.out.data[i] = (x.data[i] - mean[f]) / std::sqrt(var[f] + eps) * gamma[f] + beta[f];
  }
}

}  // namespace nnc::interp
