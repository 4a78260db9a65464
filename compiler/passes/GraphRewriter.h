#pragma once
// The one graph-rewriting mechanism every pass uses. Nodes are in topological order with a
// single result each, so a pass is simplest as a rebuild: visit the source nodes in order,
// let the pass say what each one becomes in a fresh graph (a copy, an existing new value, a
// newly emitted node, or nothing), and remap the roots (outputs, updates, loss) at the end.
//
// Invariants the rewriter enforces, so that no pass has to re-derive them:
//  - a value is only ever replaced by a value of exactly its type, so users (copied with
//    their known types) and roots stay well-typed;
//  - a dropped node must be unused; using it later is reported as an internal error;
//  - a value that survives keeps its name and source position; a node emitted in place of an
//    old one inherits them (the printed IR still points at the model's line).
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "compiler/ir/Graph.h"
#include "support/Result.h"

namespace nnc {

class GraphRewriter {
 public:
  // `passName` prefixes internal errors ("constant-folding: ...").
  GraphRewriter(const Graph& source, std::string passName);

  // The hook: what old node `oldId` becomes, as a value of the new graph, or kNoNode to drop
  // it (only for nodes nothing uses).
  using Visit = std::function<NodeId(GraphRewriter&, NodeId oldId)>;

  // Rebuilds the whole graph through `visit` (once per rewriter). Errors: internal invariant
  // violations, naming the pass.
  Result<Graph> run(const Visit& visit);

  const Graph& source() const { return src_; }
  const Graph& result() const { return out_; }
  const Node& newNode(NodeId id) const { return out_.node(id); }
  const TensorType& newType(NodeId id) const { return out_.type(id); }

  // The new value of an already visited old node (kNoNode when it was dropped).
  NodeId mapped(NodeId oldId) const;
  // The old node's operands as new values.
  std::vector<NodeId> mappedInputs(NodeId oldId) const;

  // Copies an old node unchanged but for its operands, which are remapped.
  NodeId copy(NodeId oldId);
  // Copies an old node with other (new) operands; its type is kept.
  NodeId copyWithInputs(NodeId oldId, std::vector<NodeId> newInputs);
  // Emits an operation whose type its shape rule infers; kNoNode when the rule refuses it
  // or when `expected` is given and the inferred type differs. Rewrites use this as their
  // safety net: a rewrite that would change a type simply does not happen.
  NodeId emit(OpKind op, std::vector<NodeId> inputs, Attrs attrs = {},
              const std::optional<TensorType>& expected = std::nullopt);
  // Emits a Constant leaf.
  NodeId emitConstant(TensorType type, Attrs attrs);

 private:
  void fail(std::string message);

  const Graph& src_;
  std::string passName_;
  Graph out_;
  std::vector<NodeId> map_;
  std::optional<Error> error_;
};

// What a node computes, as CSE and the pipeline's fixed-point test compare it: op, operands,
// type and attributes, floats compared by their bits (0.0 and -0.0 differ, so that x * -0.0
// is not merged with x * 0.0; a NaN equals itself). Equal computations give equal values.
struct Computation {
  OpKind op;
  const std::vector<NodeId>& inputs;
  const Attrs& attrs;
  const TensorType& type;
};
inline Computation computationOf(const Node& n) { return {n.op, n.inputs, n.attrs, n.type}; }
bool sameComputation(const Computation& a, const Computation& b);
size_t hashComputation(const Computation& c);

// Structural equality of two graphs: the same computations, the same leaf names and the
// same roots. Labels of non-leaves and source positions are ignored. The pipeline's
// fixed-point test.
bool sameStructure(const Graph& a, const Graph& b);

}  // namespace nnc
