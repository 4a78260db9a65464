#pragma once
// Optimizer updates written straight into the state. A training step's update `target <-
// value` is, by default, computed into the workspace and copied into the state after every
// kernel ran (the kernels must see the old values). For a large parameter that copy is a
// second pass over memory the update loop just walked, run on one thread. When the kernel
// that computes `value` is the last reader of `target` and reads it only at the position it
// writes, it may write `value` into `target`'s own bytes instead: every other reader ran
// before it, and each element is read before it is overwritten.
#include <vector>

#include "compiler/lowering/Lowering.h"

namespace nnc {

// For each update of lg.graph (by index), whether its value may live in its target's bytes.
// Needs lg's kernels in execution order with their reads collected, and the leaves' storage.
// `writeOnlyTargets` (LoweringOptions::writeOnlyUpdatesInPlace): an update whose target no
// kernel reads may also be written in place by a kernel that is not an elementwise loop (a
// matmul, a convolution's gradient, a reduction): nothing sees the target's old bytes.
std::vector<bool> inPlaceUpdates(const LoweredGraph& lg, bool writeOnlyTargets = false);

}  // namespace nnc
