#include "compiler/ir/Graph.h"

#include "compiler/ir/ShapeRules.h"
#include "compiler/ir/TypedAttrs.h"

namespace nnc {

NodeId Graph::addLeaf(OpKind op, std::string leafName, TensorType type, Attrs attrs, SourceLoc loc) {
  nodes_.push_back(Node{op, {}, std::move(attrs), std::move(type), std::move(leafName), loc});
  return static_cast<NodeId>(nodes_.size() - 1);
}

NodeId Graph::addScalar(double value) {
  return addLeaf(OpKind::Constant, "", TensorType{DType::F32, Shape{}}, ConstantAttr{value, std::nullopt}.attrs());
}

Result<NodeId> Graph::add(OpKind op, std::vector<NodeId> inputs, Attrs attrs, SourceLoc loc,
                          std::string label) {
  std::vector<TensorType> types;
  types.reserve(inputs.size());
  for (NodeId in : inputs) {
    if (in < 0 || static_cast<size_t>(in) >= nodes_.size())
      return makeError(std::string("internal: operand of ") + opName(op) + " is not in the graph", loc);
    types.push_back(nodes_[static_cast<size_t>(in)].type);
  }
  Result<TensorType> type = inferType(op, types, attrs);
  if (!type) return makeError(type.error().message, loc);
  return addWithType(op, std::move(inputs), std::move(attrs), std::move(*type), loc, std::move(label));
}

NodeId Graph::addWithType(OpKind op, std::vector<NodeId> inputs, Attrs attrs, TensorType type,
                          SourceLoc loc, std::string label) {
  nodes_.push_back(Node{op, std::move(inputs), std::move(attrs), std::move(type), std::move(label), loc});
  return static_cast<NodeId>(nodes_.size() - 1);
}

NodeId Graph::findLeaf(OpKind op, const std::string& leafName) const {
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i].op == op && nodes_[i].name == leafName) return static_cast<NodeId>(i);
  return kNoNode;
}

std::vector<NodeId> Graph::leaves(OpKind op) const {
  std::vector<NodeId> out;
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i].op == op) out.push_back(static_cast<NodeId>(i));
  return out;
}

}  // namespace nnc
