// Expressions: names, number folding, unary minus, the binary operators (with NumPy
// broadcasting and NumPy's rank-1 rules for '@'), and calls, which are bound against the
// registry and handed to their builders.
#include <cctype>

#include "compiler/ir/TypedAttrs.h"
#include "dsl/sema/ArgBinder.h"
#include "dsl/sema/Registry.h"
#include "dsl/sema/Sema.h"

namespace nnc::sema {

namespace {

std::string dimStr(int64_t d) { return d == kBatch ? std::string("batch") : std::to_string(d); }

bool isIdentifier(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char ch : s)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_')) return false;
  return true;
}

// `fc.weight`: a parameter (or state, `bn.running_mean`) a layer created, read by its name,
// e.g. for a custom regulariser `loss = ... + 1e-4 * sum(square(fc.weight))`. Only tensors
// created earlier in the file exist: like names, parameters are used after their definition.
std::optional<NodeId> lowerParameterReference(Sema& s, const ast::Expr& e) {
  const Graph& g = s.graph();
  for (OpKind kind : {OpKind::Param, OpKind::State})
    if (NodeId id = g.findLeaf(kind, e.text); id != kNoNode) return id;
  const std::string layer = e.text.substr(0, e.text.find('.'));
  std::vector<std::string> known, ofLayer;
  for (OpKind kind : {OpKind::Param, OpKind::State})
    for (NodeId id : g.leaves(kind)) {
      known.push_back(g.node(id).name);
      if (g.node(id).name.rfind(layer + ".", 0) == 0) ofLayer.push_back(g.node(id).name);
    }
  std::string hint = suggest(e.text, known);
  if (hint.empty() && !ofLayer.empty()) {
    hint = " ('" + layer + "' has";
    for (size_t i = 0; i < ofLayer.size(); ++i) hint += (i ? ", " : " ") + ofLayer[i];
    hint += ")";
  }
  if (ofLayer.empty() && s.declaredAhead(layer))
    hint = " ('" + layer + "' is defined further down: parameters are read after the layer that creates them)";
  s.error(e.loc, "unknown parameter '" + e.text + "'" + hint +
                     "; NAME.PARAM reads a parameter a layer created, such as dense's NAME.weight and NAME.bias");
  return std::nullopt;
}

std::optional<NodeId> lowerName(Sema& s, const ast::Expr& e) {
  if (e.text.find('.') != std::string::npos) return lowerParameterReference(s, e);
  if (const Sema::Binding* b = s.lookup(e.text)) {
    if (b->poisoned) return std::nullopt;  // its own error was reported where it was defined
    return b->node;
  }
  if (std::optional<SourceLoc> later = s.declaredAhead(e.text)) {
    s.error(e.loc, "'" + e.text + "' is used before its definition at " + locStr(*later));
  } else if (Registry::instance().find(Family::Expression, e.text)) {
    s.error(e.loc, "'" + e.text + "' is an operation, not a value; call it as " + e.text + "(...)");
  } else {
    s.error(e.loc, "unknown name '" + e.text + "'" + suggest(e.text, s.namesInScope()));
  }
  return std::nullopt;
}

// a @ b: MatMul on the last axis of `a` and the second-last of `b`; a rank-1 operand is a
// row (left) or a column (right) vector whose axis is removed from the result, as in NumPy.
std::optional<NodeId> matmul(Sema& s, NodeId a, NodeId b, SourceLoc loc) {
  const TensorType ta = s.type(a), tb = s.type(b);
  if (ta.dtype != DType::F32 || tb.dtype != DType::F32) {
    s.error(loc, "operands of '@' must be f32, got " + ta.str() + " and " + tb.str());
    return std::nullopt;
  }
  size_t ra = ta.shape.rank(), rb = tb.shape.rank();
  if (ra == 0 || rb == 0) {
    s.error(loc, "operands of '@' must have rank >= 1, got " + ta.str() + " and " + tb.str());
    return std::nullopt;
  }
  int64_t ka = ta.shape[ra - 1], kb = rb == 1 ? tb.shape[0] : tb.shape[rb - 2];
  if (ka == kBatch || kb == kBatch) {
    s.error(loc, "operands of '@' cannot be multiplied over the batch dimension: " + ta.str() + " @ " + tb.str());
    return std::nullopt;
  }
  if (ka != kb) {
    s.error(loc, "matmul: inner dimensions differ: " + ta.str() + " @ " + tb.str() + " (" + dimStr(ka) + " vs " +
                     dimStr(kb) + ")");
    return std::nullopt;
  }
  NodeId a2 = a, b2 = b;
  if (ra == 1) {
    std::optional<NodeId> r = s.reshape(a, {1, ka}, loc);
    if (!r) return std::nullopt;
    a2 = *r;
  }
  if (rb == 1) {
    std::optional<NodeId> r = s.reshape(b, {kb, 1}, loc);
    if (!r) return std::nullopt;
    b2 = *r;
  }
  std::optional<NodeId> m =
      s.emit(OpKind::MatMul, {a2, b2}, MatMulTransposeAttr{}.attrs(), loc);
  if (!m || (ra > 1 && rb > 1)) return m;
  std::vector<int64_t> dims = s.type(*m).shape.dims;
  if (rb == 1) dims.pop_back();
  if (ra == 1) dims.erase(dims.end() - 1 - (rb == 1 ? 0 : 1));
  return s.reshape(*m, dims, loc);
}

std::optional<NodeId> lowerBinary(Sema& s, const ast::Expr& e) {
  if (e.items.size() != 2 || !e.items[0] || !e.items[1]) {
    s.error(e.loc, "internal: malformed binary expression");
    return std::nullopt;
  }
  const ast::Expr &lhs = *e.items[0], &rhs = *e.items[1];
  const std::string subject = std::string("operands of '") + e.op + "'";
  OpKind op;
  switch (e.op) {
    case '+': op = OpKind::Add; break;
    case '-': op = OpKind::Sub; break;
    case '*': op = OpKind::Mul; break;
    case '/': op = OpKind::Div; break;
    case '@': op = OpKind::MatMul; break;
    default:
      s.error(e.loc, std::string("internal: unknown operator '") + e.op + "'");
      return std::nullopt;
  }
  // A number beside a tensor takes the tensor's dtype (`label + 1` stays i32). Both being
  // numbers was folded before we got here.
  const bool lhsNumber = op != OpKind::MatMul && isNumericConstant(lhs);
  const bool rhsNumber = op != OpKind::MatMul && isNumericConstant(rhs);
  auto number = [&](const ast::Expr& e, NodeId other) -> std::optional<NodeId> {
    Result<ConstValue> v = evalConst(e);
    if (!v) return s.error(v.error().loc, v.error().message), std::nullopt;
    return s.literal(*v, s.type(other).dtype, subject);
  };
  std::optional<NodeId> a, b;
  if (!lhsNumber && !(a = s.lowerExpr(lhs))) return std::nullopt;
  if (!rhsNumber && !(b = s.lowerExpr(rhs))) return std::nullopt;
  if (lhsNumber && !(a = number(lhs, *b))) return std::nullopt;
  if (rhsNumber && !(b = number(rhs, *a))) return std::nullopt;
  if (op == OpKind::MatMul) return matmul(s, *a, *b, e.loc);
  return s.elementwise(op, *a, *b, subject, e.loc);
}

std::optional<NodeId> lowerCall(Sema& s, const ast::Expr& e, bool root) {
  const Registry& reg = Registry::instance();
  SourceLoc nameLoc = e.calleeLoc.valid() ? e.calleeLoc : e.loc;
  const Callable* c = reg.find(Family::Expression, e.text);
  if (!c) {
    if (s.lookup(e.text))
      s.error(nameLoc, "'" + e.text + "' is a value, not an operation");
    else if (const Callable* other = reg.findElsewhere(Family::Expression, e.text))
      s.error(nameLoc, "'" + e.text + "' is " + (familyNoun(other->family)[0] == 'o' || familyNoun(other->family)[0] == 'i'
                                                     ? "an "
                                                     : "a ") +
                           familyNoun(other->family) + ", not an operation");
    else
      s.error(nameLoc, "unknown operation '" + e.text + "'" + suggest(e.text, reg.names(Family::Expression)));
    return std::nullopt;
  }
  std::vector<ArgSyntax> args = callArgs(e);
  bool named = false;
  for (const ArgSyntax& a : args) named = named || a.key == "name";
  bool layerOk = true;
  if (c->createsParams && !named && !root) {
    s.error(e.loc, "layer call '" + c->name + "' inside an expression needs name = \"...\" to name its parameters");
    layerOk = false;
  }
  std::optional<BoundCall> bound = bindCall(s, *c, e.loc, args);
  if (!bound || !layerOk) return std::nullopt;
  if (c->createsParams) {
    const BoundArg& name = bound->arg("name");
    if (name.present && !isIdentifier(name.word)) {
      s.error(name.loc, "name = \"" + name.word + "\" must be an identifier (letters, digits and _)");
      return std::nullopt;
    }
    bound->layerName = name.present ? name.word : s.assignName();
  }
  const std::string summaryKind = c->summaryKindOf ? c->summaryKindOf(s, *bound) : c->summaryKind;
  if (root) s.setRootCallee(c, summaryKind);
  if (!c->build) {
    s.error(e.loc, "internal: '" + c->name + "' has no builder");
    return std::nullopt;
  }
  if (!c->createsParams || root) return c->build(s, *bound);
  int64_t trainable = s.trainableCreated(), nonTrainable = s.nonTrainableCreated();
  const size_t inner = s.nestedLayers().size();
  std::optional<NodeId> out = c->build(s, *bound);
  if (!out) return out;
  // Layers nested in this one's arguments have rows of their own.
  for (size_t i = inner; i < s.nestedLayers().size(); ++i)
    trainable += s.nestedLayers()[i].trainable, nonTrainable += s.nestedLayers()[i].nonTrainable;
  s.recordNestedLayer({bound->layerName, summaryKind, *out, s.trainableCreated() - trainable,
                       s.nonTrainableCreated() - nonTrainable});
  return out;
}

}  // namespace

std::optional<NodeId> Sema::lowerExpr(const ast::Expr& e, bool root) {
  if (isNumericConstant(e)) {
    Result<ConstValue> v = evalConst(e);
    if (!v) return error(v.error().loc, v.error().message), std::nullopt;
    return constant(v->number, DType::F32);
  }
  switch (e.kind) {
    case ast::ExprKind::Name:
      return lowerName(*this, e);
    case ast::ExprKind::String:
      error(e.loc, "expected a tensor, got the string \"" + e.text + "\"");
      return std::nullopt;
    case ast::ExprKind::List:
      error(e.loc, "expected a tensor, got a list (lists are arguments of calls such as concat([a, b]))");
      return std::nullopt;
    case ast::ExprKind::Call:
      return lowerCall(*this, e, root);
    case ast::ExprKind::Unary: {
      if (e.items.empty() || !e.items[0]) return error(e.loc, "internal: malformed unary expression"), std::nullopt;
      std::optional<NodeId> x = lowerExpr(*e.items[0]);
      if (!x) return std::nullopt;
      return emit(OpKind::Neg, {*x}, {}, e.loc);
    }
    case ast::ExprKind::Binary:
      return lowerBinary(*this, e);
    case ast::ExprKind::Number:
      break;  // folded above
  }
  error(e.loc, "internal: unknown expression");
  return std::nullopt;
}

}  // namespace nnc::sema
