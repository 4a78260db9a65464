#include "compiler/train/Initializers.h"

#include <cmath>
#include <functional>

#include "support/Philox.h"
#include "compiler/ir/TypedAttrs.h"

namespace nnc {

namespace {

constexpr double kTruncatedNormalStd = .87962566103423978;  // std of N(0,1) truncated to [-2, 2]
constexpr int kMaxRedraws = 64;  // P(64 draws all beyond 2 std) ~ 1e-86: termination guard

bool endsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

struct Stream {
  uint64_t seed, salt;
  double uniform(uint64_t draw, int64_t index) const {
    return philoxUniform(seed, salt, draw, static_cast<uint64_t>(index));
  }
  // A unit normal by Box-Muller from the draw pair (2j, 2j+1); 1 - u is in (0, 1].
  double normal(uint64_t j, int64_t index) const {
    double u1 = 1.0 - uniform(2 * j, index), u2 = uniform(2 * j + 1, index);
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
  }
  double truncatedNormal(int64_t index) const {
    for (int j = 0; j < kMaxRedraws; ++j) {
      double z = normal(static_cast<uint64_t>(j), index);
      if (std::fabs(z) <= 2.0) return z;
    }
    return 0.0;
  }
};

Result<void> expectArgs(const std::string& init, const std::vector<double>& args, size_t n, const Node& leaf) {
  if (args.size() != n)
    return makeError("initializer '" + init + "' of '" + leaf.name + "' needs " + std::to_string(n) + " argument" +
                         (n == 1 ? "" : "s") + ", got " + std::to_string(args.size()),
                     leaf.loc);
  return {};
}

std::string defaultInit(const Node& leaf) {
  if (leaf.op == OpKind::Param) return leaf.type.shape.rank() >= 2 ? "glorot_uniform" : "zeros";
  return endsWith(leaf.name, "running_var") ? "ones" : "zeros";
}

}  // namespace

uint64_t fnv1a64(const std::string& text) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

Fans computeFans(const Shape& s) {
  const size_t r = s.rank();
  if (r == 0) return {1, 1};
  if (r == 1) return {double(s[0]), double(s[0])};
  double receptive = 1;
  for (size_t i = 0; i + 2 < r; ++i) receptive *= double(s[i]);
  return {double(s[r - 2]) * receptive, double(s[r - 1]) * receptive};
}

Result<Tensor> initialValue(const Node& leaf, uint64_t seed) {
  for (int64_t d : leaf.type.shape.dims)
    if (d < 0) return makeError("cannot initialise '" + leaf.name + "' of type " + leaf.type.str() + ": its shape is not static", leaf.loc);
  Tensor t(leaf.type.dtype, leaf.type.shape.dims);
  const InitAttr ia = InitAttr::of(leaf);
  std::string init = ia.init.value_or(defaultInit(leaf));
  std::vector<double> args = ia.args;
  Stream rng{seed, fnv1a64(leaf.name)};
  Fans fans = computeFans(leaf.type.shape);

  std::function<double(int64_t)> value;
  if (init == "zeros") {
    value = [](int64_t) { return 0.0; };
  } else if (init == "ones" || init == "class_weights") {  // class weights: the runtime fills them in
    value = [](int64_t) { return 1.0; };
  } else if (init == "values") {  // imported weights (ONNX initializers), row-major
    if (static_cast<int64_t>(args.size()) != t.size())
      return makeError("'" + leaf.name + "' holds " + std::to_string(args.size()) + " values for " +
                           std::to_string(t.size()) + " elements",
                       leaf.loc);
    value = [&args](int64_t i) { return args[static_cast<size_t>(i)]; };
  } else if (init == "constant") {
    NNC_TRY(expectArgs(init, args, 1, leaf));
    value = [v = args[0]](int64_t) { return v; };
  } else if (init == "uniform" || init == "glorot_uniform" || init == "he_uniform") {
    double lo, hi;
    if (init == "uniform") {
      NNC_TRY(expectArgs(init, args, 2, leaf));
      lo = args[0], hi = args[1];
    } else {
      hi = std::sqrt(6.0 / (init == "he_uniform" ? fans.in : fans.in + fans.out));
      lo = -hi;
    }
    value = [=](int64_t i) { return lo + (hi - lo) * rng.uniform(0, i); };
  } else if (init == "normal") {
    NNC_TRY(expectArgs(init, args, 2, leaf));
    value = [=](int64_t i) { return args[0] + args[1] * rng.normal(0, i); };
  } else if (init == "glorot_normal" || init == "he_normal") {
    double stddev = std::sqrt(2.0 / (init == "he_normal" ? fans.in : fans.in + fans.out)) / kTruncatedNormalStd;
    value = [=](int64_t i) { return stddev * rng.truncatedNormal(i); };
  } else {
    return makeError("unknown initializer '" + init + "' for '" + leaf.name + "'", leaf.loc);
  }
  bool integer = leaf.type.dtype == DType::I32;
  bool single = leaf.type.dtype == DType::F32;
  for (int64_t i = 0; i < t.size(); ++i) {
    double v = value(i);
    if (integer) v = std::trunc(v);
    if (single) v = static_cast<double>(static_cast<float>(v));  // an f32 leaf holds f32 values
    t.data[static_cast<size_t>(i)] = v;
  }
  return t;
}

Result<LeafValues> initialValues(const Graph& g, uint64_t seed) {
  LeafValues values;
  for (size_t i = 0; i < g.size(); ++i) {
    const Node& n = g.nodes()[i];
    if (n.op != OpKind::Param && n.op != OpKind::State) continue;
    Result<Tensor> t = initialValue(n, seed);
    if (!t) return t.error();
    values.emplace(static_cast<NodeId>(i), std::move(*t));
  }
  return values;
}

}  // namespace nnc
