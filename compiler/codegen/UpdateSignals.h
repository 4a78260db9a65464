#pragma once
// Telling the runtime, while an entry still runs, that an update is final in the state: the
// data-parallel gradient entry (CompileOptions::signalUpdates) calls
//   nnc_update_ready(state, byteOffset, bytes)      (runtime/distributed/UpdateSignal.h)
// right after the kernel that last writes or reads an update's target, so the gradient's
// reduction across processes can start while the rest of the backward pass computes
// (docs/distributed.md, "Overlap"). Only updates written in place (InPlaceUpdates.h) can be
// signalled; the others are copied into the state when every kernel has run.
#include <cstdint>
#include <vector>

#include "compiler/lowering/Lowering.h"

namespace nnc {

struct UpdateSignal {
  int64_t stateOffset = 0;  // the target's bytes in the state buffer
  int64_t bytes = 0;
};

// Per kernel index (lg.kernels' execution order): the updates final once that kernel ran, in
// the graph's update order. An update whose target is also an output, or is read by the
// entry's final copies, is never signalled: the runtime may change its bytes at once.
std::vector<std::vector<UpdateSignal>> updateSignals(const LoweredGraph& lg);

}  // namespace nnc
