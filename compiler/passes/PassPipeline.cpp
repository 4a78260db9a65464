// The simplification pipeline.
//
// The passes feed each other: folding turns `1 - 0` into `1`, simplification then removes
// `x * 1`, which lets CSE see that two subexpressions are now the same, and DCE removes what
// all of them left behind. So they run in rounds until a round changes nothing (a structural
// comparison, not a node count: a rewrite may keep the count), bounded by maxRounds so that
// compile time is bounded whatever the graph. Each pass's output goes through the verifier,
// so a pass bug surfaces as an error naming the pass rather than as wrong code later.
#include "compiler/passes/PassPipeline.h"

#include <cstdio>

#include "compiler/ir/Verifier.h"
#include "compiler/passes/AlgebraicSimplification.h"
#include "compiler/passes/CommonSubexpressionElimination.h"
#include "compiler/passes/ConstantFolding.h"
#include "compiler/passes/DeadCodeElimination.h"
#include "compiler/passes/GraphRewriter.h"

namespace nnc {

namespace {

struct PassEntry {
  const char* name;
  bool PassOptions::*enabled;
  Result<Graph> (*run)(const Graph&, const PassOptions&);
};

const PassEntry kPasses[] = {
    {"algebraic-simplification", &PassOptions::algebraicSimplification,
     [](const Graph& g, const PassOptions&) { return simplifyAlgebra(g); }},
    {"constant-folding", &PassOptions::constantFolding, foldConstants},
    {"common-subexpression-elimination", &PassOptions::commonSubexpressionElimination,
     [](const Graph& g, const PassOptions&) { return eliminateCommonSubexpressions(g); }},
    {"dead-code-elimination", &PassOptions::deadCodeElimination,
     [](const Graph& g, const PassOptions&) { return eliminateDeadCode(g); }},
};

}  // namespace

Result<Graph> optimizeGraph(const Graph& g, const PassOptions& options, std::vector<PassStats>& stats) {
  if (auto ok = verifyGraph(g); !ok) return makeError("optimizer input: " + ok.error().message, ok.error().loc);
  Graph current = g;
  for (int round = 1; round <= options.maxRounds; ++round) {
    bool changed = false;
    for (const PassEntry& pass : kPasses) {
      if (!(options.*pass.enabled)) continue;
      Result<Graph> next = pass.run(current, options);
      if (!next) return makeError(std::string("pass ") + pass.name + ": " + next.error().message, next.error().loc);
      if (auto ok = verifyGraph(*next); !ok)
        return makeError(std::string("pass ") + pass.name + " produced an invalid graph: " + ok.error().message,
                         ok.error().loc);
      bool passChanged = !sameStructure(current, *next);
      stats.push_back(PassStats{pass.name, round, current.size(), next->size(), passChanged});
      changed = changed || passChanged;
      current = std::move(*next);
    }
    if (!changed) break;
  }
  return current;
}

Result<Graph> optimizeGraph(const Graph& g, const PassOptions& options) {
  std::vector<PassStats> ignored;
  return optimizeGraph(g, options, ignored);
}

std::string formatPassStats(const std::vector<PassStats>& stats) {
  std::string out;
  char line[160];
  for (const PassStats& s : stats) {
    std::snprintf(line, sizeof line, "%-34s round %d: %zu -> %zu nodes%s\n", s.pass.c_str(), s.round, s.nodesBefore,
                  s.nodesAfter, s.changed ? "" : " (unchanged)");
    out += line;
  }
  if (!stats.empty()) {
    std::snprintf(line, sizeof line, "total: %zu -> %zu nodes\n", stats.front().nodesBefore, stats.back().nodesAfter);
    out += line;
  }
  return out;
}

}  // namespace nnc
