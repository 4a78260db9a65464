#include "compiler/passes/GraphRewriter.h"

#include <bit>
#include <functional>
#include <variant>

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

// ---- Comparing computations ---------------------------------------------------------------

namespace {
uint64_t bits(double d) { return std::bit_cast<uint64_t>(d); }

bool sameBits(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (bits(a[i]) != bits(b[i])) return false;
  return true;
}

bool sameAttrValue(const AttrValue& a, const AttrValue& b) {
  if (a.index() != b.index()) return false;
  if (const double* x = std::get_if<double>(&a)) return bits(*x) == bits(std::get<double>(b));
  if (const auto* xs = std::get_if<std::vector<double>>(&a)) return sameBits(*xs, std::get<std::vector<double>>(b));
  return a == b;
}

bool sameAttrs(const Attrs& a, const Attrs& b) {
  const auto &ea = a.entries(), &eb = b.entries();
  if (ea.size() != eb.size()) return false;
  for (size_t i = 0; i < ea.size(); ++i)
    if (ea[i].first != eb[i].first || !sameAttrValue(ea[i].second, eb[i].second)) return false;
  return true;
}

void mix(size_t& h, uint64_t v) { h ^= std::hash<uint64_t>{}(v) + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2); }

size_t hashAttrValue(const AttrValue& v) {
  size_t h = v.index();
  struct {
    size_t& h;
    void operator()(int64_t i) const { mix(h, static_cast<uint64_t>(i)); }
    void operator()(double d) const { mix(h, bits(d)); }
    void operator()(const std::string& s) const { mix(h, std::hash<std::string>{}(s)); }
    void operator()(const std::vector<int64_t>& xs) const {
      for (int64_t x : xs) mix(h, static_cast<uint64_t>(x));
    }
    void operator()(const std::vector<double>& xs) const {
      for (double x : xs) mix(h, bits(x));
    }
  } visit{h};
  std::visit(visit, v);
  return h;
}
}  // namespace

bool sameComputation(const Computation& a, const Computation& b) {
  return a.op == b.op && a.inputs == b.inputs && a.type == b.type && sameAttrs(a.attrs, b.attrs);
}

size_t hashComputation(const Computation& c) {
  size_t h = static_cast<size_t>(c.op);
  for (NodeId in : c.inputs) mix(h, static_cast<uint64_t>(in));
  mix(h, static_cast<uint64_t>(c.type.dtype));
  for (int64_t d : c.type.shape.dims) mix(h, static_cast<uint64_t>(d));
  for (const auto& [name, value] : c.attrs.entries()) {
    mix(h, std::hash<std::string>{}(name));
    mix(h, hashAttrValue(value));
  }
  return h;
}

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
    if (!sameComputation(computationOf(x), computationOf(y))) return false;
  }
  return true;
}

}  // namespace nnc
