// Reference kernels of `embedding` (issue 13): the gather, its scatter-add gradient and the
// sparse SGD step. The interpreter checks the ids' range before the gather runs
// (Interpreter.cpp); these kernels skip an out-of-range id rather than read outside the table.
#include "compiler/interp/Kernels.h"

namespace nnc::interp {

namespace {

bool embeddingIdInRange(double id, int64_t vocab) { return id >= 0 && id < static_cast<double>(vocab); }

}  // namespace

// out[i, :] = table[ids[i], :]
void embeddingKernel(const KernelArgs& k) {
  const Tensor& table = *k.in[0];
  const Tensor& ids = *k.in[1];
  int64_t vocab = table.shape[0], dim = table.shape[1];
  for (int64_t i = 0; i < ids.size(); ++i) {
    double id = ids.data[static_cast<size_t>(i)];
    if (!embeddingIdInRange(id, vocab)) continue;
    for (int64_t d = 0; d < dim; ++d)
      k.out.data[static_cast<size_t>(i * dim + d)] = table.data[static_cast<size_t>(static_cast<int64_t>(id) * dim + d)];
  }
}

// out[v, :] = sum of dy[i, :] over the positions i with ids[i] == v (ascending i).
void embeddingGradKernel(const KernelArgs& k) {
  const Tensor& dy = *k.in[0];
  const Tensor& ids = *k.in[1];
  int64_t vocab = k.out.shape[0], dim = k.out.shape[1];
  for (int64_t i = 0; i < ids.size(); ++i) {
    double id = ids.data[static_cast<size_t>(i)];
    if (!embeddingIdInRange(id, vocab)) continue;
    for (int64_t d = 0; d < dim; ++d)
      k.out.data[static_cast<size_t>(static_cast<int64_t>(id) * dim + d)] += dy.data[static_cast<size_t>(i * dim + d)];
  }
}

// out = table - lr * embedding_grad(dy, ids)
void embeddingSgdUpdateKernel(const KernelArgs& k) {
  const Tensor& table = *k.in[0];
  Tensor grad(DType::F32, table.shape);
  KernelArgs g{k.node, {k.in[1], k.in[2]}, grad};
  embeddingGradKernel(g);
  double lr = k.in[3]->data[0];
  for (size_t i = 0; i < table.data.size(); ++i) k.out.data[i] = table.data[i] - lr * grad.data[i];
}

// out = buffer + embedding_grad(dy, ids): the persistent gradient buffer's scatter-add,
// summing in the order embeddingGradKernel does (so from a zero buffer it gives the same bits).
void embeddingGradAccumulateKernel(const KernelArgs& k) {
  k.out.data = k.in[0]->data;
  KernelArgs g{k.node, {k.in[1], k.in[2]}, k.out};
  embeddingGradKernel(g);
}

// out = g with the rows ids name set to zero.
void embeddingGradClearKernel(const KernelArgs& k) {
  const Tensor& ids = *k.in[1];
  int64_t vocab = k.out.shape[0], dim = k.out.shape[1];
  k.out.data = k.in[0]->data;
  for (int64_t i = 0; i < ids.size(); ++i) {
    double id = ids.data[static_cast<size_t>(i)];
    if (!embeddingIdInRange(id, vocab)) continue;
    for (int64_t d = 0; d < dim; ++d) k.out.data[static_cast<size_t>(static_cast<int64_t>(id) * dim + d)] = 0;
  }
}

}  // namespace nnc::interp
