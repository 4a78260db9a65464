#pragma once
// Accumulations written straight into a State leaf's bytes (issue 13). An op that adds into
// a persistent buffer, `acc2 = embedding_grad_accumulate(acc, dy, ids)`, would by default
// write acc2 to a workspace buffer of acc's whole size, copying acc there first; for an
// embedding table's gradient that is the full-table pass the buffer exists to avoid. When
// nothing reads acc's old bytes after the accumulating kernel and nothing copies them or
// acc2 out at the end, acc2 may live in acc's own bytes instead: the kernel then reads and
// writes only the rows it adds into. The update that later writes the buffer back (its
// clearing) goes in place by the ordinary rule (InPlaceUpdates.h), reading acc2 there.
#include <vector>

#include "compiler/lowering/Lowering.h"

namespace nnc {

// The accumulating nodes of lg.graph whose value may be a view of their operand 0, a State
// leaf. Needs lg's kernels in execution order with their reads collected, and the leaves'
// storage; run before inPlaceUpdates, which must see these values as the buffer's.
std::vector<NodeId> inPlaceAccumulations(const LoweredGraph& lg);

}  // namespace nnc
