#include "compiler/interp/Kernels.h"

namespace nnc::interp {

// The one table from op to reference kernel. No `default:`, so -Wswitch names any op added
// to Ops.def without a kernel here.
Kernel kernelFor(OpKind op) {
  switch (op) {
    case OpKind::Input: case OpKind::Param: case OpKind::State: case OpKind::Hyper: case OpKind::Constant:
      return nullptr;
    case OpKind::Neg: case OpKind::Exp: case OpKind::Log: case OpKind::Sqrt: case OpKind::Abs:
    case OpKind::Square: case OpKind::Sign: case OpKind::Erf: case OpKind::Relu: case OpKind::LeakyRelu:
    case OpKind::Elu: case OpKind::Selu: case OpKind::Gelu: case OpKind::Sigmoid: case OpKind::Tanh:
    case OpKind::Softplus:
      return unaryKernel;
    case OpKind::Cast: return castKernel;
    case OpKind::Add: case OpKind::Sub: case OpKind::Mul: case OpKind::Div: case OpKind::Pow:
    case OpKind::Maximum: case OpKind::Minimum: case OpKind::Greater: case OpKind::GreaterEqual:
    case OpKind::Equal:
      return binaryKernel;
    case OpKind::Select: return selectKernel;
    case OpKind::BroadcastTo: return broadcastToKernel;
    case OpKind::ReduceSum: case OpKind::ReduceMean: case OpKind::ReduceMax: return reduceKernel;
    case OpKind::ArgMax: return argMaxKernel;
    case OpKind::ElementCount: return elementCountKernel;
    case OpKind::Reshape: return reshapeKernel;
    case OpKind::Transpose: return transposeKernel;
    case OpKind::Concat: return concatKernel;
    case OpKind::Slice: return sliceKernel;
    case OpKind::OneHot: return oneHotKernel;
    case OpKind::MatMul: return matMulKernel;
    case OpKind::Conv2D: return conv2dKernel;
    case OpKind::Conv2DGradInput: return conv2dGradInputKernel;
    case OpKind::Conv2DGradFilter: return conv2dGradFilterKernel;
    case OpKind::MaxPool: return maxPoolKernel;
    case OpKind::MaxPoolGrad: return maxPoolGradKernel;
    case OpKind::AvgPool: return avgPoolKernel;
    case OpKind::AvgPoolGrad: return avgPoolGradKernel;
    case OpKind::Softmax: case OpKind::LogSoftmax: return softmaxKernel;
    case OpKind::Dropout: return dropoutKernel;
    case OpKind::DropoutMask: return dropoutMaskKernel;
    case OpKind::BatchNorm: return batchNormKernel;
  }
  return nullptr;
}

}  // namespace nnc::interp
