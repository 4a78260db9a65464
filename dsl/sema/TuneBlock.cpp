// The tune block. Its distributions are not callables of the registry (they make no IR and
// take any number of choices), so they are checked here, by one table of their arguments.
#include "dsl/sema/TuneBlock.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "dsl/sema/ConstEval.h"

namespace nnc::sema {

namespace {

using Kind = Hyperparameter::Kind;

struct DistributionForm {
  const char* name;
  Kind kind;
  const char* usage;
};

constexpr DistributionForm kDistributions[] = {
    {"choice", Kind::Choice, "choice(v, ...)"},
    {"uniform", Kind::Uniform, "uniform(lo, hi)"},
    {"log_uniform", Kind::LogUniform, "log_uniform(lo, hi)"},
    {"int_uniform", Kind::IntUniform, "int_uniform(lo, hi)"},
};

const char* kDistributionList =
    "choice(v, ...), uniform(lo, hi), log_uniform(lo, hi) or int_uniform(lo, hi), each with an optional default = v";

bool isWhole(double v) { return std::isfinite(v) && v == std::floor(v); }

std::string describe(const Hyperparameter& h) {
  std::string s;
  switch (h.kind) {
    case Kind::Choice:
      s = "choice(";
      for (size_t i = 0; i < h.choices.size(); ++i) s += (i ? ", " : "") + formatNumber(h.choices[i]);
      return s + ")";
    case Kind::Uniform: return "uniform(" + formatNumber(h.lo) + ", " + formatNumber(h.hi) + ")";
    case Kind::LogUniform: return "log_uniform(" + formatNumber(h.lo) + ", " + formatNumber(h.hi) + ")";
    case Kind::IntUniform: return "int_uniform(" + formatNumber(h.lo) + ", " + formatNumber(h.hi) + ")";
  }
  return "?";
}

class DistributionChecker {
 public:
  DistributionChecker(Sema& s, const ast::TrainEntry& e) : s_(s), e_(e) {}

  std::optional<Hyperparameter> run() {
    const ast::Expr& v = *e_.value;
    const DistributionForm* form = nullptr;
    if (v.kind == ast::ExprKind::Call)
      for (const DistributionForm& f : kDistributions)
        if (v.text == f.name) form = &f;
    if (!form) {
      std::string got = v.kind == ast::ExprKind::Call     ? "a call to '" + v.text + "'"
                        : v.kind == ast::ExprKind::Number ? v.text
                        : v.kind == ast::ExprKind::Name   ? "'" + v.text + "'"
                                                          : "an expression";
      return fail(v.kind == ast::ExprKind::Call ? v.calleeLoc : v.loc,
                  "tune name '" + e_.key + "' needs a distribution: " + kDistributionList + "; got " + got);
    }
    h_.name = e_.key;
    h_.loc = e_.keyLoc;
    h_.kind = form->kind;
    std::vector<std::pair<double, SourceLoc>> positional;
    std::optional<std::pair<double, SourceLoc>> def;
    for (const ast::Arg& a : v.args) {
      std::optional<ConstValue> n = number(*a.value, a.key.empty() ? "an argument of " + std::string(form->name)
                                                                    : "default");
      if (!n) return std::nullopt;
      if (a.key.empty()) {
        positional.push_back({n->number, n->loc});
        if (!n->isInteger) allWhole_ = false;
      } else if (a.key == "default") {
        def = {n->number, n->loc};
      } else {
        return fail(a.keyLoc, "unknown argument '" + a.key + "' of " + form->name + ": it takes " + form->usage +
                                  " and default = v");
      }
    }
    if (form->kind == Kind::Choice) {
      if (positional.empty()) return fail(v.loc, "choice needs at least one value: choice(v, ...)");
      for (auto& [x, loc] : positional) h_.choices.push_back(x);
      h_.integral = allWhole_;
    } else {
      if (positional.size() != 2)
        return fail(v.loc, std::string(form->name) + " takes two numbers, " + form->usage + ", got " +
                               std::to_string(positional.size()));
      h_.lo = positional[0].first;
      h_.hi = positional[1].first;
      if (!(h_.lo < h_.hi))
        return fail(positional[1].second, std::string(form->name) + " needs lo < hi, got " + describe(h_));
      if (form->kind == Kind::LogUniform && !(h_.lo > 0))
        return fail(positional[0].second, "log_uniform needs lo > 0 (it samples the logarithm), got " + describe(h_));
      if (form->kind == Kind::IntUniform) {
        if (!allWhole_) return fail(v.loc, "int_uniform takes two integers, got " + describe(h_));
        h_.integral = true;
      }
    }
    if (def) {
      bool ok = h_.kind == Kind::Choice
                    ? std::find(h_.choices.begin(), h_.choices.end(), def->first) != h_.choices.end()
                    : def->first >= h_.lo && def->first <= h_.hi && (!h_.integral || isWhole(def->first));
      if (!ok)
        return fail(def->second, "default = " + formatNumber(def->first) + " is not a value of " + describe(h_));
      h_.defaultValue = def->first;
    }
    return h_;
  }

 private:
  std::optional<ConstValue> number(const ast::Expr& e, const std::string& what) {
    Result<ConstValue> v = evalConst(e);
    if (!v) {
      s_.error(v.error().loc, v.error().message);
      return std::nullopt;
    }
    if (v->kind != ConstValue::Kind::Number) {
      s_.error(v->loc, what + " must be a number, got " + describeConst(*v));
      return std::nullopt;
    }
    return *v;
  }
  std::nullopt_t fail(SourceLoc loc, std::string message) {
    s_.error(loc, std::move(message));
    return std::nullopt;
  }

  Sema& s_;
  const ast::TrainEntry& e_;
  Hyperparameter h_;
  bool allWhole_ = true;
};

// `trials = 12`, `max_epochs = 4`: a whole number from 1.
bool positiveCount(Sema& s, const ast::TrainEntry& e, int64_t& out) {
  Result<ConstValue> v = evalConst(*e.value);
  if (!v) {
    s.error(v.error().loc, v.error().message);
    return false;
  }
  if (v->kind != ConstValue::Kind::Number || !v->isInteger || v->integer < 1 || v->integer > 1000000) {
    s.error(v->loc, e.key + " must be a whole number from 1 to 1000000, got " + describeConst(*v));
    return false;
  }
  out = v->integer;
  return true;
}

// The number a use of a tune name becomes. For a name that takes fractional values the text
// says so: sema's "must be an integer, got ..." then names the tune name and its distribution.
ast::ExprPtr numberFor(const ast::Expr& use, const Hyperparameter& h, double value) {
  auto n = std::make_shared<ast::Expr>();
  n->kind = ast::ExprKind::Number;
  n->loc = use.loc;
  n->number = value;
  n->isInteger = h.integral && isWhole(value) && std::fabs(value) < 9e15;
  if (n->isInteger)
    n->text = std::to_string(static_cast<int64_t>(value));
  else
    n->text = "'" + h.name + "' = " + formatNumber(value) + " (from " + describe(h) +
              (h.integral ? ")" : ", which takes fractional values)");
  return n;
}

struct Substituter {
  const TuneSpace& space;
  const std::map<std::string, double>& values;

  ast::ExprPtr expr(const ast::ExprPtr& e) const {
    if (!e) return e;
    if (e->kind == ast::ExprKind::Name)
      if (const Hyperparameter* h = space.find(e->text)) return numberFor(*e, *h, values.at(h->name));
    auto copy = std::make_shared<ast::Expr>(*e);
    for (ast::ExprPtr& item : copy->items) item = expr(item);
    for (ast::Arg& a : copy->args) a.value = expr(a.value);
    return copy;
  }
};

}  // namespace

std::optional<TuneSpace> lowerTuneBlock(Sema& s, const ast::Decl& tune) {
  TuneSpace space;
  space.loc = tune.loc;
  bool ok = true;
  std::set<std::string> seen;
  for (const ast::TrainEntry& e : tune.entries) {
    if (!e.value) continue;
    if (!seen.insert(e.key).second) {
      s.error(e.keyLoc, "'" + e.key + "' is given twice in the tune block");
      ok = false;
      continue;
    }
    if (e.key == "objective") {
      std::string word = e.value->kind == ast::ExprKind::Name ? e.value->text : "";
      if (word == "val_loss" || word == "val_accuracy") {
        space.objective = word == "val_loss" ? TuneObjective::ValLoss : TuneObjective::ValAccuracy;
      } else {
        s.error(e.value->loc, "objective must be val_loss or val_accuracy" + suggest(word, {"val_loss", "val_accuracy"}));
        ok = false;
      }
    } else if (e.key == "trials") {
      ok &= positiveCount(s, e, space.trials);
    } else if (e.key == "max_epochs") {
      ok &= positiveCount(s, e, space.maxEpochs);
    } else if (std::optional<Hyperparameter> h = DistributionChecker(s, e).run()) {
      space.params.push_back(std::move(*h));
    } else {
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return space;
}

ast::Module substituteHyperparameters(const ast::Module& module, const TuneSpace& space,
                                      const HyperparameterValues& given,
                                      std::vector<std::pair<std::string, double>>& used) {
  std::map<std::string, double> values;
  used.clear();
  for (const Hyperparameter& h : space.params) {
    auto it = given.find(h.name);
    values[h.name] = it != given.end() ? it->second : h.fallback();
    used.push_back({h.name, values[h.name]});
  }
  Substituter sub{space, values};
  ast::Module out = module;
  for (ast::Decl& d : out.decls) {
    if (d.kind == ast::DeclKind::Tune) continue;
    d.value = sub.expr(d.value);
    for (ast::TrainEntry& e : d.entries) e.value = sub.expr(e.value);
  }
  return out;
}

void checkTuneAgainstTraining(Sema& s, const TuneSpace& space) {
  const std::optional<TrainConfig>& train = s.model().train;
  if (!train || train->loss == kNoNode) {
    s.error(space.loc, "the tune block needs a train block with a loss: tune trains every trial");
    return;
  }
  if (!(train->validation > 0)) {
    s.error(space.loc, "the tune block scores trials on the validation split, and the train block has none "
                       "(add validation = 0.1, for instance)");
    return;
  }
  if (space.objective == TuneObjective::ValAccuracy && train->accuracy == AccuracyKind::None)
    s.error(space.loc, "objective = val_accuracy needs a classification loss (cross_entropy or "
                       "binary_cross_entropy); use val_loss");
}

}  // namespace nnc::sema
