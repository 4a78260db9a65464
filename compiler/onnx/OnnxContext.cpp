// The import context's helpers: inputs, attributes, outputs and located errors.
#include "compiler/onnx/OnnxContext.h"

#include "compiler/passes/ConstantValues.h"
#include "compiler/ir/TypedAttrs.h"

namespace nnc::onnximport {

std::string ImportContext::where() const {
  if (!node) return "the graph";
  std::string name = node->name().empty() ? (node->output_size() > 0 ? node->output(0) : std::string("?")) : node->name();
  return "node '" + name + "' (" + node->op_type() + ")";
}

const Value& ImportContext::value(size_t i) const { return values.at(node->input(static_cast<int>(i))); }

const ConstTensor* ImportContext::constant(size_t i) const {
  if (!hasInput(i)) return nullptr;
  const Value& v = value(i);
  return v.constant ? &*v.constant : nullptr;
}

Result<std::vector<int64_t>> ImportContext::ints(size_t i, const std::string& what) const {
  const ConstTensor* c = constant(i);
  if (!c)
    return error("its " + what + " (input " + std::to_string(i) + " '" + (hasInput(i) ? node->input(int(i)) : "") +
                 "') must be known when the model is compiled; bind it with --const NAME=FILE.npy");
  std::vector<int64_t> out;
  for (double v : c->values) out.push_back(v == kBatchMarker ? kBatchInt : static_cast<int64_t>(v));
  return out;
}

Result<NodeId> ImportContext::materialize(const ConstTensor& t) {
  bool integer = isIntegerType(t.elemType);
  for (double v : t.values) {
    if (v == kBatchMarker)
      return error("a value computed from the run-time batch size is used as data; nnc folds it only into shapes");
    if (integer && (v < INT32_MIN || v > INT32_MAX))
      return error("the integer " + std::to_string(static_cast<int64_t>(v)) + " does not fit in nnc's 32-bit integers");
  }
  if (!integer && !isFloatType(t.elemType) && t.elemType != 9)
    return error(std::string("element type ") + elemTypeName(t.elemType) + " is not supported");
  TensorType type{integer ? DType::I32 : DType::F32, Shape(t.dims)};
  std::vector<double> vals = t.values;
  if (!integer)
    for (double& v : vals) v = static_cast<double>(static_cast<float>(v));
  return g.addLeaf(OpKind::Constant, "", type, vals.empty() ? ConstantAttr{0.0, std::nullopt}.attrs() : constantAttrs(vals));
}

Result<NodeId> ImportContext::in(size_t i) {
  if (!hasInput(i)) return error("input " + std::to_string(i) + " is missing");
  auto it = values.find(node->input(static_cast<int>(i)));
  if (it == values.end()) return error("input '" + node->input(int(i)) + "' is not defined before the node");
  Value& v = it->second;
  if (v.node == kNoNode) {
    auto id = materialize(*v.constant);
    if (!id) return id.error();
    v.node = *id;  // materialised once, shared by every user
  }
  return v.node;
}

Result<NodeId> ImportContext::op(OpKind k, std::vector<NodeId> inputs, Attrs attrs) {
  Result<NodeId> r = g.add(k, std::move(inputs), std::move(attrs), {}, node ? node->name() : std::string());
  if (!r) return error(r.error().message);
  return r;
}

Result<NodeId> ImportContext::reshape(NodeId x, std::vector<int64_t> dims) {
  if (shape(x).dims == dims) return x;
  return op(OpKind::Reshape, {x}, ShapeAttr{dims}.attrs());
}

Result<NodeId> ImportContext::transpose(NodeId x, std::vector<int64_t> perm) {
  bool identity = true;
  for (size_t i = 0; i < perm.size(); ++i) identity = identity && perm[i] == static_cast<int64_t>(i);
  if (identity) return x;
  return op(OpKind::Transpose, {x}, PermAttr{perm}.attrs());
}

void ImportContext::setOutput(size_t i, NodeId id, int32_t elemType) {
  if (!wantsOutput(i)) return;
  Value v;
  v.node = id;
  v.elemType = elemType;
  values[node->output(static_cast<int>(i))] = v;
}

void ImportContext::setOutput(size_t i, ConstTensor t) {
  if (!wantsOutput(i)) return;
  Value v;
  v.elemType = t.elemType;
  v.constant = std::move(t);
  values[node->output(static_cast<int>(i))] = std::move(v);
}

const onnx::AttributeProto* ImportContext::attr(const std::string& name) const {
  for (const auto& a : node->attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

int64_t ImportContext::attrInt(const std::string& name, int64_t fallback) const {
  const auto* a = attr(name);
  return a && a->has_i() ? a->i() : fallback;
}

double ImportContext::attrFloat(const std::string& name, double fallback) const {
  const auto* a = attr(name);
  return a && a->has_f() ? a->f() : fallback;
}

std::string ImportContext::attrString(const std::string& name, const std::string& fallback) const {
  const auto* a = attr(name);
  return a && a->has_s() ? a->s() : fallback;
}

std::optional<std::vector<int64_t>> ImportContext::attrInts(const std::string& name) const {
  const auto* a = attr(name);
  if (!a) return std::nullopt;
  return std::vector<int64_t>(a->ints().begin(), a->ints().end());
}

}  // namespace nnc::onnximport
