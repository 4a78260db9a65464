#pragma once
// The train block's optimizer, typed: one struct of hyperparameters per optimizer, whose
// member initialisers are LANGUAGE.md's defaults (torch.optim's, except eps = 1e-7). The
// DSL's signatures (dsl/sema/Optimizers.cpp) and the update rules (compiler/train/) read
// them from here, so each default is written once.
#include <array>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace nnc {

struct SgdHyper {
  double lr = 0.01, momentum = 0;
  bool nesterov = false;
};
struct AdamHyper {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-7;
};
struct AdadeltaHyper {
  double lr = 1.0, rho = 0.95, eps = 1e-7;
};
struct RmspropHyper {
  double lr = 1e-3, rho = 0.9, momentum = 0, eps = 1e-7;
};
struct AdagradHyper {
  double lr = 1e-3, initial = 0.1, eps = 1e-7;  // initial: the accumulator's starting value
};

// The variant's alternatives in OptimizerKind's order.
enum class OptimizerKind { Sgd, Adam, Adadelta, Rmsprop, Adagrad };
using OptimizerHyper = std::variant<SgdHyper, AdamHyper, AdadeltaHyper, RmspropHyper, AdagradHyper>;
inline constexpr std::array<std::string_view, 5> kOptimizerNames = {"sgd", "adam", "adadelta", "rmsprop", "adagrad"};

// One hyperparameter of H by its `.nn` name; booleans read and write as 0/1.
template <class H>
struct HyperField {
  std::string_view name;
  std::variant<double H::*, bool H::*> member;
  double get(const H& h) const {
    return std::visit([&](auto m) { return static_cast<double>(h.*m); }, member);
  }
  void set(H& h, double v) const {
    std::visit([&](auto m) { h.*m = static_cast<std::remove_reference_t<decltype(h.*m)>>(v); }, member);
  }
};

// Every hyperparameter of H, named as the `.nn` call names it.
template <class H>
const auto& hyperFields();
template <>
inline const auto& hyperFields<SgdHyper>() {
  using H = SgdHyper;
  static const std::array<HyperField<H>, 3> f{{{"lr", &H::lr}, {"momentum", &H::momentum}, {"nesterov", &H::nesterov}}};
  return f;
}
template <>
inline const auto& hyperFields<AdamHyper>() {
  using H = AdamHyper;
  static const std::array<HyperField<H>, 4> f{{{"lr", &H::lr}, {"beta1", &H::beta1}, {"beta2", &H::beta2}, {"eps", &H::eps}}};
  return f;
}
template <>
inline const auto& hyperFields<AdadeltaHyper>() {
  using H = AdadeltaHyper;
  static const std::array<HyperField<H>, 3> f{{{"lr", &H::lr}, {"rho", &H::rho}, {"eps", &H::eps}}};
  return f;
}
template <>
inline const auto& hyperFields<RmspropHyper>() {
  using H = RmspropHyper;
  static const std::array<HyperField<H>, 4> f{
      {{"lr", &H::lr}, {"rho", &H::rho}, {"momentum", &H::momentum}, {"eps", &H::eps}}};
  return f;
}
template <>
inline const auto& hyperFields<AdagradHyper>() {
  using H = AdagradHyper;
  static const std::array<HyperField<H>, 3> f{{{"lr", &H::lr}, {"initial", &H::initial}, {"eps", &H::eps}}};
  return f;
}

struct OptimizerConfig {
  OptimizerHyper hyper;  // SgdHyper{} unless the train block names another

  OptimizerKind kind() const { return static_cast<OptimizerKind>(hyper.index()); }
  std::string_view name() const { return kOptimizerNames[hyper.index()]; }
  double lr() const {
    return std::visit([](const auto& h) { return h.lr; }, hyper);
  }
  void setLr(double lr) {
    std::visit([&](auto& h) { h.lr = lr; }, hyper);
  }
  // Sets the hyperparameter `name`; false when this optimizer has none of that name.
  bool set(std::string_view name, double value) {
    return std::visit(
        [&](auto& h) {
          for (const auto& f : hyperFields<std::decay_t<decltype(h)>>())
            if (f.name == name) return f.set(h, value), true;
          return false;
        },
        hyper);
  }
  // Calls fn(name, value) for every hyperparameter, in the `.nn` call's order.
  template <class Fn>
  void forEach(Fn&& fn) const {
    std::visit(
        [&](const auto& h) {
          for (const auto& f : hyperFields<std::decay_t<decltype(h)>>()) fn(f.name, f.get(h));
        },
        hyper);
  }
};

static_assert(std::variant_size_v<OptimizerHyper> == kOptimizerNames.size());

template <size_t... I>
OptimizerHyper defaultOptimizerHyper(size_t index, std::index_sequence<I...>) {
  OptimizerHyper out;
  ((index == I ? (out = std::variant_alternative_t<I, OptimizerHyper>{}, 0) : 0), ...);
  return out;
}

// The optimizer of that `.nn` name with its default hyperparameters, or nothing.
inline std::optional<OptimizerConfig> optimizerNamed(std::string_view name) {
  for (size_t i = 0; i < kOptimizerNames.size(); ++i)
    if (kOptimizerNames[i] == name)
      return OptimizerConfig{defaultOptimizerHyper(i, std::make_index_sequence<kOptimizerNames.size()>{})};
  return std::nullopt;
}

}  // namespace nnc
