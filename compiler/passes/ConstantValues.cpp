#include "compiler/passes/ConstantValues.h"

#include <bit>
#include <variant>

namespace nnc {

namespace {
bool sameBits(double a, double b) { return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b); }
}  // namespace

std::optional<double> constantFill(const Node& n) {
  if (n.op != OpKind::Constant) return std::nullopt;
  if (const AttrValue* v = n.attrs.find("value")) {
    if (std::holds_alternative<double>(*v)) return std::get<double>(*v);
    if (std::holds_alternative<int64_t>(*v)) return static_cast<double>(std::get<int64_t>(*v));
    return std::nullopt;
  }
  std::vector<double> values = n.attrs.getFloats("values");
  if (values.empty()) return std::nullopt;
  for (double x : values)
    if (!sameBits(x, values[0])) return std::nullopt;
  return values[0];
}

Attrs constantAttrs(const std::vector<double>& values) {
  bool uniform = !values.empty();
  for (double x : values)
    if (!sameBits(x, values[0])) uniform = false;
  if (uniform) return fillAttrs(values[0]);
  return Attrs{{"values", values}};
}

}  // namespace nnc
