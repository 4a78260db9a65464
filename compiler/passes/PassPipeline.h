#pragma once
// The graph simplification pipeline: algebraic simplification, constant folding, common
// subexpression elimination and dead code elimination, repeated until the graph stops
// changing. `nnc FILE ir --stage optimized` prints its result and statistics.
#include <string>
#include <vector>

#include "compiler/ir/Graph.h"
#include "compiler/passes/PassOptions.h"
#include "support/Result.h"

namespace nnc {

// What one run of one pass did.
struct PassStats {
  std::string pass;  // "constant-folding"
  int round = 0;     // 1-based
  size_t nodesBefore = 0;
  size_t nodesAfter = 0;
  bool changed = false;  // whether the graph differs structurally afterwards
};

// Optimises `g`. Every pass's result is verified; a verifier failure (a compiler bug) is
// returned as an Error naming the pass. Errors also for an invalid input graph.
Result<Graph> optimizeGraph(const Graph& g, const PassOptions& options = {});
// The same, appending one PassStats per pass run to `stats`.
Result<Graph> optimizeGraph(const Graph& g, const PassOptions& options, std::vector<PassStats>& stats);

// "constant-folding      round 1: 120 -> 97 nodes" lines, and a total.
std::string formatPassStats(const std::vector<PassStats>& stats);

}  // namespace nnc
