#pragma once
// The planner's first two steps (Lowering.h): which nodes are live and who uses each, which
// values leave the graph and must be stored, and where every leaf lives (the caller's inputs
// and hypers, the state, compiled-in constants).
#include <vector>

#include "compiler/lowering/Lowering.h"

namespace nnc::lowering {

struct NodeUses {
  std::vector<bool> needsBuffer;           // read from memory by some user (or leaves the graph)
  std::vector<bool> pinned;                // an output or update value
  std::vector<std::vector<NodeId>> users;  // the live users of each node, ascending
};

// Sets out.live. Errors: an update whose target is not a param or state.
Result<NodeUses> markLive(const Graph& g, LoweredGraph& out);

// The storage of every leaf, and out.inputs / out.hypers in node order. Errors: a Param or
// State missing from the layout, a constant with neither a fill value nor the right number
// of values, a leaf op this table does not know.
Result<void> assignLeafStorage(const Graph& g, const StateLayout& layout, LoweredGraph& out);

}  // namespace nnc::lowering
