#pragma once
// The machinery under the typed attribute families (TypedAttrs.h): a family is a small struct
// whose members carry their defaults, plus a static `fields()` list that names each member's
// key, whether it is required, and what values it admits. From that one list come the typed
// read (`readAttrs<S>`), the typed write (`writeAttrs`, which leaves out values equal to their
// default so that equal attributes compare and print alike) and the check the verifier runs
// (`checkAttrFields<S>`: no unknown key, no missing required one, the right value type, the
// right length, values in range). Only this layer spells attribute keys.
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "compiler/ir/Attrs.h"
#include "support/Philox.h"

namespace nnc {

// A random-stream key (`seed`, `salt`): an integer, or a float made one (a `seed = 7` may
// arrive as a number), as the interpreter and the JIT read it alike.
struct AttrSeed {
  uint64_t value = 0;
  friend bool operator==(const AttrSeed&, const AttrSeed&) = default;
};

enum class AttrRange {
  Any,
  Positive,        // every value > 0
  NonNegative,     // every value >= 0
  Rate,            // in [0, 1)
  Fraction,        // in [0, 1]
  PositiveFinite,  // > 0 and finite
};

template <class S, class M>
struct AttrField {
  const char* name;
  M S::*member;
  bool required = false;
  AttrRange range = AttrRange::Any;
  size_t count = 0;             // a list's exact length; 0: any
  const char* words = nullptr;  // a string's admitted values, "a|b|c"; nullptr: any

  constexpr AttrField need() const { auto f = *this; f.required = true; return f; }
  constexpr AttrField in(AttrRange r) const { auto f = *this; f.range = r; return f; }
  constexpr AttrField length(size_t n) const { auto f = *this; f.count = n; return f; }
  constexpr AttrField oneOf(const char* w) const { auto f = *this; f.words = w; return f; }
};

template <class S, class M>
constexpr AttrField<S, M> attrField(const char* name, M S::*member) {
  return {name, member};
}

namespace attr_detail {

template <class T> struct Optional { using type = T; static constexpr bool value = false; };
template <class T> struct Optional<std::optional<T>> { using type = T; static constexpr bool value = true; };

inline bool decode(const AttrValue& v, int64_t& out) {
  if (!std::holds_alternative<int64_t>(v)) return false;
  out = std::get<int64_t>(v);
  return true;
}
inline bool decode(const AttrValue& v, bool& out) {
  if (!std::holds_alternative<int64_t>(v)) return false;
  out = std::get<int64_t>(v) != 0;
  return true;
}
inline bool decode(const AttrValue& v, double& out) {
  if (std::holds_alternative<double>(v)) return out = std::get<double>(v), true;
  if (std::holds_alternative<int64_t>(v)) return out = static_cast<double>(std::get<int64_t>(v)), true;
  return false;
}
inline bool decode(const AttrValue& v, std::string& out) {
  if (!std::holds_alternative<std::string>(v)) return false;
  out = std::get<std::string>(v);
  return true;
}
inline bool decode(const AttrValue& v, std::vector<int64_t>& out) {
  if (!std::holds_alternative<std::vector<int64_t>>(v)) return false;
  out = std::get<std::vector<int64_t>>(v);
  return true;
}
inline bool decode(const AttrValue& v, std::vector<double>& out) {  // integers too (constant values)
  if (std::holds_alternative<std::vector<double>>(v)) return out = std::get<std::vector<double>>(v), true;
  if (!std::holds_alternative<std::vector<int64_t>>(v)) return false;
  out.clear();
  for (int64_t x : std::get<std::vector<int64_t>>(v)) out.push_back(static_cast<double>(x));
  return true;
}
inline bool decode(const AttrValue& v, AttrSeed& out) {
  if (std::holds_alternative<int64_t>(v)) return out.value = static_cast<uint64_t>(std::get<int64_t>(v)), true;
  if (std::holds_alternative<double>(v)) return out.value = philox::stepFromFloat(std::get<double>(v)), true;
  return false;
}

inline AttrValue encode(int64_t v) { return v; }
inline AttrValue encode(bool v) { return int64_t(v ? 1 : 0); }
inline AttrValue encode(double v) { return v; }
inline AttrValue encode(const std::string& v) { return v; }
inline AttrValue encode(const std::vector<int64_t>& v) { return v; }
inline AttrValue encode(const std::vector<double>& v) { return v; }
inline AttrValue encode(AttrSeed v) { return static_cast<int64_t>(v.value); }

template <class T> constexpr const char* typeName() {
  if constexpr (std::is_same_v<T, bool>) return "0 or 1";
  else if constexpr (std::is_same_v<T, int64_t>) return "an integer";
  else if constexpr (std::is_same_v<T, double>) return "a number";
  else if constexpr (std::is_same_v<T, std::string>) return "a word";
  else if constexpr (std::is_same_v<T, std::vector<int64_t>>) return "a list of integers";
  else if constexpr (std::is_same_v<T, std::vector<double>>) return "a list of numbers";
  else return "an integer or a number";
}

inline bool inRange(double x, AttrRange r) {
  switch (r) {
    case AttrRange::Any: return true;
    case AttrRange::Positive: return x > 0;
    case AttrRange::NonNegative: return x >= 0;
    case AttrRange::Rate: return x >= 0 && x < 1;
    case AttrRange::Fraction: return x >= 0 && x <= 1;
    case AttrRange::PositiveFinite: return x > 0 && std::isfinite(x);
  }
  return true;
}
inline const char* rangeText(AttrRange r) {
  switch (r) {
    case AttrRange::Any: return "";
    case AttrRange::Positive: return "positive";
    case AttrRange::NonNegative: return "non-negative";
    case AttrRange::Rate: return "in [0, 1)";
    case AttrRange::Fraction: return "in [0, 1]";
    case AttrRange::PositiveFinite: return "positive and finite";
  }
  return "";
}

template <class T> bool valuesInRange(const T& v, AttrRange r) {
  if constexpr (std::is_same_v<T, std::vector<int64_t>> || std::is_same_v<T, std::vector<double>>) {
    for (auto x : v)
      if (!inRange(static_cast<double>(x), r)) return false;
    return true;
  } else if constexpr (std::is_same_v<T, int64_t> || std::is_same_v<T, double>) {
    return inRange(static_cast<double>(v), r);
  } else {
    return true;
  }
}

inline bool isWord(std::string_view w, std::string_view words) {
  while (!words.empty()) {
    size_t bar = words.find('|');
    if (words.substr(0, bar) == w) return true;
    if (bar == std::string_view::npos) break;
    words.remove_prefix(bar + 1);
  }
  return false;
}
inline std::string wordList(std::string_view words) {
  std::string s;
  for (char c : words) s += c == '|' ? std::string(", ") : std::string(1, c);
  size_t last = s.rfind(", ");
  return last == std::string::npos ? s : s.substr(0, last) + " or " + s.substr(last + 2);
}

// One field's problem in `a`, or "".
template <class S, class M>
std::string checkField(const AttrField<S, M>& f, const Attrs& a) {
  using T = typename Optional<M>::type;
  const AttrValue* v = a.find(f.name);
  const std::string key = std::string("attribute '") + f.name + "'";
  if (!v) return f.required ? "lacks the required " + key : std::string();
  T value{};
  if (!decode(*v, value)) return key + " must be " + typeName<T>() + ", got " + attrValueStr(*v);
  if constexpr (std::is_same_v<T, bool>) {
    if (std::get<int64_t>(*v) != 0 && std::get<int64_t>(*v) != 1) return key + " must be 0 or 1, got " + attrValueStr(*v);
  }
  if constexpr (std::is_same_v<T, std::vector<int64_t>> || std::is_same_v<T, std::vector<double>>) {
    if (f.count && value.size() != f.count)
      return key + " needs " + std::to_string(f.count) + " values, got " + attrValueStr(*v);
  }
  if constexpr (std::is_same_v<T, std::string>) {
    if (f.words && !isWord(value, f.words)) return key + " must be " + wordList(f.words) + ", got '" + value + "'";
  }
  if (!valuesInRange(value, f.range)) return key + " must be " + rangeText(f.range) + ", got " + attrValueStr(*v);
  return {};
}

}  // namespace attr_detail

// The family `S` read from `a`: each present value of the right type, else the member's
// default. Run on verified graphs (checkAttrFields), where required values are present.
// Calls `fn(field)` for each field of family `S`.
template <class S, class Fn>
void forEachAttrField(Fn&& fn) {
  std::apply([&](const auto&... f) { (fn(f), ...); }, S::fields());
}

template <class S>
S readAttrs(const Attrs& a) {
  S s;
  forEachAttrField<S>([&](const auto& field) {
    using M = std::remove_cvref_t<decltype(s.*field.member)>;
    using T = typename attr_detail::Optional<M>::type;
    const AttrValue* v = a.find(field.name);
    T value{};
    if (v && attr_detail::decode(*v, value)) s.*field.member = value;
  });
  return s;
}

// `s` as attributes: required values always, others only when they differ from the default
// (an absent optional is left out).
template <class S>
Attrs writeAttrs(const S& s) {
  Attrs a;
  const S defaults{};
  forEachAttrField<S>([&](const auto& field) {
    using M = std::remove_cvref_t<decltype(s.*field.member)>;
    const M& v = s.*field.member;
    if constexpr (attr_detail::Optional<M>::value) {
      if (v) a.set(field.name, attr_detail::encode(*v));
    } else if (field.required || !(v == defaults.*field.member)) {
      a.set(field.name, attr_detail::encode(v));
    }
  });
  return a;
}

// Whether `a` is a valid instance of family `S`: the first problem ("attribute 'x' ..."), or "".
// A family may add a rule across its fields: `std::string invalid() const`.
template <class S>
std::string checkAttrFields(const Attrs& a) {
  for (const auto& [key, value] : a.entries()) {
    bool known = false;
    std::string takes;
    forEachAttrField<S>([&](const auto& f) {
      known = known || key == f.name;
      takes += (takes.empty() ? "" : ", ") + std::string(f.name);
    });
    if (!known)
      return "attribute '" + key + "' is not one this op takes" +
             (takes.empty() ? std::string(" (it takes none)") : " (it takes " + takes + ")");
  }
  std::string problem;
  forEachAttrField<S>([&](const auto& f) {
    if (problem.empty()) problem = attr_detail::checkField(f, a);
  });
  if constexpr (requires(const S& s) { s.invalid(); }) {
    if (problem.empty()) problem = readAttrs<S>(a).invalid();
  }
  return problem;
}

// What a family's field admits, for tests that enumerate every op's keys.
struct AttrFieldInfo {
  std::string name;
  bool required = false;
  const char* type = "";  // "an integer", "a list of integers", ... (as messages say)
};
template <class S>
std::vector<AttrFieldInfo> attrFieldInfo() {
  std::vector<AttrFieldInfo> fields;
  forEachAttrField<S>([&](const auto& f) {
    using M = std::remove_cvref_t<decltype(std::declval<S&>().*f.member)>;
    fields.push_back({f.name, f.required, attr_detail::typeName<typename attr_detail::Optional<M>::type>()});
  });
  return fields;
}

}  // namespace nnc
