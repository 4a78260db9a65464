#pragma once
// The graph IR: a typed dataflow graph of single-result nodes kept in topological order
// (every operand id is smaller than its user's id). Graph-level lists say what leaves the
// graph: named outputs, and updates that write a new value into a Param or State leaf (the
// optimizer step, running statistics).
#include <cstdint>
#include <string>
#include <vector>

#include "compiler/ir/Attrs.h"
#include "compiler/ir/Op.h"
#include "compiler/ir/Type.h"
#include "support/Result.h"

namespace nnc {

using NodeId = int32_t;
inline constexpr NodeId kNoNode = -1;

struct Node {
  OpKind op = OpKind::Constant;
  std::vector<NodeId> inputs;
  Attrs attrs;
  TensorType type;
  std::string name;  // leaves: their identity ("h1.weight"); others: a readable label or ""
  SourceLoc loc;     // where the model wrote it; invalid for compiler-made nodes
};

struct Output {
  std::string name;
  NodeId node = kNoNode;
};

struct Update {
  NodeId target = kNoNode;  // a Param or State leaf
  NodeId value = kNoNode;   // its new value, same type
};

class Graph {
 public:
  std::string name;

  // A leaf (Input, Param, State, Hyper, Constant) with a given type.
  NodeId addLeaf(OpKind op, std::string name, TensorType type, Attrs attrs = {}, SourceLoc loc = {});
  // A scalar f32 constant.
  NodeId addScalar(double value);
  // An operation; its type comes from the op's shape rule. Errors carry `loc`.
  Result<NodeId> add(OpKind op, std::vector<NodeId> inputs, Attrs attrs = {}, SourceLoc loc = {},
                     std::string name = {});
  // An operation whose type the caller already knows (passes that rebuild graphs).
  NodeId addWithType(OpKind op, std::vector<NodeId> inputs, Attrs attrs, TensorType type,
                     SourceLoc loc = {}, std::string name = {});

  const Node& node(NodeId id) const { return nodes_[static_cast<size_t>(id)]; }
  Node& node(NodeId id) { return nodes_[static_cast<size_t>(id)]; }
  const TensorType& type(NodeId id) const { return node(id).type; }
  size_t size() const { return nodes_.size(); }
  const std::vector<Node>& nodes() const { return nodes_; }

  // The leaf of kind `op` named `name`, or kNoNode.
  NodeId findLeaf(OpKind op, const std::string& name) const;
  // Every leaf of kind `op`, in creation order.
  std::vector<NodeId> leaves(OpKind op) const;

  std::vector<Output> outputs;
  std::vector<Update> updates;
  NodeId loss = kNoNode;  // the training loss, when the graph has one

 private:
  std::vector<Node> nodes_;
};

}  // namespace nnc
