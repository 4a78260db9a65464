#include "dsl/sema/ArgBinder.h"

#include "dsl/sema/ConstEval.h"
#include "dsl/sema/Registry.h"
#include "dsl/sema/Sema.h"

namespace nnc::sema {

namespace {

bool isBlock(const Callable& c) { return c.family == Family::TrainBlock; }

// "argument 'lr' of 'adam'" in calls; "'validation'" in the train block.
std::string argDesc(const Callable& c, const ParamSpec& p) {
  if (isBlock(c)) return "'" + p.name + "'";
  return "argument '" + p.name + "' of '" + c.name + "'";
}

std::vector<std::string> paramNames(const Callable& c) {
  std::vector<std::string> out;
  for (const ParamSpec& p : c.params) out.push_back(p.name);
  return out;
}

std::string joinChoices(const std::vector<std::string>& choices) {
  std::string s;
  for (size_t i = 0; i < choices.size(); ++i) s += (i ? ", " : "") + choices[i];
  return s;
}

size_t tensorParamCount(const Callable& c) {
  size_t n = 0;
  for (const ParamSpec& p : c.params)
    n += p.kind == ArgKind::Tensor || p.kind == ArgKind::TensorList || p.kind == ArgKind::TensorRest;
  return n;
}

// Converts checked constants into BoundArg fields, one function per kind family.
class ConstConverter {
 public:
  ConstConverter(Sema& s, const Callable& c, const ParamSpec& p) : s_(s), c_(c), p_(p) {}

  bool integer(const ConstValue& v, int64_t& out) {
    if (v.kind != ConstValue::Kind::Number || !v.isInteger)
      return fail(v, "must be an integer, got " + describeConst(v));
    if (!inRange(v)) return false;
    out = v.integer;
    return true;
  }

  bool number(const ConstValue& v, double& out) {
    if (v.kind != ConstValue::Kind::Number) return fail(v, "must be a number, got " + describeConst(v));
    if (!inRange(v)) return false;
    out = v.number;
    return true;
  }

  bool boolean(const ConstValue& v, bool& out) {
    if (v.kind != ConstValue::Kind::Word || (v.text != "true" && v.text != "false"))
      return fail(v, "must be true or false, got " + describeConst(v));
    out = v.text == "true";
    return true;
  }

  bool word(const ConstValue& v, std::string& out) {
    if (v.kind == ConstValue::Kind::Word) {
      for (const std::string& c : p_.choices)
        if (c == v.text) {
          out = v.text;
          return true;
        }
      std::string hint = suggest(v.text, p_.choices);
      if (hint.empty()) hint = "; expected one of " + joinChoices(p_.choices);
      s_.error(v.loc, "unknown " + p_.choiceNoun + " '" + v.text + "'" + hint);
      return false;
    }
    return fail(v, "must be one of " + joinChoices(p_.choices) + ", got " + describeConst(v));
  }

  bool intOrPair(const ConstValue& v, std::vector<int64_t>& out) {
    int64_t a = 0, b = 0;
    if (v.kind == ConstValue::Kind::Number) {
      if (!integer(v, a)) return false;
      out = {a, a};
      return true;
    }
    if (v.kind == ConstValue::Kind::List && v.items.size() == 2 && isInt(v.items[0]) && isInt(v.items[1])) {
      if (!integer(v.items[0], a) || !integer(v.items[1], b)) return false;
      out = {a, b};
      return true;
    }
    return fail(v, "must be an integer or a list of two integers [height, width], got " + describeConst(v));
  }

  bool intList(const ConstValue& v, std::vector<int64_t>& out, bool scalarOk) {
    if (scalarOk && v.kind == ConstValue::Kind::Number) {
      int64_t a = 0;
      if (!integer(v, a)) return false;
      out = {a};
      return true;
    }
    if (v.kind == ConstValue::Kind::List) {
      bool allInts = true;
      for (const ConstValue& item : v.items) allInts = allInts && isInt(item);
      if (allInts) {
        for (const ConstValue& item : v.items) {
          int64_t a = 0;
          if (!integer(item, a)) return false;
          out.push_back(a);
        }
        return true;
      }
    }
    return fail(v, std::string("must be ") + (scalarOk ? "an integer or " : "") + "a list of integers, got " +
                       describeConst(v));
  }

  // An integer (one value for every side) or a list of [before, after] pairs, flattened.
  bool intPairs(const ConstValue& v, std::vector<int64_t>& out) {
    int64_t a = 0, b = 0;
    if (v.kind == ConstValue::Kind::Number) {
      if (!integer(v, a)) return false;
      out = {a};
      return true;
    }
    bool pairs = v.kind == ConstValue::Kind::List && !v.items.empty();
    for (const ConstValue& item : v.items)
      pairs = pairs && item.kind == ConstValue::Kind::List && item.items.size() == 2 && isInt(item.items[0]) &&
              isInt(item.items[1]);
    if (pairs) {
      for (const ConstValue& item : v.items) {
        if (!integer(item.items[0], a) || !integer(item.items[1], b)) return false;
        out.push_back(a);
        out.push_back(b);
      }
      return true;
    }
    return fail(v, "must be an integer or a list of [before, after] pairs such as [[1, 1], [2, 2]], got " +
                       describeConst(v));
  }

  bool floatList(const ConstValue& v, std::vector<double>& out) {
    if (v.kind == ConstValue::Kind::List) {
      bool allNumbers = true;
      for (const ConstValue& item : v.items) allNumbers = allNumbers && item.kind == ConstValue::Kind::Number;
      if (allNumbers) {
        for (const ConstValue& item : v.items) {
          if (!inRange(item)) return false;
          out.push_back(item.number);
        }
        return true;
      }
    }
    return fail(v, "must be a list of numbers, got " + describeConst(v));
  }

  bool wordOrFloatList(const ConstValue& v, BoundArg& a) {
    if (v.kind == ConstValue::Kind::List) {
      a.isList = true;
      return floatList(v, a.numbers);
    }
    if (v.kind == ConstValue::Kind::Word) return word(v, a.word);
    return fail(v, "must be " + joinChoices(p_.choices) + " or a list of numbers, got " + describeConst(v));
  }

  bool string(const ConstValue& v, std::string& out) {
    if (v.kind != ConstValue::Kind::String) return fail(v, "must be a string such as \"fc\", got " + describeConst(v));
    out = v.text;
    return true;
  }

 private:
  static bool isInt(const ConstValue& v) { return v.kind == ConstValue::Kind::Number && v.isInteger; }

  bool inRange(const ConstValue& v) {
    if (p_.range.contains(v.number)) return true;
    return fail(v, "must be " + p_.range.str() + ", got " + v.text);
  }

  bool fail(const ConstValue& v, const std::string& what) {
    s_.error(v.loc, argDesc(c_, p_) + " " + what);
    return false;
  }

  Sema& s_;
  const Callable& c_;
  const ParamSpec& p_;
};

// A tensor argument written as a number: it takes the dtype of the call's other tensors,
// so it is materialised once they are known.
struct PendingLiteral {
  size_t slot;
  ConstValue value;
};

bool evalArg(Sema& s, const Callable& c, const ParamSpec& p, const ast::Expr& e, BoundArg& a,
             std::vector<PendingLiteral>& literals, size_t slot) {
  a.present = a.given = true;
  a.loc = e.loc;
  switch (p.kind) {
    case ArgKind::Tensor: {
      if (isNumericConstant(e)) {
        Result<ConstValue> v = evalConst(e);
        if (!v) return s.error(v.error().loc, v.error().message), false;
        a.text = v->text;
        literals.push_back({slot, std::move(*v)});
        return true;
      }
      std::optional<NodeId> id = s.lowerExpr(e);
      if (!id) return false;
      a.tensor = *id;
      return true;
    }
    case ArgKind::TensorList: {
      if (e.kind != ast::ExprKind::List || e.items.empty()) {
        s.error(e.loc, argDesc(c, p) + " must be a list of tensors [a, b, ...]");
        return false;
      }
      bool ok = true;
      for (const ast::ExprPtr& item : e.items) {
        std::optional<NodeId> id = item ? s.lowerExpr(*item) : std::nullopt;
        if (!id) ok = false;
        else a.tensors.push_back(*id);
      }
      return ok;
    }
    case ArgKind::Callable: {
      std::optional<BoundCall> inner = bindCallableExpr(s, p.family, e, argDesc(c, p));
      if (!inner) return false;
      a.call = std::make_shared<BoundCall>(std::move(*inner));
      a.word = a.call->callee->name;
      return true;
    }
    default:
      break;
  }
  if (e.kind == ast::ExprKind::Call) {
    s.error(e.loc, argDesc(c, p) + " must be a constant, got a call to '" + e.text + "'");
    return false;
  }
  Result<ConstValue> v = evalConst(e);
  if (!v) {
    s.error(v.error().loc, v.error().message);
    return false;
  }
  a.text = v->kind == ConstValue::Kind::Number ? v->text : describeConst(*v);
  ConstConverter conv(s, c, p);
  switch (p.kind) {
    case ArgKind::Int: return conv.integer(*v, a.integer) && ((a.number = static_cast<double>(a.integer)), true);
    case ArgKind::Float: return conv.number(*v, a.number);
    case ArgKind::Bool: return conv.boolean(*v, a.flag) && ((a.number = a.flag ? 1 : 0), true);
    case ArgKind::Word: return conv.word(*v, a.word);
    case ArgKind::IntOrPair: return conv.intOrPair(*v, a.ints);
    case ArgKind::Axes: a.isList = v->kind == ConstValue::Kind::List; return conv.intList(*v, a.ints, true);
    case ArgKind::IntList: return conv.intList(*v, a.ints, false);
    case ArgKind::FloatList: return conv.floatList(*v, a.numbers);
    case ArgKind::WordOrFloatList: return conv.wordOrFloatList(*v, a);
    case ArgKind::String: return conv.string(*v, a.word);
    case ArgKind::IntPairs: return conv.intPairs(*v, a.ints);
    default: return false;
  }
}

bool applyDefault(Sema& s, const Callable& c, const ParamSpec& p, SourceLoc loc, BoundArg& a) {
  a.loc = loc;
  switch (p.def.kind) {
    case Default::Kind::Required:
      if (isBlock(c)) s.error(loc, "the train block needs '" + p.name + "'");
      else s.error(loc, "missing argument '" + p.name + "' for '" + c.name + "'");
      return false;
    case Default::Kind::Unset:
      return true;
    case Default::Kind::Number:
      a.present = true;
      a.number = p.def.number;
      a.integer = static_cast<int64_t>(p.def.number);
      if (p.kind == ArgKind::IntOrPair) a.ints = {a.integer, a.integer};
      a.text = formatNumber(p.def.number);
      return true;
    case Default::Kind::Bool:
      a.present = true;
      a.flag = p.def.flag;
      a.number = p.def.flag ? 1 : 0;
      a.text = p.def.flag ? "true" : "false";
      return true;
    case Default::Kind::Word: {
      a.present = true;
      a.word = p.def.word;
      a.text = p.def.word;
      if (p.kind != ArgKind::Callable) return true;
      const Callable* inner = Registry::instance().find(p.family, p.def.word);
      if (!inner) {
        s.error(loc, "internal: default " + std::string(familyNoun(p.family)) + " '" + p.def.word + "' is unknown");
        return false;
      }
      std::optional<BoundCall> bound = bindCall(s, *inner, loc, {});
      if (!bound) return false;
      a.call = std::make_shared<BoundCall>(std::move(*bound));
      return true;
    }
  }
  return false;
}

DType requiredDtype(DTypeReq r, DType fallback) {
  return r == DTypeReq::F32 ? DType::F32 : r == DTypeReq::I32 ? DType::I32 : fallback;
}

// The dtype and rank a tensor parameter requires, reported at the call.
bool checkTensor(Sema& s, const BoundCall& b, const ParamSpec& p, NodeId id) {
  const Callable& c = *b.callee;
  const TensorReq& r = p.tensor;
  const TensorType t = s.type(id);
  bool single = tensorParamCount(c) == 1;
  if (r.dtype != DTypeReq::Any && t.dtype != requiredDtype(r.dtype, t.dtype)) {
    std::string want = r.dtype == DTypeReq::F32 ? "f32" : "i32";
    std::string noun = single ? "" : " " + (r.noun.empty() ? p.name : r.noun);
    s.error(b.loc, c.name + " expects " + want + noun + ", got " + t.str());
    return false;
  }
  int rank = static_cast<int>(t.shape.rank());
  if (rank < r.minRank || (r.maxRank >= 0 && rank > r.maxRank)) {
    std::string noun = !r.noun.empty() ? r.noun : single ? "an input" : p.name;
    std::string ranks = r.minRank == r.maxRank ? std::to_string(r.minRank)
                        : r.maxRank < 0        ? ">= " + std::to_string(r.minRank)
                                               : std::to_string(r.minRank) + " to " + std::to_string(r.maxRank);
    s.error(b.loc, c.name + " expects " + noun + " of rank " + ranks + (r.hint.empty() ? "" : " " + r.hint) +
                       ", got " + t.str());
    return false;
  }
  return true;
}

// Literals take the dtype of the first real tensor argument (f32 when there is none), then
// every tensor is checked against its requirement.
bool finishTensors(Sema& s, BoundCall& b, std::vector<PendingLiteral>& literals) {
  const Callable& c = *b.callee;
  DType like = DType::F32;
  for (size_t i = 0; i < c.params.size(); ++i)
    if (c.params[i].kind == ArgKind::Tensor && b.args[i].tensor != kNoNode) {
      like = s.type(b.args[i].tensor).dtype;
      break;
    }
  bool ok = true;
  for (PendingLiteral& lit : literals) {
    const ParamSpec& p = c.params[lit.slot];
    DType dt = requiredDtype(p.tensor.dtype, like);
    std::optional<NodeId> id = s.literal(lit.value, dt, "operands of '" + c.name + "'");
    if (!id) ok = false;
    else b.args[lit.slot].tensor = *id;
  }
  if (!ok) return false;
  for (size_t i = 0; i < c.params.size(); ++i) {
    const BoundArg& a = b.args[i];
    if (c.params[i].kind == ArgKind::Tensor && a.tensor != kNoNode && !checkTensor(s, b, c.params[i], a.tensor))
      return false;
    if (c.params[i].kind == ArgKind::TensorList || c.params[i].kind == ArgKind::TensorRest)
      for (NodeId id : a.tensors)
        if (!checkTensor(s, b, c.params[i], id)) return false;
  }
  return true;
}

}  // namespace

std::vector<ArgSyntax> callArgs(const ast::Expr& call) {
  std::vector<ArgSyntax> out;
  for (const ast::Arg& a : call.args) out.push_back(ArgSyntax{a.key, a.keyLoc, a.value.get()});
  return out;
}

std::optional<BoundCall> bindCall(Sema& s, const Callable& c, SourceLoc loc, const std::vector<ArgSyntax>& args) {
  const size_t n = c.params.size();
  std::vector<const ArgSyntax*> slots(n, nullptr);
  bool ok = true;
  bool seenKeyword = false, reportedExtra = false;
  size_t positional = 0;
  // A TensorRest parameter takes every positional argument from its slot on.
  size_t restSlot = n;
  for (size_t i = 0; i < n; ++i)
    if (c.params[i].kind == ArgKind::TensorRest) restSlot = i;
  std::vector<const ArgSyntax*> rest;
  for (const ArgSyntax& a : args) {
    if (!a.value) continue;  // the parser never leaves one out; nothing to check
    size_t slot = n;
    if (a.key.empty()) {
      if (seenKeyword) {
        s.error(a.value->loc, "positional argument after keyword arguments in the call to '" + c.name + "'");
        ok = false;
        continue;
      }
      slot = positional++;
      if (slot >= restSlot && restSlot < n) {
        rest.push_back(&a);
        continue;
      }
      if (slot >= n) {
        if (!reportedExtra) {
          size_t total = 0;
          for (const ArgSyntax& x : args) total += x.key.empty();
          bool allRequired = true;
          for (const ParamSpec& p : c.params) allRequired = allRequired && p.def.kind == Default::Kind::Required;
          s.error(a.value->loc, "'" + c.name + "' takes " + (allRequired ? "" : "at most ") + std::to_string(n) +
                                    " argument" + (n == 1 ? "" : "s") + ", got " + std::to_string(total));
          reportedExtra = true;
        }
        ok = false;
        continue;
      }
    } else {
      seenKeyword = true;
      for (size_t i = 0; i < n; ++i)
        if (c.params[i].name == a.key) slot = i;
      if (slot == n) {
        if (isBlock(c))
          s.error(a.keyLoc, "unknown key '" + a.key + "' in the train block" + suggest(a.key, paramNames(c)));
        else
          s.error(a.keyLoc, "unknown keyword argument '" + a.key + "' for '" + c.name + "'" +
                                suggest(a.key, paramNames(c)));
        ok = false;
        continue;
      }
      if (slot == restSlot) {
        s.error(a.keyLoc, argDesc(c, c.params[slot]) + " takes positional arguments only");
        ok = false;
        continue;
      }
      if (slots[slot]) {
        const ArgSyntax& first = *slots[slot];
        SourceLoc firstLoc = first.key.empty() ? first.value->loc : first.keyLoc;
        if (isBlock(c))
          s.error(a.keyLoc, "'" + a.key + "' is already set at " + locStr(firstLoc));
        else
          s.error(a.keyLoc, argDesc(c, c.params[slot]) + " is given twice (first at " + locStr(firstLoc) + ")");
        ok = false;
        continue;
      }
    }
    slots[slot] = &a;
  }

  BoundCall b;
  b.callee = &c;
  b.loc = loc;
  b.args.resize(n);
  std::vector<PendingLiteral> literals;
  for (size_t i = 0; i < n; ++i) {
    if (i == restSlot) {
      BoundArg& a = b.args[i];
      a.loc = loc;
      for (const ArgSyntax* r : rest) {
        std::optional<NodeId> id = s.lowerExpr(*r->value);
        if (!id) {
          ok = false;
          continue;
        }
        a.present = a.given = true;
        a.tensors.push_back(*id);
        a.locs.push_back(r->value->loc);
      }
      continue;
    }
    bool argOk = slots[i] ? evalArg(s, c, c.params[i], *slots[i]->value, b.args[i], literals, i)
                          : applyDefault(s, c, c.params[i], loc, b.args[i]);
    ok = ok && argOk;
  }
  if (!ok) return std::nullopt;
  if (!finishTensors(s, b, literals)) return std::nullopt;
  if (c.validate && !c.validate(s, b)) return std::nullopt;
  return b;
}

std::optional<BoundCall> bindCallableExpr(Sema& s, Family family, const ast::Expr& e, const std::string& what) {
  const char* noun = familyNoun(family);
  if (e.kind != ast::ExprKind::Name && e.kind != ast::ExprKind::Call) {
    std::string got = e.kind == ast::ExprKind::Number ? "a number"
                      : e.kind == ast::ExprKind::List ? "a list"
                      : e.kind == ast::ExprKind::String ? "a string"
                                                        : "an expression";
    s.error(e.loc, what + " must be " + (noun[0] == 'o' || noun[0] == 'i' ? "an " : "a ") + noun + ", got " + got);
    return std::nullopt;
  }
  SourceLoc nameLoc = e.kind == ast::ExprKind::Call && e.calleeLoc.valid() ? e.calleeLoc : e.loc;
  const Callable* c = Registry::instance().find(family, e.text);
  if (!c) {
    s.error(nameLoc, "unknown " + std::string(noun) + " '" + e.text + "'" +
                         suggest(e.text, Registry::instance().names(family)));
    return std::nullopt;
  }
  return bindCall(s, *c, nameLoc, e.kind == ast::ExprKind::Call ? callArgs(e) : std::vector<ArgSyntax>{});
}

std::optional<BoundCall> bindDefaults(Sema& s, const Callable& c, SourceLoc loc, NodeId firstTensor) {
  BoundCall b;
  b.callee = &c;
  b.loc = loc;
  b.args.resize(c.params.size());
  bool ok = true;
  for (size_t i = 0; i < c.params.size(); ++i) {
    if (i == 0 && c.params[i].kind == ArgKind::Tensor) {
      b.args[i].present = true;
      b.args[i].loc = loc;
      b.args[i].tensor = firstTensor;
      continue;
    }
    ok = applyDefault(s, c, c.params[i], loc, b.args[i]) && ok;
  }
  if (!ok) return std::nullopt;
  std::vector<PendingLiteral> none;
  if (!finishTensors(s, b, none)) return std::nullopt;
  if (c.validate && !c.validate(s, b)) return std::nullopt;
  return b;
}

}  // namespace nnc::sema
