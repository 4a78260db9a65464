// Pooling over [batch, height, width, channels]: maxpool and avgpool (window `size`, `stride`
// defaulting to the window, `valid` or TensorFlow's `same` padding) and global_avgpool. Each
// also pools a sequence [batch, time, channels] along time (one-dimensional windows), as an
// image of height 1.
#include "compiler/ir/ShapeRules.h"
#include "compiler/ir/TypedAttrs.h"
#include "dsl/sema/Builders.h"
#include "dsl/sema/Registry.h"

namespace nnc::sema {

namespace {

const TensorReq kImage{DTypeReq::F32, 3, 4, "an input", "[batch, height, width, channels] or [batch, time, channels]"};

// A sequence's window and stride are one integer each, not [h, w].
bool poolSequenceArgs(Sema& s, const BoundCall& b) {
  for (const char* param : {"size", "stride"}) {
    const BoundArg& a = b.arg(param);
    if (a.given && a.text.find('[') != std::string::npos) {
      s.error(a.loc, "argument '" + std::string(param) + "' of '" + b.callee->name +
                         "' must be one integer for a sequence [batch, time, channels], got " + a.text);
      return false;
    }
  }
  return true;
}

std::optional<NodeId> buildPool(Sema& s, const BoundCall& b) {
  NodeId x = b.tensor("x");
  Shape shape = s.type(x).shape;
  const bool sequence = shape.rank() == 3;
  if (sequence && !poolSequenceArgs(s, b)) return std::nullopt;
  auto [kh, kw] = b.pair("size");
  auto [sh, sw] = b.has("stride") ? b.pair("stride") : std::pair{kh, kw};
  if (sequence) {  // [batch, 1, time, channels], windows 1 x size
    kh = sh = 1;
    std::optional<NodeId> image = s.reshape(x, {shape[0], 1, shape[1], shape[2]}, b.loc);
    if (!image) return std::nullopt;
    x = *image;
    shape = s.type(x).shape;
  }
  std::vector<int64_t> pads = windowPads(b.word("padding") == "same", shape[1], shape[2], kh, kw, sh, sw);
  OpKind op = b.callee->name == "maxpool" ? OpKind::MaxPool : OpKind::AvgPool;
  std::optional<NodeId> y =
      s.emit(op, {x}, WindowAttr{{kh, kw}, {sh, sw}, pads}.attrs(),
             b.loc);
  if (!y || !sequence) return y;
  const Shape& ys = s.type(*y).shape;
  return s.reshape(*y, {ys[0], ys[2], ys[3]}, b.loc);
}

std::optional<NodeId> buildGlobalAvgPool(Sema& s, const BoundCall& b) {
  NodeId x = b.tensor("x");
  std::vector<int64_t> axes = s.type(x).shape.rank() == 4 ? std::vector<int64_t>{1, 2} : std::vector<int64_t>{1};
  return s.emit(OpKind::ReduceMean, {x}, AxesAttr{axes}.attrs(), b.loc);
}

// "MaxPooling1D" over a sequence, "MaxPooling2D" over an image (Keras' names).
std::string poolingKindFor(Sema& s, const BoundCall& b, const std::string& base) {
  return base + (s.type(b.tensor("x")).shape.rank() == 3 ? "1D" : "2D");
}
std::string windowPoolSummaryKind(Sema& s, const BoundCall& b) {
  return poolingKindFor(s, b, b.callee->name == "maxpool" ? "MaxPooling" : "AveragePooling");
}
std::string globalAvgPoolSummaryKind(Sema& s, const BoundCall& b) { return poolingKindFor(s, b, "GlobalAveragePooling"); }

}  // namespace

std::vector<int64_t> windowPads(bool same, int64_t h, int64_t w, int64_t kh, int64_t kw, int64_t sh, int64_t sw) {
  if (!same) return {0, 0, 0, 0};
  auto [top, bottom] = samePadding(h, kh, sh);
  auto [left, right] = samePadding(w, kw, sw);
  return {top, left, bottom, right};
}

void addPoolingOps(Registry& r) {
  for (const char* name : {"maxpool", "avgpool"}) {
    Callable c;
    c.name = name;
    c.params = {spec::tensor("x", kImage), spec::intOrPair("size", spec::required(), spec::atLeast(1)),
                spec::intOrPair("stride", spec::unset(), spec::atLeast(1)),
                spec::word("padding", spec::word("valid"), {"same", "valid"}, "padding")};
    c.build = buildPool;
    c.summaryKindOf = windowPoolSummaryKind;
    r.add(std::move(c));
  }
  Callable g;
  g.name = "global_avgpool";
  g.params = {spec::tensor("x", kImage)};
  g.build = buildGlobalAvgPool;
  g.summaryKindOf = globalAvgPoolSummaryKind;
  r.add(std::move(g));
}

}  // namespace nnc::sema
