// Elementwise kernels: unary math, casts, binary ops with NumPy broadcasting, select.
#include <array>
#include <cmath>
#include <limits>

#include "compiler/interp/Kernels.h"
#include "compiler/ir/ScalarMath.h"
#include "compiler/interp/TensorIndex.h"

namespace nnc::interp {

namespace {

double unaryValue(OpKind op, double x, double alpha) {
  switch (op) {
    case OpKind::Neg: return -x;
    case OpKind::Exp: return std::exp(x);
    case OpKind::Log: return std::log(x);
    case OpKind::Sqrt: return std::sqrt(x);
    case OpKind::Abs: return std::fabs(x);
    case OpKind::Square: return x * x;
    case OpKind::Sign: return sign(x);
    case OpKind::Erf: return std::erf(x);
    case OpKind::Relu: return relu(x);
    case OpKind::LeakyRelu: return leakyRelu(x, alpha);
    case OpKind::Elu: return elu(x, alpha);
    case OpKind::Selu: return selu(x);
    case OpKind::Gelu: return gelu(x);
    case OpKind::Sigmoid: return sigmoid(x);
    case OpKind::Tanh: return std::tanh(x);
    case OpKind::Softplus: return softplus(x);
    default: return x;
  }
}

// The i32 forms of the ops the shape rules allow on integers, in 64-bit arithmetic and then
// wrapped to 32 bits: -INT_MIN and squares overflow exactly as two's-complement code does.
double unaryIntValue(OpKind op, int64_t x) {
  switch (op) {
    case OpKind::Neg: return wrapI32(-x);
    case OpKind::Abs: return wrapI32(x < 0 ? -x : x);
    case OpKind::Square: return wrapI32(x * x);
    case OpKind::Sign: return x > 0 ? 1 : (x < 0 ? -1 : 0);
    default: return static_cast<double>(x);
  }
}

bool eitherNaN(double a, double b) { return std::isnan(a) || std::isnan(b); }

// Comparisons give f32 1 or 0 (false for NaN operands, as IEEE comparisons are).
// maximum/minimum propagate NaN, as torch.maximum/minimum do.
double binaryValue(OpKind op, double a, double b) {
  switch (op) {
    case OpKind::Add: return a + b;
    case OpKind::Sub: return a - b;
    case OpKind::Mul: return a * b;
    case OpKind::Div: return a / b;  // IEEE: x/0 = +-inf, 0/0 = NaN
    case OpKind::Pow: return std::pow(a, b);
    case OpKind::Maximum: return eitherNaN(a, b) ? std::numeric_limits<double>::quiet_NaN() : (a > b ? a : b);
    case OpKind::Minimum: return eitherNaN(a, b) ? std::numeric_limits<double>::quiet_NaN() : (a < b ? a : b);
    case OpKind::Greater: return a > b ? 1.0 : 0.0;
    case OpKind::GreaterEqual: return a >= b ? 1.0 : 0.0;
    case OpKind::Equal: return a == b ? 1.0 : 0.0;
    default: return 0.0;
  }
}

// i32 add, sub and mul wrap to 32 bits; the other ops are exact in double for i32 values.
double binaryIntValue(OpKind op, double a, double b) {
  int64_t x = static_cast<int64_t>(a), y = static_cast<int64_t>(b);
  switch (op) {
    case OpKind::Add: return wrapI32(x + y);
    case OpKind::Sub: return wrapI32(x - y);
    case OpKind::Mul: return wrapI32(x * y);
    default: return binaryValue(op, a, b);
  }
}

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
  OpKind op = k.node.op;
  const std::vector<double>& x = k.in[0]->data;
  std::vector<double>& y = k.out.data;
  if (k.out.dtype == DType::I32) {
    for (size_t i = 0; i < y.size(); ++i) y[i] = unaryIntValue(op, static_cast<int64_t>(x[i]));
    return;
  }
  // Defaults: leaky_relu 0.01 (torch / the language), elu 1.
  double alpha = k.node.attrs.getFloat("alpha", op == OpKind::LeakyRelu ? 0.01 : 1.0);
  for (size_t i = 0; i < y.size(); ++i) y[i] = unaryValue(op, x[i], alpha);
}

void castKernel(const KernelArgs& k) {
  const Tensor& x = *k.in[0];
  bool toInt = k.out.dtype == DType::I32 && x.dtype == DType::F32;
  for (size_t i = 0; i < k.out.data.size(); ++i) k.out.data[i] = toInt ? castToI32(x.data[i]) : x.data[i];
}

void binaryKernel(const KernelArgs& k) {
  OpKind op = k.node.op;
  const Tensor &a = *k.in[0], &b = *k.in[1];
  const std::vector<int64_t>& shape = k.out.shape;
  std::array<std::vector<int64_t>, 2> strides{broadcastStrides(a.shape, shape), broadcastStrides(b.shape, shape)};
  bool ints = a.dtype == DType::I32;
  std::vector<double>& y = k.out.data;
  forEachIndex(shape, strides, [&](int64_t i, const std::array<int64_t, 2>& off) {
    double va = a.data[static_cast<size_t>(off[0])], vb = b.data[static_cast<size_t>(off[1])];
    y[static_cast<size_t>(i)] = ints ? binaryIntValue(op, va, vb) : binaryValue(op, va, vb);
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
