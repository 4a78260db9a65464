#pragma once
// Fast f32 matrix products emitted as LLVM IR, BLIS style: the operands are copied into
// packed panels sized to the caches, and a register-blocked microkernel (MR rows x NR
// columns of accumulators, NR a whole number of vector registers) computes each output tile.
//
// Numerics: every output element is ONE fused multiply-add chain from +0 in k order,
// whatever the blocking, the path (packed or small-M direct, either B layout) or the thread
// split, so a row's result does not depend on M either. Between K blocks
// the partial sum goes through the output (stored, reloaded: no extra rounding), so the
// result is bit-identical for every thread count and every split of the work.
#include <functional>

#include "compiler/codegen/Emit.h"
#include "compiler/codegen/kernels/gemm/GemmBlocking.h"

namespace nnc::codegen {


// C[l] = op(A[l]) @ op(B[l]) for every leading index l: op(A) is M x K, op(B) K x N, all
// row-major, A[l] at l*M*K, B[l] at l*K*N when B has the leading dims (else B is shared),
// C[l] at l*M*N.
struct GemmProblem {
  NodeId a = kNoNode, b = kNoNode, c = kNoNode;
  bool transA = false, transB = false;
  Extent m, k, l;
  int64_t n = 0;
  bool bBatched = false;
  // C is the product's own buffer, which only its epilogue reads: the sums of a block may go
  // elsewhere in it than the block's rows (see GemmTileHook's sumsRow).
  bool sumsAreScratch = false;
  // The epilogue reads other tensors of C's size (an optimizer's parameter and state).
  bool epilogueStreams = false;
};

// Called on each finished block of output (a column of microkernel tiles, or the few rows
// of the direct path) after its final values are stored: rows [row, row + rows) of C (flat
// rows, l * M + i) and columns [col, col + cols). For fused epilogues. The hook is
// emitted once, into a function of its own over the task's frame (its TaskBuilder is that
// function's), which the shared GEMM driver calls. The block's sums are in C's rows
// [sumsRow, sumsRow + rows): `row` itself, or, when the driver runs a weight gradient's row
// panels over C that is scratch (sumsAreScratch), the first rows of the block's slice, which
// every row panel reuses, so that C never goes to memory. When `prefetchOnly` (an i1) is
// true, the block is one the driver will finish later: the hook only prefetches its lines of
// the tensors the epilogue streams (GemmProblem::epilogueStreams).
using GemmTileHook = std::function<void(TaskBuilder&, llvm::Value* row, llvm::Value* rows, llvm::Value* col,
                                        llvm::Value* cols, llvm::Value* sumsRow, llvm::Value* prefetchOnly)>;

// Emits the product as one task (its parallel range: panels of NR output columns, or output
// rows when N is narrow) and queues it.
void emitGemm(KernelContext& kc, const GemmProblem& p, const GemmTileHook& onTile = nullptr);

}  // namespace nnc::codegen
