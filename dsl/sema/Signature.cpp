#include "dsl/sema/Signature.h"

#include "dsl/sema/ConstEval.h"

namespace nnc::sema {

const char* familyNoun(Family f) {
  switch (f) {
    case Family::Expression: return "operation";
    case Family::Initializer: return "initializer";
    case Family::Optimizer: return "optimizer";
    case Family::Schedule: return "schedule";
    case Family::Normalize: return "normalization";
    case Family::TrainBlock: return "train block";
  }
  return "callable";
}

bool Range::contains(double v) const {
  if (min && (minOpen ? !(v > *min) : !(v >= *min))) return false;
  if (max && (maxOpen ? !(v < *max) : !(v <= *max))) return false;
  return true;
}

std::string Range::str() const {
  if (min && max)
    return std::string("in ") + (minOpen ? "(" : "[") + formatNumber(*min) + ", " + formatNumber(*max) +
           (maxOpen ? ")" : "]");
  if (min) return (minOpen ? "> " : ">= ") + formatNumber(*min);
  if (max) return (maxOpen ? "< " : "<= ") + formatNumber(*max);
  return "any number";
}

const BoundArg& BoundCall::arg(std::string_view name) const {
  static const BoundArg kAbsent;
  if (!callee) return kAbsent;
  for (size_t i = 0; i < callee->params.size() && i < args.size(); ++i)
    if (callee->params[i].name == name) return args[i];
  return kAbsent;
}

std::pair<int64_t, int64_t> BoundCall::pair(std::string_view name) const {
  const BoundArg& a = arg(name);
  if (a.ints.size() != 2) return {1, 1};
  return {a.ints[0], a.ints[1]};
}

namespace spec {

Default required() { return Default{}; }
Default unset() { return Default{Default::Kind::Unset, 0, {}, false}; }
Default num(double v) { return Default{Default::Kind::Number, v, {}, false}; }
Default word(std::string w) { return Default{Default::Kind::Word, 0, std::move(w), false}; }
Default flag(bool b) { return Default{Default::Kind::Bool, 0, {}, b}; }

TensorReq req(DTypeReq dtype, int minRank, int maxRank, std::string noun, std::string hint) {
  return TensorReq{dtype, minRank, maxRank, std::move(noun), std::move(hint)};
}

Range any() { return Range{}; }
Range atLeast(double v) { return Range{v, std::nullopt, false, false}; }
Range above(double v) { return Range{v, std::nullopt, true, false}; }
Range between(double lo, double hi, bool hiOpen) { return Range{lo, hi, false, hiOpen}; }

namespace {
ParamSpec make(std::string name, ArgKind kind, Default def, Range range = {}) {
  ParamSpec p;
  p.name = std::move(name);
  p.kind = kind;
  p.def = std::move(def);
  p.range = range;
  return p;
}
}  // namespace

ParamSpec tensor(std::string name, TensorReq req) {
  ParamSpec p = make(std::move(name), ArgKind::Tensor, required());
  p.tensor = std::move(req);
  return p;
}
ParamSpec tensorList(std::string name, TensorReq req) {
  ParamSpec p = make(std::move(name), ArgKind::TensorList, required());
  p.tensor = std::move(req);
  return p;
}
ParamSpec tensorRest(std::string name, TensorReq req) {
  ParamSpec p = make(std::move(name), ArgKind::TensorRest, unset());
  p.tensor = std::move(req);
  return p;
}
ParamSpec integer(std::string name, Default def, Range range) {
  return make(std::move(name), ArgKind::Int, std::move(def), range);
}
ParamSpec number(std::string name, Default def, Range range) {
  return make(std::move(name), ArgKind::Float, std::move(def), range);
}
ParamSpec boolean(std::string name, bool def) { return make(std::move(name), ArgKind::Bool, flag(def)); }
ParamSpec word(std::string name, Default def, std::vector<std::string> choices, std::string noun) {
  ParamSpec p = make(std::move(name), ArgKind::Word, std::move(def));
  p.choices = std::move(choices);
  p.choiceNoun = std::move(noun);
  return p;
}
ParamSpec intOrPair(std::string name, Default def, Range range) {
  return make(std::move(name), ArgKind::IntOrPair, std::move(def), range);
}
ParamSpec axes(std::string name) { return make(std::move(name), ArgKind::Axes, unset()); }
ParamSpec intList(std::string name, Default def) { return make(std::move(name), ArgKind::IntList, std::move(def)); }
ParamSpec intPairs(std::string name, Default def, Range range) {
  return make(std::move(name), ArgKind::IntPairs, std::move(def), range);
}
ParamSpec floatList(std::string name, Default def, Range range) {
  return make(std::move(name), ArgKind::FloatList, std::move(def), range);
}
ParamSpec wordOrFloatList(std::string name, std::vector<std::string> words, std::string noun, Range range) {
  ParamSpec p = make(std::move(name), ArgKind::WordOrFloatList, unset(), range);
  p.choices = std::move(words);
  p.choiceNoun = std::move(noun);
  return p;
}
ParamSpec string(std::string name, Default def) { return make(std::move(name), ArgKind::String, std::move(def)); }
ParamSpec callable(std::string name, Family family, Default def) {
  ParamSpec p = make(std::move(name), ArgKind::Callable, std::move(def));
  p.family = family;
  return p;
}

}  // namespace spec

}  // namespace nnc::sema
