// Elementwise math: exp, log, sqrt, abs, square; maximum and minimum (NumPy broadcasting);
// clip(x, lo, hi) as minimum(maximum(x, lo), hi).
#include "dsl/sema/Builders.h"
#include "dsl/sema/ConstEval.h"
#include "dsl/sema/Registry.h"

namespace nnc::sema {

namespace {

struct UnaryDef {
  const char* name;
  OpKind op;
  DTypeReq dtype;
};

constexpr UnaryDef kUnary[] = {
    {"exp", OpKind::Exp, DTypeReq::F32},    {"log", OpKind::Log, DTypeReq::F32},
    {"sqrt", OpKind::Sqrt, DTypeReq::F32},  {"abs", OpKind::Abs, DTypeReq::Any},
    {"square", OpKind::Square, DTypeReq::Any},
};

std::optional<NodeId> buildUnary(Sema& s, const BoundCall& b) {
  for (const UnaryDef& d : kUnary)
    if (b.callee->name == d.name) return s.emit(d.op, {b.tensor("x")}, {}, b.loc);
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
  for (const UnaryDef& d : kUnary) {
    Callable c;
    c.name = d.name;
    c.params = {spec::tensor("x", spec::req(d.dtype))};
    c.build = buildUnary;
    c.summaryKind = d.name;
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
