#include "dsl/sema/ConstEval.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace nnc::sema {

namespace {

ConstValue number(double v, SourceLoc loc) {
  ConstValue c;
  c.number = v;
  c.text = formatNumber(v);
  c.loc = loc;
  return c;
}

ConstValue integer(int64_t v, SourceLoc loc) {
  ConstValue c = number(static_cast<double>(v), loc);
  c.isInteger = true;
  c.integer = v;
  c.text = std::to_string(v);
  return c;
}

Result<ConstValue> literal(const ast::Expr& e) {
  if (e.isInteger) {
    int64_t v = 0;
    auto [end, ec] = std::from_chars(e.text.data(), e.text.data() + e.text.size(), v);
    if (ec == std::errc() && end == e.text.data() + e.text.size()) {
      ConstValue c = integer(v, e.loc);
      c.text = e.text;
      return c;
    }
    if (!e.text.empty()) return makeError("integer " + e.text + " is too large", e.loc);
    return integer(static_cast<int64_t>(e.number), e.loc);  // hand-built ASTs without text
  }
  if (!std::isfinite(e.number)) return makeError("number " + e.text + " is out of range", e.loc);
  ConstValue c = number(e.number, e.loc);
  if (!e.text.empty()) c.text = e.text;
  return c;
}

Result<ConstValue> expectNumber(Result<ConstValue> v) {
  if (!v) return v;
  if (v->kind != ConstValue::Kind::Number)
    return makeError("expected a number, got " + describeConst(*v), v->loc);
  return v;
}

Result<ConstValue> arithmetic(char op, const ConstValue& a, const ConstValue& b, SourceLoc loc) {
  if (a.isInteger && b.isInteger && op != '/') {
    int64_t r = 0;
    bool overflow = op == '+'   ? __builtin_add_overflow(a.integer, b.integer, &r)
                    : op == '-' ? __builtin_sub_overflow(a.integer, b.integer, &r)
                                : __builtin_mul_overflow(a.integer, b.integer, &r);
    if (overflow) return makeError(std::string("integer overflow in '") + op + "'", loc);
    return integer(r, loc);
  }
  // '/' is true division, as in Python: 1 / 255 is a fraction, not 0.
  if (op == '/' && b.number == 0) return makeError("division by zero", loc);
  double r = op == '+' ? a.number + b.number : op == '-' ? a.number - b.number
           : op == '*' ? a.number * b.number : a.number / b.number;
  if (!std::isfinite(r)) return makeError(std::string("the result of '") + op + "' is out of range", loc);
  return number(r, loc);
}

}  // namespace

Result<ConstValue> evalConst(const ast::Expr& e) {
  switch (e.kind) {
    case ast::ExprKind::Number:
      return literal(e);
    case ast::ExprKind::Name: {
      ConstValue c;
      c.kind = ConstValue::Kind::Word;
      c.text = e.text;
      c.loc = e.loc;
      return c;
    }
    case ast::ExprKind::String: {
      ConstValue c;
      c.kind = ConstValue::Kind::String;
      c.text = e.text;
      c.loc = e.loc;
      return c;
    }
    case ast::ExprKind::List: {
      ConstValue c;
      c.kind = ConstValue::Kind::List;
      c.loc = e.loc;
      for (const ast::ExprPtr& item : e.items) {
        if (!item) return makeError("internal: empty list item", e.loc);
        Result<ConstValue> v = evalConst(*item);
        if (!v) return v;
        c.items.push_back(std::move(*v));
      }
      return c;
    }
    case ast::ExprKind::Call:
      return makeError("expected a constant, got a call to '" + e.text + "'", e.loc);
    case ast::ExprKind::Unary: {
      if (e.items.empty() || !e.items[0]) return makeError("internal: malformed unary expression", e.loc);
      Result<ConstValue> v = expectNumber(evalConst(*e.items[0]));
      if (!v) return v;
      if (v->isInteger) {
        if (v->integer == INT64_MIN) return makeError("integer overflow in '-'", e.loc);
        return integer(-v->integer, e.loc);
      }
      return number(-v->number, e.loc);
    }
    case ast::ExprKind::Binary: {
      if (e.items.size() != 2 || !e.items[0] || !e.items[1])
        return makeError("internal: malformed binary expression", e.loc);
      if (e.op == '@') return makeError("'@' needs tensors, not constants", e.loc);
      Result<ConstValue> a = expectNumber(evalConst(*e.items[0]));
      if (!a) return a;
      Result<ConstValue> b = expectNumber(evalConst(*e.items[1]));
      if (!b) return b;
      return arithmetic(e.op, *a, *b, e.loc);
    }
  }
  return makeError("internal: unknown expression kind", e.loc);
}

bool isNumericConstant(const ast::Expr& e) {
  switch (e.kind) {
    case ast::ExprKind::Number:
      return true;
    case ast::ExprKind::Unary:
      return !e.items.empty() && e.items[0] && isNumericConstant(*e.items[0]);
    case ast::ExprKind::Binary:
      return e.op != '@' && e.items.size() == 2 && e.items[0] && e.items[1] &&
             isNumericConstant(*e.items[0]) && isNumericConstant(*e.items[1]);
    default:
      return false;
  }
}

std::string formatNumber(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<int64_t>(v));
  // The shortest form that reads back as the same double.
  char buf[40];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

std::string describeConst(const ConstValue& v) {
  switch (v.kind) {
    case ConstValue::Kind::Number: return v.text;
    case ConstValue::Kind::Word: return "'" + v.text + "'";
    case ConstValue::Kind::String: return "\"" + v.text + "\"";
    case ConstValue::Kind::List: {
      std::string s = "[";
      for (size_t i = 0; i < v.items.size(); ++i) {
        if (i) s += ", ";
        if (s.size() > 60) return s + "...]";
        s += describeConst(v.items[i]);
      }
      return s + "]";
    }
  }
  return "?";
}

}  // namespace nnc::sema
