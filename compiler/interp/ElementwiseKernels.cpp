// Elementwise kernels: the registry rows' scalar functions (Ops.def) applied to every element,
// casts, binary ops with NumPy broadcasting, select.
#include <array>
#include <cmath>
#include <limits>

#include "compiler/interp/Kernels.h"
#include "compiler/interp/TensorIndex.h"
#include "compiler/ir/OpAttrs.h"

namespace nnc::interp {

namespace {

// f32 -> i32: truncation toward zero (C, PyTorch, TensorFlow). The cases where C++ would be
// undefined are defined the way LLVM's llvm.fptosi.sat is: NaN gives 0 and values beyond the
// i32 range saturate to INT32_MIN / INT32_MAX.
double castToI32(double x) {
  if (std::isnan(x)) return 0.0;
  double t = std::trunc(x);
  if (t >= 2147483647.0) return 2147483647.0;
  if (t <= -2147483648.0) return -2147483648.0;
  return t;
}

}  // namespace

void unaryKernel(const KernelArgs& k) {
  const OpInfo& info = opInfo(k.node.op);
  const std::vector<double>& x = k.in[0]->data;
  std::vector<double>& y = k.out.data;
  if (k.out.dtype == DType::I32) {  // the shape rule admits i32 only for rows with an i32 form
    for (size_t i = 0; i < y.size(); ++i) y[i] = info.unaryI32(static_cast<int64_t>(x[i]));
    return;
  }
  double alpha = alphaAttr(k.node);
  for (size_t i = 0; i < y.size(); ++i) y[i] = info.unary(x[i], alpha);
}

void castKernel(const KernelArgs& k) {
  const Tensor& x = *k.in[0];
  bool toInt = k.out.dtype == DType::I32 && x.dtype == DType::F32;
  for (size_t i = 0; i < k.out.data.size(); ++i) k.out.data[i] = toInt ? castToI32(x.data[i]) : x.data[i];
}

void binaryKernel(const KernelArgs& k) {
  const OpInfo& info = opInfo(k.node.op);
  const Tensor &a = *k.in[0], &b = *k.in[1];
  const std::vector<int64_t>& shape = k.out.shape;
  std::array<std::vector<int64_t>, 2> strides{broadcastStrides(a.shape, shape), broadcastStrides(b.shape, shape)};
  // i32 add, sub and mul wrap to 32 bits; the other ops are exact in double for i32 values.
  BinaryFn f = a.dtype == DType::I32 ? info.binaryI32 : info.binary;
  std::vector<double>& y = k.out.data;
  forEachIndex(shape, strides, [&](int64_t i, const std::array<int64_t, 2>& off) {
    double va = a.data[static_cast<size_t>(off[0])], vb = b.data[static_cast<size_t>(off[1])];
    y[static_cast<size_t>(i)] = f(va, vb);
  });
}

// select(cond, a, b) = cond != 0 ? a : b, each operand broadcast. A NaN condition is != 0 and
// so selects a.
void selectKernel(const KernelArgs& k) {
  const Tensor &c = *k.in[0], &a = *k.in[1], &b = *k.in[2];
  const std::vector<int64_t>& shape = k.out.shape;
  std::array<std::vector<int64_t>, 3> strides{broadcastStrides(c.shape, shape), broadcastStrides(a.shape, shape),
                                              broadcastStrides(b.shape, shape)};
  std::vector<double>& y = k.out.data;
  forEachIndex(shape, strides, [&](int64_t i, const std::array<int64_t, 3>& off) {
    bool pick = c.data[static_cast<size_t>(off[0])] != 0;
    y[static_cast<size_t>(i)] = pick ? a.data[static_cast<size_t>(off[1])] : b.data[static_cast<size_t>(off[2])];
  });
}

void broadcastToKernel(const KernelArgs& k) {
  const Tensor& x = *k.in[0];
  std::array<std::vector<int64_t>, 1> strides{broadcastStrides(x.shape, k.out.shape)};
  std::vector<double>& y = k.out.data;
  forEachIndex(k.out.shape, strides, [&](int64_t i, const std::array<int64_t, 1>& off) {
    y[static_cast<size_t>(i)] = x.data[static_cast<size_t>(off[0])];
  });
}

}  // namespace nnc::interp
