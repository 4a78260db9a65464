#pragma once
// Helpers shared by the builders of the per-family tables (Layers.cpp, Pooling.cpp, ...).
#include <optional>
#include <string>
#include <vector>

#include "dsl/sema/Sema.h"
#include "dsl/sema/Signature.h"

namespace nnc::sema {

// What a Param/State leaf's `init` and `init_args` attributes say.
struct InitSpec {
  std::string name;
  std::vector<double> args;
};

// Emits a chain of ops for one call, stopping at the first refusal (reported at the call):
// builders of multi-op expansions read straight through instead of checking every step.
class Emitter {
 public:
  Emitter(Sema& s, SourceLoc loc) : s_(s), loc_(loc) {}
  NodeId operator()(OpKind op, std::vector<NodeId> inputs, Attrs attrs = {}) {
    if (!ok_) return kNoNode;
    std::optional<NodeId> id = s_.emit(op, std::move(inputs), std::move(attrs), loc_);
    ok_ = id.has_value();
    return id.value_or(kNoNode);
  }
  // Leaves made elsewhere (parameters) that may have failed.
  NodeId use(std::optional<NodeId> id) {
    ok_ = ok_ && id.has_value();
    return id.value_or(kNoNode);
  }
  // A parameter of `layer` ("<layer name>.<suffix>"); after a refusal nothing more is
  // created, so a clashing layer name is reported once, not once per parameter.
  NodeId param(const BoundCall& layer, const std::string& suffix, const Shape& shape, const InitSpec& init,
               OpKind kind = OpKind::Param);
  bool ok() const { return ok_; }
  std::optional<NodeId> result(NodeId id) const { return ok_ ? std::optional<NodeId>(id) : std::nullopt; }

 private:
  Sema& s_;
  SourceLoc loc_;
  bool ok_ = true;
};

// Upper bounds on sizes written in a model (units, filters, windows): far beyond any real
// model, and small enough that products of two of them cannot overflow.
inline constexpr double kMaxUnits = 1e9;
inline constexpr double kMaxWindow = 1e6;

// The initializer call bound to an `init =` argument or a `param` declaration.
InitSpec initSpec(const BoundCall& init);

// The callable of a layer (a call that creates parameters), with its `nnc summary` kind.
Callable layer(const char* name, std::vector<ParamSpec> params, TensorBuilder build, const char* kind);

// A parameter of a layer: "<layer name>.<suffix>".
std::optional<NodeId> layerParam(Sema& s, const BoundCall& layer, const std::string& suffix, const Shape& shape,
                                 const InitSpec& init, OpKind kind = OpKind::Param);

// x @ W + b on the last axis of x, W [in, units] named "<layer>.weight" (dense and maxout).
std::optional<NodeId> affine(Sema& s, const BoundCall& layer, NodeId x, int64_t units, bool bias,
                             const InitSpec& init);

// A possibly negative axis argument normalised against `x`'s rank; reports when out of range.
std::optional<int64_t> axisArg(Sema& s, const BoundCall& b, const char* param, NodeId x);
// Normalised, sorted axes of a reduction; all axes when the argument is absent.
std::optional<std::vector<int64_t>> axesArg(Sema& s, const BoundCall& b, const char* param, NodeId x);

// Pads [top, left, bottom, right] of a window op: TensorFlow's `same`, or none for `valid`.
std::vector<int64_t> windowPads(bool same, int64_t h, int64_t w, int64_t kh, int64_t kw, int64_t sh, int64_t sw);

// The Conv2D attributes of a convolution layer over an image of `shape` with a kh x kw filter:
// its `stride`, `padding` and `dilation` arguments (TensorFlow's `same`: the padding of the
// dilated window (k - 1) * d + 1) and `groups` (ConvLayers.cpp).
Attrs convAttrs(const BoundCall& b, const Shape& shape, int64_t kh, int64_t kw, int64_t groups);

}  // namespace nnc::sema
