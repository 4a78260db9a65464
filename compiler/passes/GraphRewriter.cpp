#include "compiler/passes/GraphRewriter.h"

#include <bit>
#include <cstdio>

#include "compiler/ir/ShapeRules.h"

namespace nnc {

GraphRewriter::GraphRewriter(const Graph& source, std::string passName)
    : src_(source), passName_(std::move(passName)) {}

void GraphRewriter::fail(std::string message) {
  if (!error_) error_ = makeError("internal error in " + passName_ + ": " + std::move(message));
}

NodeId GraphRewriter::mapped(NodeId oldId) const {
  if (oldId < 0 || static_cast<size_t>(oldId) >= map_.size()) return kNoNode;
  return map_[static_cast<size_t>(oldId)];
}

std::vector<NodeId> GraphRewriter::mappedInputs(NodeId oldId) const {
  std::vector<NodeId> ins;
  for (NodeId in : src_.node(oldId).inputs) ins.push_back(mapped(in));
  return ins;
}

NodeId GraphRewriter::copy(NodeId oldId) { return copyWithInputs(oldId, mappedInputs(oldId)); }

NodeId GraphRewriter::copyWithInputs(NodeId oldId, std::vector<NodeId> newInputs) {
  const Node& n = src_.node(oldId);
  for (NodeId in : newInputs) {
    if (in < 0 || static_cast<size_t>(in) >= out_.size()) {
      fail("node %" + std::to_string(oldId) + " (" + opName(n.op) + ") uses a value that was dropped");
      return kNoNode;
    }
  }
  if (isLeaf(n.op)) return out_.addLeaf(n.op, n.name, n.type, n.attrs, n.loc);
  return out_.addWithType(n.op, std::move(newInputs), n.attrs, n.type, n.loc, n.name);
}

NodeId GraphRewriter::emit(OpKind op, std::vector<NodeId> inputs, Attrs attrs,
                           const std::optional<TensorType>& expected) {
  std::vector<TensorType> types;
  for (NodeId in : inputs) {
    if (in < 0 || static_cast<size_t>(in) >= out_.size()) return kNoNode;
    types.push_back(out_.type(in));
  }
  Result<TensorType> t = inferType(op, types, attrs);
  if (!t || (expected && *t != *expected)) return kNoNode;
  return out_.addWithType(op, std::move(inputs), std::move(attrs), std::move(*t));
}

NodeId GraphRewriter::emitConstant(TensorType type, Attrs attrs) {
  return out_.addLeaf(OpKind::Constant, "", std::move(type), std::move(attrs));
}

Result<Graph> GraphRewriter::run(const Visit& visit) {
  out_ = Graph{};
  out_.name = src_.name;
  map_.assign(src_.size(), kNoNode);
  error_.reset();

  for (size_t i = 0; i < src_.size() && !error_; ++i) {
    const NodeId oldId = static_cast<NodeId>(i);
    const Node& old = src_.node(oldId);
    const size_t firstNew = out_.size();
    const NodeId v = visit(*this, oldId);
    if (v == kNoNode) continue;  // dropped; a later use is caught by copy or the roots
    if (v < 0 || static_cast<size_t>(v) >= out_.size()) {
      fail("node %" + std::to_string(i) + " was mapped to no node");
      break;
    }
    if (out_.type(v) != old.type) {
      fail("node %" + std::to_string(i) + " (" + opName(old.op) + ", " + old.type.str() +
           ") was replaced by a value of type " + out_.type(v).str());
      break;
    }
    map_[i] = v;
    // Nodes emitted for this one implement the same source construct: give them its position.
    for (size_t k = firstNew; k < out_.size(); ++k)
      if (!out_.node(static_cast<NodeId>(k)).loc.valid()) out_.node(static_cast<NodeId>(k)).loc = old.loc;
    // The surviving value takes over a readable label, never a leaf's identity.
    Node& nv = out_.node(v);
    bool fresh = static_cast<size_t>(v) >= firstNew;
    if (nv.name.empty() && !old.name.empty() && !isLeaf(old.op) && (fresh || !isLeaf(nv.op))) nv.name = old.name;
  }
  if (error_) return *error_;

  auto root = [&](NodeId oldId, const std::string& what) -> NodeId {
    NodeId v = mapped(oldId);
    if (v == kNoNode) fail(what + " refers to node %" + std::to_string(oldId) + ", which was dropped");
    return v;
  };
  for (const Output& o : src_.outputs) out_.outputs.push_back(Output{o.name, root(o.node, "output '" + o.name + "'")});
  for (const Update& u : src_.updates)
    out_.updates.push_back(Update{root(u.target, "an update target"), root(u.value, "an update value")});
  if (src_.loss != kNoNode) out_.loss = root(src_.loss, "the loss");
  if (error_) return *error_;
  return std::move(out_);
}

// ---- Structural keys ---------------------------------------------------------------------

namespace {
void appendDouble(std::string& s, double d) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(std::bit_cast<uint64_t>(d)));
  s += buf;
}

void appendAttr(std::string& s, const AttrValue& v) {
  struct {
    std::string& s;
    void operator()(int64_t i) const { s += 'i'; s += std::to_string(i); }
    void operator()(double d) const { s += 'f'; appendDouble(s, d); }
    void operator()(const std::string& str) const {
      s += 's';
      s += std::to_string(str.size());
      s += ':';
      s += str;
    }
    void operator()(const std::vector<int64_t>& xs) const {
      s += 'I';
      s += std::to_string(xs.size());
      for (int64_t x : xs) {
        s += ',';
        s += std::to_string(x);
      }
    }
    void operator()(const std::vector<double>& xs) const {
      s += 'F';
      s += std::to_string(xs.size());
      for (double x : xs) {
        s += ',';
        appendDouble(s, x);
      }
    }
  } visit{s};
  std::visit(visit, v);
}
}  // namespace

std::string nodeKey(OpKind op, const std::vector<NodeId>& inputs, const Attrs& attrs, const TensorType& type) {
  std::string s = opName(op);
  s += '(';
  for (NodeId in : inputs) {
    s += std::to_string(in);
    s += ',';
  }
  s += ')';
  s += type.str();
  for (const auto& [name, value] : attrs.entries()) {
    s += ';';
    s += name;
    s += '=';
    appendAttr(s, value);
  }
  return s;
}

std::string nodeKey(const Node& n) { return nodeKey(n.op, n.inputs, n.attrs, n.type); }

bool sameStructure(const Graph& a, const Graph& b) {
  if (a.size() != b.size() || a.loss != b.loss || a.outputs.size() != b.outputs.size() ||
      a.updates.size() != b.updates.size())
    return false;
  for (size_t i = 0; i < a.outputs.size(); ++i)
    if (a.outputs[i].name != b.outputs[i].name || a.outputs[i].node != b.outputs[i].node) return false;
  for (size_t i = 0; i < a.updates.size(); ++i)
    if (a.updates[i].target != b.updates[i].target || a.updates[i].value != b.updates[i].value) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const Node &x = a.nodes()[i], &y = b.nodes()[i];
    // Leaves are told apart by their names (two params of one type are different values).
    if (isLeaf(x.op) && x.op != OpKind::Constant && x.name != y.name) return false;
    if (nodeKey(x) != nodeKey(y)) return false;
  }
  return true;
}

}  // namespace nnc
