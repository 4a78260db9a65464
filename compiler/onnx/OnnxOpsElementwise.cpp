// Elementwise ONNX ops: the ones nnc has as IR ops, and composites of them (HardSigmoid,
// Celu, Shrink, PRelu, ...). Bool values are f32 0/1 in nnc; comparisons give them.
#include <cmath>
#include <limits>

#include "compiler/ir/TypedAttrs.h"
#include "compiler/onnx/OnnxContext.h"

namespace nnc::onnximport {
namespace {

// Maps an op whose every input goes to one IR op (with NumPy broadcasting).
OpMapper direct(OpKind k, int32_t resultType = 0, std::function<Attrs(ImportContext&)> attrs = {}) {
  return [=](ImportContext& ctx) -> Result<void> {
    std::vector<NodeId> in;
    for (size_t i = 0; i < ctx.numInputs(); ++i) {
      auto id = ctx.in(i);
      if (!id) return id.error();
      in.push_back(*id);
    }
    auto r = ctx.op(k, in, attrs ? attrs(ctx) : Attrs{});
    if (!r) return r.error();
    ctx.setOutput(0, *r, resultType ? resultType : ctx.elemType(0));
    return {};
  };
}

// A composite of the first input: `build(ctx, x)` returns the result node.
OpMapper composite(std::function<Result<NodeId>(ImportContext&, NodeId)> build) {
  return [=](ImportContext& ctx) -> Result<void> {
    auto x = ctx.in(0);
    if (!x) return x.error();
    auto r = build(ctx, *x);
    if (!r) return r.error();
    ctx.setOutput(0, *r, ctx.elemType(0));
    return {};
  };
}

// Short names for composing.
struct B {
  ImportContext& c;
  Result<NodeId> add(NodeId a, NodeId b) { return c.op(OpKind::Add, {a, b}); }
  Result<NodeId> sub(NodeId a, NodeId b) { return c.op(OpKind::Sub, {a, b}); }
  Result<NodeId> mul(NodeId a, NodeId b) { return c.op(OpKind::Mul, {a, b}); }
  Result<NodeId> div(NodeId a, NodeId b) { return c.op(OpKind::Div, {a, b}); }
  Result<NodeId> max(NodeId a, NodeId b) { return c.op(OpKind::Maximum, {a, b}); }
  Result<NodeId> min(NodeId a, NodeId b) { return c.op(OpKind::Minimum, {a, b}); }
  Result<NodeId> gt(NodeId a, NodeId b) { return c.op(OpKind::Greater, {a, b}); }
  Result<NodeId> sel(NodeId p, NodeId a, NodeId b) { return c.op(OpKind::Select, {p, a, b}); }
  Result<NodeId> un(OpKind k, NodeId a, Attrs at = {}) { return c.op(k, {a}, std::move(at)); }
  NodeId k(double v) { return c.scalar(v); }
};
// Variadic Max/Min/Sum/Mean: folds the inputs pairwise.
OpMapper variadic(OpKind k, bool mean) {
  return [=](ImportContext& ctx) -> Result<void> {
    auto acc = ctx.in(0);
    if (!acc) return acc.error();
    NodeId r = *acc;
    for (size_t i = 1; i < ctx.numInputs(); ++i) {
      auto x = ctx.in(i);
      if (!x) return x.error();
      auto n = ctx.op(k, {r, *x});
      if (!n) return n.error();
      r = *n;
    }
    if (mean && ctx.numInputs() > 1) {
      auto n = ctx.op(OpKind::Div, {r, ctx.scalar(double(ctx.numInputs()))});
      if (!n) return n.error();
      r = *n;
    }
    ctx.setOutput(0, r, ctx.elemType(0));
    return {};
  };
}

// Comparisons with swapped operands or negated results.
OpMapper compare(OpKind k, bool swap, bool negate) {
  return [=](ImportContext& ctx) -> Result<void> {
    auto a = ctx.in(0), b = ctx.in(1);
    if (!a) return a.error();
    if (!b) return b.error();
    auto r = swap ? ctx.op(k, {*b, *a}) : ctx.op(k, {*a, *b});
    if (!r) return r.error();
    NodeId out = *r;
    if (negate) {
      auto n = ctx.op(OpKind::Sub, {ctx.scalar(1), out});
      if (!n) return n.error();
      out = *n;
    }
    ctx.setOutput(0, out, kBool);
    return {};
  };
}

// floor and ceil through a truncating cast (exact for |x| < 2^31).
Result<NodeId> truncated(ImportContext& c, NodeId x) {
  auto i = c.op(OpKind::Cast, {x}, DTypeAttr{"i32"}.attrs());
  if (!i) return i;
  return c.op(OpKind::Cast, {*i}, DTypeAttr{"f32"}.attrs());
}

}  // namespace

void addElementwiseOps(OpTable& t) {
  t["Neg"] = direct(OpKind::Neg);
  t["Exp"] = direct(OpKind::Exp);
  t["Log"] = direct(OpKind::Log);
  t["Sqrt"] = direct(OpKind::Sqrt);
  t["Abs"] = direct(OpKind::Abs);
  t["Sign"] = direct(OpKind::Sign);
  t["Erf"] = direct(OpKind::Erf);
  t["Relu"] = direct(OpKind::Relu);
  t["Sigmoid"] = direct(OpKind::Sigmoid);
  t["Tanh"] = direct(OpKind::Tanh);
  t["Softplus"] = direct(OpKind::Softplus);
  t["LeakyRelu"] = direct(OpKind::LeakyRelu, 0, [](ImportContext& c) { return AlphaAttr{c.attrFloat("alpha", 0.01)}.attrs(); });
  t["Elu"] = direct(OpKind::Elu, 0, [](ImportContext& c) { return AlphaAttr{c.attrFloat("alpha", 1.0)}.attrs(); });
  t["Add"] = direct(OpKind::Add);
  t["Sub"] = direct(OpKind::Sub);
  t["Mul"] = direct(OpKind::Mul);
  t["Div"] = direct(OpKind::Div);
  t["Pow"] = direct(OpKind::Pow);
  t["Max"] = variadic(OpKind::Maximum, false);
  t["Min"] = variadic(OpKind::Minimum, false);
  t["Sum"] = variadic(OpKind::Add, false);
  t["Mean"] = variadic(OpKind::Add, true);
  t["Greater"] = compare(OpKind::Greater, false, false);
  t["Less"] = compare(OpKind::Greater, true, false);
  t["GreaterOrEqual"] = compare(OpKind::GreaterEqual, false, false);
  t["LessOrEqual"] = compare(OpKind::GreaterEqual, true, false);
  t["Equal"] = compare(OpKind::Equal, false, false);
  t["And"] = direct(OpKind::Mul, kBool);
  t["Or"] = direct(OpKind::Maximum, kBool);
  t["Xor"] = compare(OpKind::Equal, false, true);
  t["Not"] = composite([](ImportContext& c, NodeId x) { return c.op(OpKind::Sub, {c.scalar(1), x}); });
  t["Where"] = [](ImportContext& ctx) -> Result<void> {
    auto p = ctx.in(0), a = ctx.in(1), b = ctx.in(2);
    if (!p) return p.error();
    if (!a) return a.error();
    if (!b) return b.error();
    auto r = ctx.op(OpKind::Select, {*p, *a, *b});
    if (!r) return r.error();
    ctx.setOutput(0, *r, ctx.elemType(1));
    return {};
  };
  t["IsNaN"] = [](ImportContext& ctx) -> Result<void> {
    auto x = ctx.in(0);
    if (!x) return x.error();
    auto eq = ctx.op(OpKind::Equal, {*x, *x});
    if (!eq) return eq.error();
    auto r = ctx.op(OpKind::Sub, {ctx.scalar(1), *eq});
    if (!r) return r.error();
    ctx.setOutput(0, *r, kBool);
    return {};
  };
  t["IsInf"] = [](ImportContext& ctx) -> Result<void> {
    auto x = ctx.in(0);
    if (!x) return x.error();
    bool pos = ctx.attrInt("detect_positive", 1) != 0, neg = ctx.attrInt("detect_negative", 1) != 0;
    NodeId v = *x;
    if (pos && neg) {
      auto a = ctx.op(OpKind::Abs, {v});
      if (!a) return a.error();
      v = *a;
    }
    double inf = std::numeric_limits<double>::infinity();
    auto r = ctx.op(OpKind::Equal, {v, ctx.scalar(neg && !pos ? -inf : inf)});
    if (!r) return r.error();
    NodeId out = *r;
    if (!pos && !neg) {
      auto z = ctx.op(OpKind::Mul, {out, ctx.scalar(0)});
      if (!z) return z.error();
      out = *z;
    }
    ctx.setOutput(0, out, kBool);
    return {};
  };
  // Trigonometry and rounding through the ops #11 added (sin, cos, round: half to even, as
  // ONNX's Round); the hyperbolic ones from exp.
  t["Sin"] = direct(OpKind::Sin);
  t["Cos"] = direct(OpKind::Cos);
  t["Round"] = direct(OpKind::Round);
  t["Tan"] = composite([](ImportContext& c, NodeId x) -> Result<NodeId> {
    B b{c};
    TRY_NODE(sn, b.un(OpKind::Sin, x));
    TRY_NODE(cs, b.un(OpKind::Cos, x));
    return b.div(sn, cs);
  });
  for (bool cosh : {false, true})
    t[cosh ? "Cosh" : "Sinh"] = composite([cosh](ImportContext& c, NodeId x) -> Result<NodeId> {
      B b{c};
      TRY_NODE(ep, b.un(OpKind::Exp, x));
      TRY_NODE(nx, b.un(OpKind::Neg, x));
      TRY_NODE(en, b.un(OpKind::Exp, nx));
      TRY_NODE(s, cosh ? b.add(ep, en) : b.sub(ep, en));
      return b.mul(s, b.k(0.5));
    });
  t["Reciprocal"] = composite([](ImportContext& c, NodeId x) { return c.op(OpKind::Div, {c.scalar(1), x}); });
  t["Floor"] = composite([](ImportContext& c, NodeId x) -> Result<NodeId> {
    B b{c};
    TRY_NODE(tr, truncated(c, x));
    TRY_NODE(up, b.gt(tr, x));  // truncation went up (negative non-integers)
    return b.sub(tr, up);
  });
  t["Ceil"] = composite([](ImportContext& c, NodeId x) -> Result<NodeId> {
    B b{c};
    TRY_NODE(tr, truncated(c, x));
    TRY_NODE(down, b.gt(x, tr));
    return b.add(tr, down);
  });
  t["Selu"] = composite([](ImportContext& c, NodeId x) -> Result<NodeId> {
    double alpha = c.attrFloat("alpha", 1.67326319217681884765625), gamma = c.attrFloat("gamma", 1.05070102214813232421875);
    B b{c};
    TRY_NODE(pos, b.gt(x, b.k(0)));
    TRY_NODE(ex, b.un(OpKind::Exp, x));
    TRY_NODE(em1, b.sub(ex, b.k(1)));
    TRY_NODE(neg, b.mul(em1, b.k(alpha * gamma)));
    TRY_NODE(lin, b.mul(x, b.k(gamma)));
    return b.sel(pos, lin, neg);
  });
  t["Celu"] = composite([](ImportContext& c, NodeId x) -> Result<NodeId> {
    double alpha = c.attrFloat("alpha", 1.0);
    B b{c};
    TRY_NODE(scaled, b.div(x, b.k(alpha)));
    TRY_NODE(ex, b.un(OpKind::Exp, scaled));
    TRY_NODE(em1, b.sub(ex, b.k(1)));
    TRY_NODE(neg, b.mul(em1, b.k(alpha)));
    TRY_NODE(lo, b.min(neg, b.k(0)));
    TRY_NODE(hi, b.max(x, b.k(0)));
    return b.add(hi, lo);
  });
  t["HardSigmoid"] = composite([](ImportContext& c, NodeId x) -> Result<NodeId> {
    B b{c};
    TRY_NODE(ax, b.mul(x, b.k(c.attrFloat("alpha", 0.2))));
    TRY_NODE(lin, b.add(ax, b.k(c.attrFloat("beta", 0.5))));
    TRY_NODE(lo, b.max(lin, b.k(0)));
    return b.min(lo, b.k(1));
  });
  t["HardSwish"] = composite([](ImportContext& c, NodeId x) -> Result<NodeId> {
    B b{c};
    TRY_NODE(ax, b.mul(x, b.k(1.0 / 6)));
    TRY_NODE(lin, b.add(ax, b.k(0.5)));
    TRY_NODE(lo, b.max(lin, b.k(0)));
    TRY_NODE(hs, b.min(lo, b.k(1)));
    return b.mul(x, hs);
  });
  t["Shrink"] = composite([](ImportContext& c, NodeId x) -> Result<NodeId> {
    double lambd = c.attrFloat("lambd", 0.5), bias = c.attrFloat("bias", 0.0);
    B b{c};
    TRY_NODE(below, b.gt(b.k(-lambd), x));
    TRY_NODE(above, b.gt(x, b.k(lambd)));
    TRY_NODE(plus, b.add(x, b.k(bias)));
    TRY_NODE(minus, b.sub(x, b.k(bias)));
    TRY_NODE(inner, b.sel(above, minus, b.k(0)));
    return b.sel(below, plus, inner);
  });
  t["ThresholdedRelu"] = composite([](ImportContext& c, NodeId x) -> Result<NodeId> {
    B b{c};
    TRY_NODE(p, b.gt(x, b.k(c.attrFloat("alpha", 1.0))));
    return b.sel(p, x, b.k(0));
  });
  t["Softsign"] = composite([](ImportContext& c, NodeId x) -> Result<NodeId> {
    B b{c};
    TRY_NODE(a, b.un(OpKind::Abs, x));
    TRY_NODE(d, b.add(a, b.k(1)));
    return b.div(x, d);
  });
  t["Mish"] = composite([](ImportContext& c, NodeId x) -> Result<NodeId> {
    B b{c};
    TRY_NODE(sp, b.un(OpKind::Softplus, x));
    TRY_NODE(th, b.un(OpKind::Tanh, sp));
    return b.mul(x, th);
  });
  t["PRelu"] = [](ImportContext& ctx) -> Result<void> {
    auto x = ctx.in(0), slope = ctx.in(1);
    if (!x) return x.error();
    if (!slope) return slope.error();
    NodeId k = *slope;
    // A per-channel slope [C] that NumPy broadcasting cannot place (opset 6 exports of
    // PyTorch's PReLU(num_parameters = C)) applies along NCHW's channel axis.
    Shape xs = ctx.shape(*x), ks = ctx.shape(k);
    if (ks.rank() == 1 && xs.rank() > 2 && ks[0] != 1 && ks[0] != xs.dims.back() && ks[0] == xs[1]) {
      std::vector<int64_t> dims(xs.rank() - 1, 1);
      dims[0] = ks[0];
      TRY_NODE(r, ctx.reshape(k, dims));
      k = r;
    }
    B b{ctx};
    TRY_NODE(pos, b.gt(*x, b.k(0)));
    TRY_NODE(neg, b.mul(*x, k));
    TRY_NODE(r, b.sel(pos, *x, neg));
    ctx.setOutput(0, r);
    return {};
  };
  t["Clip"] = [](ImportContext& ctx) -> Result<void> {
    auto x = ctx.in(0);
    if (!x) return x.error();
    NodeId r = *x;
    if (ctx.hasInput(1)) {
      auto lo = ctx.in(1);
      if (!lo) return lo.error();
      auto n = ctx.op(OpKind::Maximum, {r, *lo});
      if (!n) return n.error();
      r = *n;
    }
    if (ctx.hasInput(2)) {
      auto hi = ctx.in(2);
      if (!hi) return hi.error();
      auto n = ctx.op(OpKind::Minimum, {r, *hi});
      if (!n) return n.error();
      r = *n;
    }
    ctx.setOutput(0, r, ctx.elemType(0));
    return {};
  };
  t["Cast"] = [](ImportContext& ctx) -> Result<void> {
    auto x = ctx.in(0);
    if (!x) return x.error();
    int32_t to = static_cast<int32_t>(ctx.attrInt("to", 1)), from = ctx.elemType(0);
    NodeId r = *x;
    bool toInt = to == 6 || to == 7, fromInt = isIntegerType(from);
    if (to == kBool) {
      auto eq = ctx.op(OpKind::Equal, {r, ctx.scalar(0)});
      if (!eq) return eq.error();
      auto n = ctx.op(OpKind::Sub, {ctx.scalar(1), *eq});
      if (!n) return n.error();
      r = *n;
    } else if (toInt != fromInt && (toInt || to == 1)) {
      auto n = ctx.op(OpKind::Cast, {r}, DTypeAttr{toInt ? "i32" : "f32"}.attrs());
      if (!n) return n.error();
      r = *n;
    } else if (!toInt && to != 1) {
      return ctx.error(std::string("a cast to ") + elemTypeName(to) + " is not supported");
    }
    ctx.setOutput(0, r, to);
    return {};
  };
}

}  // namespace nnc::onnximport
