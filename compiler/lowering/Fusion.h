#pragma once
// Fusion decisions: which live nodes start kernels and which producers each kernel computes
// in its own loop (the scheme is in Lowering.h): ordinary fused kernels, matmul and
// convolution epilogues, and row kernels. The category lattice decides which producers may
// join a loop; FusionRoles.h names the ops whose emitters fuse more.
#include "compiler/lowering/Liveness.h"
#include "compiler/lowering/Lowering.h"

namespace nnc::lowering {

// Fills out.kernels (in the order found: last node first), out.kernelOf and the storage kind
// of every non-leaf node (Arena with index 0 until the storage plan numbers the buffers).
// Marks in `uses` the nodes that kernels read from memory.
Result<void> partitionKernels(const Graph& g, NodeUses& uses, LoweredGraph& out, const LoweringOptions& options);

}  // namespace nnc::lowering
