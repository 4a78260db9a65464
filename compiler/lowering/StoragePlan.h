#pragma once
// The storage plan, last step of planning: in-place updates (InPlaceUpdates.h), one arena
// buffer per stored value with its lifetime in kernel steps, the copies that finish the entry
// (outputs, then updates into the state), and the arena plan (MemoryPlan.h).
#include "compiler/lowering/Lowering.h"

namespace nnc::lowering {

// Needs out's kernels in execution order with their reads collected.
// `options.writeOnlyUpdatesInPlace` widens the in-place rule (InPlaceUpdates.h).
void planStorage(LoweredGraph& out, const LoweringOptions& options);

}  // namespace nnc::lowering
