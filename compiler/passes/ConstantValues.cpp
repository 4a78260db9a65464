#include "compiler/passes/ConstantValues.h"

#include <bit>
#include <variant>

#include "compiler/ir/TypedAttrs.h"

namespace nnc {

namespace {
bool sameBits(double a, double b) { return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b); }
}  // namespace

std::optional<double> constantFill(const Node& n) {
  if (n.op != OpKind::Constant) return std::nullopt;
  const ConstantAttr c = ConstantAttr::of(n);
  if (c.value) return c.value;
  std::vector<double> values = c.values.value_or(std::vector<double>{});
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
  return ConstantAttr{std::nullopt, values}.attrs();
}

}  // namespace nnc
