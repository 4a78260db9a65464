// Reductions: sum, mean, max over `axis` (an integer or a list; every axis when omitted),
// optionally keeping the reduced axes; argmax (i32 indices) along one axis.
#include "compiler/ir/TypedAttrs.h"
#include "dsl/sema/Builders.h"
#include "dsl/sema/Registry.h"

namespace nnc::sema {

namespace {

struct ReductionDef {
  const char* name;
  OpKind op;
  DTypeReq dtype;
};

constexpr ReductionDef kReductions[] = {
    {"sum", OpKind::ReduceSum, DTypeReq::Any},
    {"mean", OpKind::ReduceMean, DTypeReq::F32},
    {"max", OpKind::ReduceMax, DTypeReq::Any},
};

std::optional<NodeId> buildReduction(Sema& s, const BoundCall& b) {
  const ReductionDef* def = nullptr;
  for (const ReductionDef& d : kReductions)
    if (b.callee->name == d.name) def = &d;
  if (!def) return s.error(b.loc, "internal: no reduction '" + b.callee->name + "'"), std::nullopt;
  NodeId x = b.tensor("x");
  std::optional<std::vector<int64_t>> axes = axesArg(s, b, "axis", x);
  if (!axes) return std::nullopt;
  return s.emit(def->op, {x}, AxesAttr{*axes, b.flag("keepdims")}.attrs(), b.loc);
}

std::optional<NodeId> buildArgmax(Sema& s, const BoundCall& b) {
  NodeId x = b.tensor("x");
  std::optional<int64_t> axis = axisArg(s, b, "axis", x);
  if (!axis) return std::nullopt;
  return s.emit(OpKind::ArgMax, {x}, AxisAttr{*axis}.attrs(), b.loc);
}

}  // namespace

std::optional<int64_t> axisArg(Sema& s, const BoundCall& b, const char* param, NodeId x) {
  const TensorType t = s.type(x);
  int64_t axis = b.integer(param);
  int64_t n = normalizeAxis(axis, t.shape.rank());
  if (n < 0) {
    s.error(b.arg(param).loc, b.callee->name + ": axis " + std::to_string(axis) + " is out of range for " + t.str());
    return std::nullopt;
  }
  return n;
}

std::optional<std::vector<int64_t>> axesArg(Sema& s, const BoundCall& b, const char* param, NodeId x) {
  const TensorType t = s.type(x);
  std::vector<int64_t> out;
  if (!b.has(param)) {
    for (size_t i = 0; i < t.shape.rank(); ++i) out.push_back(static_cast<int64_t>(i));
    return out;
  }
  std::vector<bool> seen(t.shape.rank(), false);
  for (int64_t axis : b.arg(param).ints) {
    int64_t n = normalizeAxis(axis, t.shape.rank());
    if (n < 0) {
      s.error(b.arg(param).loc, b.callee->name + ": axis " + std::to_string(axis) + " is out of range for " + t.str());
      return std::nullopt;
    }
    if (seen[static_cast<size_t>(n)]) {
      s.error(b.arg(param).loc, b.callee->name + ": axis " + std::to_string(axis) + " is listed twice");
      return std::nullopt;
    }
    seen[static_cast<size_t>(n)] = true;
  }
  for (size_t i = 0; i < seen.size(); ++i)
    if (seen[i]) out.push_back(static_cast<int64_t>(i));
  return out;
}

void addReductions(Registry& r) {
  for (const ReductionDef& d : kReductions) {
    Callable c;
    c.name = d.name;
    c.params = {spec::tensor("x", spec::req(d.dtype)), spec::axes("axis"), spec::boolean("keepdims", false)};
    c.build = buildReduction;
    c.summaryKind = d.name;
    r.add(std::move(c));
  }
  Callable argmax;
  argmax.name = "argmax";
  argmax.params = {spec::tensor("x", spec::req(DTypeReq::Any)), spec::integer("axis", spec::num(-1))};
  argmax.build = buildArgmax;
  argmax.summaryKind = "argmax";
  r.add(std::move(argmax));
}

}  // namespace nnc::sema
