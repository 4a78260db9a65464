#pragma once
// bf16 mixed precision (`precision = bf16` in the train block, or `--precision bf16`): every
// f32 operand of every product - the registry's OutFusable ops: matmul and the convolutions,
// forward and backward, and any product op added later in that category - is rounded to
// bfloat16 (ties to even) by a `round_bf16` node, so the f32 kernels multiply bf16 values and
// accumulate in f32, as AVX512_BF16's vdpbf16ps does. Nothing else is rounded: parameters,
// the sums of gradients and optimizer state stay f32.
//
// It runs on finished graphs (after differentiation, so the gradients' products are rounded
// too and no gradient rule ever sees the rounding). Each value is rounded once however many
// products read it (a weight used by the forward convolution and its input gradient: once
// per step), and the rounding is placed right after the value's producer, so that the
// partitioner fuses it into the producer's loop (a convolution's epilogue, say) instead of
// making a pass of its own.
#include <vector>

#include "compiler/ir/Graph.h"
#include "support/Result.h"

namespace nnc {

struct RoundedGraph {
  Graph graph;
  std::vector<NodeId> fromOld;  // old node id -> the same value in `graph`
};

// The products whose operands are rounded.
bool roundsOperandsInBf16(OpKind op);

Result<RoundedGraph> roundProductOperandsToBf16(const Graph& g);

}  // namespace nnc
