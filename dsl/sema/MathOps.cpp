// Elementwise math: the registry's Math rows (exp, log, sqrt, abs, square, ...); maximum and
// minimum (NumPy broadcasting);
// clip(x, lo, hi) as minimum(maximum(x, lo), hi).
#include "dsl/sema/Builders.h"
#include "dsl/sema/ConstEval.h"
#include "dsl/sema/Registry.h"

namespace nnc::sema {

namespace {

// The one-operand math functions are the registry's rows with DslForm::Math (Ops.def),
// taking i32 too where the row has an i32 form.
std::optional<NodeId> buildUnary(Sema& s, const BoundCall& b) {
  for (int i = 0; i < numOpKinds(); ++i) {
    const OpInfo& info = opInfo(static_cast<OpKind>(i));
    if (info.dsl == DslForm::Math && b.callee->name == info.name) return s.emit(info.kind, {b.tensor("x")}, {}, b.loc);
  }
  return s.error(b.loc, "internal: no unary op '" + b.callee->name + "'"), std::nullopt;
}

std::optional<NodeId> buildMinMax(Sema& s, const BoundCall& b) {
  OpKind op = b.callee->name == "maximum" ? OpKind::Maximum : OpKind::Minimum;
  return s.elementwise(op, b.tensor("a"), b.tensor("b"), "operands of '" + b.callee->name + "'", b.loc);
}

bool validateClip(Sema& s, const BoundCall& b) {
  if (b.number("lo") <= b.number("hi")) return true;
  s.error(b.loc, "clip: lo (" + formatNumber(b.number("lo")) + ") must not be greater than hi (" +
                     formatNumber(b.number("hi")) + ")");
  return false;
}

std::optional<NodeId> buildClip(Sema& s, const BoundCall& b) {
  NodeId x = b.tensor("x");
  std::optional<NodeId> lo = s.emit(OpKind::Maximum, {x, s.constant(b.number("lo"))}, {}, b.loc);
  if (!lo) return std::nullopt;
  return s.emit(OpKind::Minimum, {*lo, s.constant(b.number("hi"))}, {}, b.loc);
}

}  // namespace

void addMathOps(Registry& r) {
  for (int i = 0; i < numOpKinds(); ++i) {
    const OpInfo& info = opInfo(static_cast<OpKind>(i));
    if (info.dsl != DslForm::Math) continue;
    Callable c;
    c.name = info.name;
    c.params = {spec::tensor("x", spec::req(info.unaryI32 ? DTypeReq::Any : DTypeReq::F32))};
    c.build = buildUnary;
    c.summaryKind = info.name;
    r.add(std::move(c));
  }
  for (const char* name : {"maximum", "minimum"}) {
    Callable c;
    c.name = name;
    c.params = {spec::tensor("a", spec::req(DTypeReq::Any)), spec::tensor("b", spec::req(DTypeReq::Any))};
    c.build = buildMinMax;
    c.summaryKind = name;
    r.add(std::move(c));
  }
  Callable clip;
  clip.name = "clip";
  clip.params = {spec::tensor("x"), spec::number("lo", spec::required()), spec::number("hi", spec::required())};
  clip.build = buildClip;
  clip.validate = validateClip;
  clip.summaryKind = "clip";
  r.add(std::move(clip));
}

}  // namespace nnc::sema
