// Elementwise math: the registry's Math rows (exp, log, sqrt, abs, square, ...); maximum and
// minimum (NumPy broadcasting);
// clip(x, lo, hi) as minimum(maximum(x, lo), hi).
#include "dsl/sema/Builders.h"
#include "dsl/sema/ConstEval.h"
#include "dsl/sema/Registry.h"
#include "compiler/ir/ShapeRules.h"

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

// pow(a, b) and where(cond, a, b) (issue 13), NumPy broadcasting. where picks a where cond
// is nonzero (an f32 value or mask, or an i32), else b.
std::optional<NodeId> buildPowCall(Sema& s, const BoundCall& b) {
  return s.elementwise(OpKind::Pow, b.tensor("a"), b.tensor("b"), "operands of 'pow'", b.loc);
}

std::optional<NodeId> buildWhereCall(Sema& s, const BoundCall& b) {
  NodeId cond = b.tensor("cond"), x = b.tensor("a"), y = b.tensor("b");
  const TensorType tc = s.type(cond), tx = s.type(x), ty = s.type(y);
  if (tx.dtype != ty.dtype) {
    s.error(b.loc, "where: a " + tx.str() + " and b " + ty.str() + " have different dtypes");
    return std::nullopt;
  }
  Result<Shape> ab = broadcastShapes(tx.shape, ty.shape);
  Result<Shape> all = ab ? broadcastShapes(tc.shape, *ab) : ab;
  if (!all) {
    s.error(b.loc, "where: cond " + tc.str() + ", a " + tx.str() + " and b " + ty.str() + " cannot be broadcast together");
    return std::nullopt;
  }
  return s.emit(OpKind::Select, {cond, x, y}, {}, b.loc);
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
  Callable pow;
  pow.name = "pow";
  pow.params = {spec::tensor("a"), spec::tensor("b")};
  pow.build = buildPowCall;
  pow.summaryKind = "pow";
  r.add(std::move(pow));
  Callable where;
  where.name = "where";
  where.params = {spec::tensor("cond", spec::req(DTypeReq::Any)), spec::tensor("a", spec::req(DTypeReq::Any)),
                  spec::tensor("b", spec::req(DTypeReq::Any))};
  where.build = buildWhereCall;
  where.summaryKind = "where";
  r.add(std::move(where));
  Callable clip;
  clip.name = "clip";
  clip.params = {spec::tensor("x"), spec::number("lo", spec::required()), spec::number("hi", spec::required())};
  clip.build = buildClip;
  clip.validate = validateClip;
  clip.summaryKind = "clip";
  r.add(std::move(clip));
}

}  // namespace nnc::sema
