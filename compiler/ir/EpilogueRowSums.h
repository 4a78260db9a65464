#pragma once
// Row sums in a producer's epilogue (issue 14). A kernel whose threads split its output into
// whole rows (all columns of one [n, oh] of a convolution's [n, oh, ow, f] output) and that
// runs an epilogue on every element it finishes can also sum the epilogue's values along the
// row, per channel: the row's sums stay in L1 while the row is computed, each row is summed
// by one thread in an order fixed by the shape (the same bits for every thread count), and
// no other thread writes them. A reduction over more axes (batch normalisation's statistics
// over [n, oh, ow]) becomes that row sum followed by a small reduction of the row sums
// (IRBuilder::reduce), so the full-size tensor is not read again just to be summed.
//
// The table (EpilogueRowSums.cpp) names the hosts; the partitioner (Fusion.cpp) fuses the row
// sums when LoweringOptions::fuseRowSums says so (off by default: measured slower on Zen 3,
// see there), the host's emitter (kernels/conv/EmitConv.cpp, kernels/EmitEpilogueRowSums.cpp)
// runs them.
#include "compiler/ir/Graph.h"

namespace nnc {

// NNC_FUSE_ROW_SUMS=1 in the environment: reductions of a convolution's values are written
// row sums first (IRBuilder::reduce) and the convolution's epilogue computes the row sums
// (LoweringOptions::fuseRowSums). Off by default, both, so that the default graph is the one
// without row sums: on Zen 3 the fused row sums cost more than the pass they save (see
// LoweringOptions.h); to be measured on AVX-512 machines.
bool epilogueRowSumsWanted();

// Whether `n`'s kernel sums epilogue values along its output rows (the direct forward
// convolution: not grouped, not dilated).
bool hostsEpilogueRowSums(const Node& n);

// Whether `n` is a sum or mean over exactly the row axis (rank - 2, keepdims false) of an
// f32 operand of `space`, rank >= 3: what a host sums in its epilogue.
bool isEpilogueRowSum(const Graph& g, const Node& n, const Shape& space);

// The host whose output `x` is computed from by elementwise ops of x's shape whose other
// operands are smaller (broadcast: per-channel parameters, running statistics), so that x
// could be computed in that host's epilogue; kNoNode when there is none.
NodeId epilogueRowSumHostOf(const Graph& g, NodeId x);

}  // namespace nnc
