#pragma once
// Named, typed attributes of IR nodes (strides, axes, rates, ...). Kept sorted by name so
// that printing and hashing are deterministic.
#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace nnc {

using AttrValue = std::variant<int64_t, double, std::string, std::vector<int64_t>, std::vector<double>>;

class Attrs {
 public:
  Attrs() = default;
  Attrs(std::initializer_list<std::pair<std::string, AttrValue>> init) {
    for (auto& [k, v] : init) set(k, v);
  }

  void set(const std::string& name, AttrValue value);
  bool has(const std::string& name) const { return find(name) != nullptr; }
  const AttrValue* find(const std::string& name) const;

  // Typed getters returning `fallback` when the attribute is absent or of another type.
  int64_t getInt(const std::string& name, int64_t fallback = 0) const;
  double getFloat(const std::string& name, double fallback = 0) const;  // accepts ints too
  std::string getString(const std::string& name, const std::string& fallback = {}) const;
  std::vector<int64_t> getInts(const std::string& name) const;
  std::vector<double> getFloats(const std::string& name) const;

  const std::vector<std::pair<std::string, AttrValue>>& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }
  friend bool operator==(const Attrs&, const Attrs&) = default;

 private:
  std::vector<std::pair<std::string, AttrValue>> entries_;
};

// "name=value" text of one attribute value, as the IR printer shows it.
std::string attrValueStr(const AttrValue& v);

}  // namespace nnc
