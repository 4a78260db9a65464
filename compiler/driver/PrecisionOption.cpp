#include "compiler/driver/PrecisionOption.h"

#include <string>

namespace nnc::driver {

namespace {
std::string& requestedPrecision() {
  static std::string value;  // empty: not given
  return value;
}
}  // namespace

void addPrecisionOption(CLI::App& app) {
  // A bad value is a usage error (exit 2), as CLI11 reports every option it refuses.
  app.add_option("--precision", requestedPrecision(),
                 "Products in f32, or bf16 mixed precision (overrides the train block's precision)")
      ->check(CLI::IsMember({"f32", "bf16"}))
      ->type_name("f32|bf16");
}

void applyPrecisionOption(Model& model) {
  const std::string& p = requestedPrecision();
  if (p == "bf16") model.precision = ProductPrecision::BF16;
  if (p == "f32") model.precision = ProductPrecision::F32;
}

}  // namespace nnc::driver
