#pragma once
// What the kernel emitters fuse beyond the category lattice. The lattice (Ops.def) decides
// which producers join a kernel's loop: Fused ops of category Elementwise and Broadcast read
// their operands at the position they write, Injective ones (transpose, slice) at remapped
// positions. A few emitters do more, and this table names the ops they do it for; the
// partitioner (Fusion.cpp) asks it and names no op itself.
#include "compiler/ir/Op.h"

namespace nnc::lowering {

enum class FusionRole {
  None,
  // Takes its elementwise consumers as an epilogue on each finished output tile
  // (kernels/gemm, kernels/conv). Only matmul and the forward convolution: the other
  // OutFusable ops (the convolutions' gradients) have emitters without one.
  EpilogueHost,
  // Recomputed along the last axis inside a row kernel (kernels/EmitSoftmaxCrossEntropy.cpp)
  // from its operand, with the row's statistics (softmax, log_softmax) ...
  RowNormalization,
  // ... or from the row's i32 label (one_hot).
  RowIndicator,
  // A sum over the last axis: one value per row of a row kernel.
  RowSum,
};

FusionRole fusionRole(OpKind op);

// A row kernel recomputes it rather than reading it (RowNormalization or RowIndicator).
inline bool recomputedInRows(OpKind op) {
  FusionRole r = fusionRole(op);
  return r == FusionRole::RowNormalization || r == FusionRole::RowIndicator;
}

}  // namespace nnc::lowering
