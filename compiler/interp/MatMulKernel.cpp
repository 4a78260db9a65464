// Matrix product a[..., M, K] @ b[K, N] (b shared by every leading index) or b[..., K, N]
// (one b per leading index, the leading dims equal), either operand optionally transposed
// in its last two axes: transpose_a reads a as [..., K, M], transpose_b reads b as [..., N, K].
#include "compiler/interp/Kernels.h"
#include "compiler/ir/TypedAttrs.h"

namespace nnc::interp {

void matMulKernel(const KernelArgs& k) {
  const Tensor &a = *k.in[0], &b = *k.in[1];
  const MatMulTransposeAttr t = MatMulTransposeAttr::of(k.node);
  bool ta = t.transA, tb = t.transB;
  size_t ra = a.shape.size(), rb = b.shape.size();
  int64_t m = k.out.shape[k.out.shape.size() - 2], n = k.out.shape.back();
  int64_t kDim = ta ? a.shape[ra - 2] : a.shape[ra - 1];
  // Strides of a[m, k] and b[k, n] within one matrix, whichever way each is stored.
  int64_t aRow = ta ? 1 : kDim, aCol = ta ? m : 1;
  int64_t bRow = tb ? 1 : n, bCol = tb ? kDim : 1;
  int64_t batches = 1;
  for (size_t i = 0; i + 2 < ra; ++i) batches *= a.shape[i];
  int64_t aStep = m * kDim, bStep = rb == 2 ? 0 : kDim * n, yStep = m * n;
  for (int64_t p = 0; p < batches; ++p) {
    const double* A = a.data.data() + p * aStep;
    const double* B = b.data.data() + p * bStep;
    double* Y = k.out.data.data() + p * yStep;
    // i-l-j order: the inner loop walks a row of b and of y, which the cache likes; each
    // y[i, j] still adds its products in order l = 0, 1, ..., so results are unchanged.
    for (int64_t i = 0; i < m; ++i) {
      double* y = Y + i * n;
      for (int64_t j = 0; j < n; ++j) y[j] = 0;
      for (int64_t l = 0; l < kDim; ++l) {
        double av = A[i * aRow + l * aCol];
        const double* bl = B + l * bRow;
        for (int64_t j = 0; j < n; ++j) y[j] += av * bl[j * bCol];
      }
    }
  }
}

}  // namespace nnc::interp
