#pragma once
// The reference kernels: one plain loop nest per op. The interpreter (Interpreter.cpp) checks
// leaves and re-derives every node's type from its shape rule before calling a kernel, so a
// kernel may rely on everything the op's rule in ShapeRules.cpp guarantees (operand counts,
// ranks, matching dims, valid attributes) and never fails.
//
// Kernels compute in double. The interpreter rounds f32 results to float afterwards in f32
// mode; i32 results are exact integers, wrapped to 32 bits where they can overflow (as the
// two's-complement arithmetic of compiled code does).
#include <cstdint>
#include <vector>

#include "compiler/interp/Tensor.h"
#include "compiler/ir/Graph.h"
#include "compiler/ir/ScalarMath.h"

namespace nnc::interp {

struct KernelArgs {
  const Node& node;                // op and attributes
  std::vector<const Tensor*> in;   // operands, with concrete shapes
  Tensor& out;                     // dtype and concrete shape set, data zero-filled
};

using Kernel = void (*)(const KernelArgs&);

// The kernel of a non-leaf op (nullptr for leaves, which the interpreter fills itself).
Kernel kernelFor(OpKind op);

using scalar::wrapI32;

// The kernels, grouped by file.
// ElementwiseKernels.cpp
void unaryKernel(const KernelArgs&);
void castKernel(const KernelArgs&);
void binaryKernel(const KernelArgs&);
void selectKernel(const KernelArgs&);
void broadcastToKernel(const KernelArgs&);
// ReduceKernels.cpp
void reduceKernel(const KernelArgs&);
void argMaxKernel(const KernelArgs&);
void elementCountKernel(const KernelArgs&);
void softmaxKernel(const KernelArgs&);
// LayoutKernels.cpp
void reshapeKernel(const KernelArgs&);
void transposeKernel(const KernelArgs&);
void concatKernel(const KernelArgs&);
void sliceKernel(const KernelArgs&);
void oneHotKernel(const KernelArgs&);
// MatMulKernel.cpp
void matMulKernel(const KernelArgs&);
// ConvKernels.cpp
void conv2dKernel(const KernelArgs&);
void conv2dGradInputKernel(const KernelArgs&);
void conv2dGradFilterKernel(const KernelArgs&);
// RecurrentKernels.cpp
void recurrenceKernel(const KernelArgs&);
void recurrenceGradKernel(const KernelArgs&);
// PoolKernels.cpp
void maxPoolKernel(const KernelArgs&);
void maxPoolGradKernel(const KernelArgs&);
void avgPoolKernel(const KernelArgs&);
void avgPoolGradKernel(const KernelArgs&);
// ImageKernels.cpp: upsample and pad
void upsampleKernel(const KernelArgs&);
void upsampleGradKernel(const KernelArgs&);
void padKernel(const KernelArgs&);
void padGradKernel(const KernelArgs&);
// ModeKernels.cpp
void dropoutKernel(const KernelArgs&);
void dropoutMaskKernel(const KernelArgs&);
void batchNormKernel(const KernelArgs&);
// AttentionKernels.cpp (multi_head_attention)
void attentionSoftmaxKernel(const KernelArgs&);
void attentionSoftmaxGradKernel(const KernelArgs&);
// EmbeddingKernels.cpp (issue 13)
void embeddingKernel(const KernelArgs&);
void embeddingGradKernel(const KernelArgs&);
void embeddingSgdUpdateKernel(const KernelArgs&);
void embeddingGradAccumulateKernel(const KernelArgs&);
void embeddingGradClearKernel(const KernelArgs&);
// AugmentKernels.cpp: random_flip, random_translation (identity) and augment_images
void augmentIdentityKernel(const KernelArgs&);
void augmentImagesKernel(const KernelArgs&);

}  // namespace nnc::interp
