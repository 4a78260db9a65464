#include "compiler/ir/Attrs.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace nnc {

void Attrs::set(const std::string& name, AttrValue value) {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), name,
                             [](const auto& e, const std::string& n) { return e.first < n; });
  if (it != entries_.end() && it->first == name)
    it->second = std::move(value);
  else
    entries_.insert(it, {name, std::move(value)});
}

const AttrValue* Attrs::find(const std::string& name) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), name,
                             [](const auto& e, const std::string& n) { return e.first < n; });
  return (it != entries_.end() && it->first == name) ? &it->second : nullptr;
}

int64_t Attrs::getInt(const std::string& name, int64_t fallback) const {
  const AttrValue* v = find(name);
  if (v && std::holds_alternative<int64_t>(*v)) return std::get<int64_t>(*v);
  return fallback;
}

double Attrs::getFloat(const std::string& name, double fallback) const {
  const AttrValue* v = find(name);
  if (v && std::holds_alternative<double>(*v)) return std::get<double>(*v);
  if (v && std::holds_alternative<int64_t>(*v)) return static_cast<double>(std::get<int64_t>(*v));
  return fallback;
}

std::string Attrs::getString(const std::string& name, const std::string& fallback) const {
  const AttrValue* v = find(name);
  if (v && std::holds_alternative<std::string>(*v)) return std::get<std::string>(*v);
  return fallback;
}

std::vector<int64_t> Attrs::getInts(const std::string& name) const {
  const AttrValue* v = find(name);
  if (v && std::holds_alternative<std::vector<int64_t>>(*v)) return std::get<std::vector<int64_t>>(*v);
  return {};
}

std::vector<double> Attrs::getFloats(const std::string& name) const {
  const AttrValue* v = find(name);
  if (v && std::holds_alternative<std::vector<double>>(*v)) return std::get<std::vector<double>>(*v);
  return {};
}

namespace {
std::string floatStr(double d) {
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  if (std::isnan(d)) return "nan";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", d);
  std::string s = buf;
  // Keep floats recognisable as floats.
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}
}  // namespace

std::string attrValueStr(const AttrValue& v) {
  struct {
    std::string operator()(int64_t i) const { return std::to_string(i); }
    std::string operator()(double d) const { return floatStr(d); }
    std::string operator()(const std::string& s) const { return s; }
    std::string operator()(const std::vector<int64_t>& xs) const {
      std::string s = "[";
      for (size_t i = 0; i < xs.size(); ++i) s += (i ? ", " : "") + std::to_string(xs[i]);
      return s + "]";
    }
    std::string operator()(const std::vector<double>& xs) const {
      std::string s = "[";
      for (size_t i = 0; i < xs.size(); ++i) s += (i ? ", " : "") + floatStr(xs[i]);
      return s + "]";
    }
  } visit;
  return std::visit(visit, v);
}

}  // namespace nnc
