#include "compiler/interp/Kernels.h"

namespace nnc::interp {

// The one table from op to reference kernel. No `default:`, so -Werror=switch names any op
// added to Ops.def without a kernel here; the elementwise rows share two kernels that
// evaluate their scalar functions.
Kernel kernelFor(OpKind op) {
  switch (op) {
    case OpKind::Input: case OpKind::Param: case OpKind::State: case OpKind::Hyper: case OpKind::Constant:
      return nullptr;
    // Every row with a scalar function (generated, so a new elementwise op needs no line here).
#define NNC_OP(...)
#define NNC_UNARY(Kind, ...) case OpKind::Kind:
#define NNC_BINARY(...)
#include "compiler/ir/Ops.def"
      return unaryKernel;
#define NNC_OP(...)
#define NNC_UNARY(...)
#define NNC_BINARY(Kind, ...) case OpKind::Kind:
#include "compiler/ir/Ops.def"
      return binaryKernel;
    case OpKind::Cast: return castKernel;
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
    case OpKind::Recurrence: return recurrenceKernel;
    case OpKind::RecurrenceGrad: return recurrenceGradKernel;
    case OpKind::MaxPool: return maxPoolKernel;
    case OpKind::MaxPoolGrad: return maxPoolGradKernel;
    case OpKind::AvgPool: return avgPoolKernel;
    case OpKind::AvgPoolGrad: return avgPoolGradKernel;
    case OpKind::Upsample: return upsampleKernel;
    case OpKind::UpsampleGrad: return upsampleGradKernel;
    case OpKind::Pad: return padKernel;
    case OpKind::PadGrad: return padGradKernel;
    case OpKind::Softmax: case OpKind::LogSoftmax: return softmaxKernel;
    case OpKind::AttentionSoftmax: return attentionSoftmaxKernel;
    case OpKind::AttentionSoftmaxGrad: return attentionSoftmaxGradKernel;
    case OpKind::Dropout: return dropoutKernel;
    case OpKind::DropoutMask: return dropoutMaskKernel;
    case OpKind::BatchNorm: return batchNormKernel;
    case OpKind::Embedding: return embeddingKernel;
    case OpKind::EmbeddingGrad: return embeddingGradKernel;
    case OpKind::EmbeddingSgdUpdate: return embeddingSgdUpdateKernel;
    case OpKind::EmbeddingGradAccumulate: return embeddingGradAccumulateKernel;
    case OpKind::EmbeddingGradClear: return embeddingGradClearKernel;
    case OpKind::RandomFlip: case OpKind::RandomTranslation: return augmentIdentityKernel;
    case OpKind::AugmentImages: return augmentImagesKernel;
  }
  return nullptr;
}

}  // namespace nnc::interp
