// Image operations without parameters beyond pooling: upsample (nearest or bilinear, integer
// factors per axis), pad (constant or reflect) and global_maxpool. Each takes an image
// [batch, height, width, channels] or a sequence [batch, time, channels], which runs as an
// image of height 1 (factors, pads and windows then apply to the time axis).
#include <string>

#include "compiler/ir/TypedAttrs.h"
#include "dsl/sema/Builders.h"
#include "dsl/sema/Registry.h"

namespace nnc::sema {

namespace {

const TensorReq kImageOrSequence{DTypeReq::F32, 3, 4, "an input",
                                 "[batch, height, width, channels] or [batch, time, channels]"};

// x as an image: a sequence [batch, time, channels] becomes [batch, 1, time, channels].
std::optional<NodeId> asImage(Sema& s, NodeId x, SourceLoc loc) {
  std::vector<int64_t> d = s.type(x).shape.dims;
  if (d.size() == 4) return x;
  return s.reshape(x, {d[0], 1, d[1], d[2]}, loc);
}

// An image result back in x's form (a sequence drops the height of 1).
std::optional<NodeId> likeInput(Sema& s, NodeId x, std::optional<NodeId> y, SourceLoc loc) {
  if (!y || s.type(x).shape.rank() == 4) return y;
  std::vector<int64_t> d = s.type(*y).shape.dims;
  return s.reshape(*y, {d[0], d[2], d[3]}, loc);
}

// A sequence takes one number per axis it has: an integer, not [h, w].
bool sequenceTakesOne(Sema& s, const BoundCall& b, NodeId x, const char* param) {
  const BoundArg& a = b.arg(param);
  if (s.type(x).shape.rank() == 3 && a.given && a.ints.size() == 2 && a.text.find('[') != std::string::npos) {
    s.error(a.loc, "argument '" + std::string(param) + "' of '" + b.callee->name +
                       "' must be one integer for a sequence [batch, time, channels], got " + a.text);
    return false;
  }
  return true;
}

std::optional<NodeId> buildUpsample(Sema& s, const BoundCall& b) {
  NodeId x = b.tensor("x");
  if (!sequenceTakesOne(s, b, x, "size")) return std::nullopt;
  auto [fh, fw] = b.pair("size");
  if (s.type(x).shape.rank() == 3) fh = 1;
  std::optional<NodeId> image = asImage(s, x, b.loc);
  if (!image) return std::nullopt;
  std::optional<NodeId> y = s.emit(OpKind::Upsample, {*image},
                                   ResampleAttr{{fh, fw}, b.word("mode")}.attrs(), b.loc);
  return likeInput(s, x, y, b.loc);
}

std::optional<NodeId> buildPad(Sema& s, const BoundCall& b) {
  NodeId x = b.tensor("x");
  const Shape shape = s.type(x).shape;
  const BoundArg& arg = b.arg("padding");
  const bool sequence = shape.rank() == 3;
  std::vector<int64_t> p = arg.ints;  // [top, bottom, left, right], or [left, right] for a sequence
  if (p.size() == 1) p = std::vector<int64_t>(sequence ? 2 : 4, p[0]);
  if (p.size() != (sequence ? 2u : 4u)) {
    s.error(arg.loc, std::string("argument 'padding' of 'pad' needs ") +
                         (sequence ? "one pair [[left, right]] for a sequence" : "two pairs [[top, bottom], [left, right]]") +
                         ", got " + arg.text);
    return std::nullopt;
  }
  if (sequence) p.insert(p.begin(), {0, 0});
  const bool reflect = b.word("mode") == "reflect";
  if (reflect) {
    const char* names[] = {"top", "bottom", "left", "right"};
    for (size_t i = sequence ? 2 : 0; i < 4; ++i) {
      int64_t side = shape[sequence ? 1 : 1 + i / 2];
      if (p[i] >= side) {
        s.error(arg.loc, "reflect padding " + std::string(names[i]) + " = " + std::to_string(p[i]) +
                             " must be smaller than the input's " + (sequence ? "length" : i < 2 ? "height" : "width") +
                             " " + std::to_string(side) + " (the edge cell is not repeated)");
        return std::nullopt;
      }
    }
  }
  std::optional<NodeId> image = asImage(s, x, b.loc);
  if (!image) return std::nullopt;
  std::optional<NodeId> y = s.emit(OpKind::Pad, {*image},
                                   PadAttr{{p[0], p[2], p[1], p[3]}, b.word("mode"), b.number("value")}.attrs(),
                                   b.loc);
  return likeInput(s, x, y, b.loc);
}

std::optional<NodeId> buildGlobalMaxPool(Sema& s, const BoundCall& b) {
  NodeId x = b.tensor("x");
  std::vector<int64_t> axes = s.type(x).shape.rank() == 4 ? std::vector<int64_t>{1, 2} : std::vector<int64_t>{1};
  return s.emit(OpKind::ReduceMax, {x}, AxesAttr{axes}.attrs(), b.loc);
}

// Summary kinds name the form taken, as Keras' layers do: "UpSampling1D" for a sequence,
// "UpSampling2D" for an image.
std::string imageOpKindFor(Sema& s, const BoundCall& b, const std::string& base) {
  return base + (s.type(b.tensor("x")).shape.rank() == 3 ? "1D" : "2D");
}
std::string upsampleSummaryKind(Sema& s, const BoundCall& b) { return imageOpKindFor(s, b, "UpSampling"); }
std::string globalMaxPoolSummaryKind(Sema& s, const BoundCall& b) { return imageOpKindFor(s, b, "GlobalMaxPooling"); }
// Keras' ZeroPadding for zeros; reflect mode and other constants are PyTorch's
// ReflectionPad / ConstantPad, in the same form.
std::string padSummaryKind(Sema& s, const BoundCall& b) {
  if (b.word("mode") == "reflect") return imageOpKindFor(s, b, "ReflectionPadding");
  return imageOpKindFor(s, b, b.number("value") == 0 ? "ZeroPadding" : "ConstantPadding");
}

Callable imageOp(const char* name, std::vector<ParamSpec> params, TensorBuilder build, SummaryKindOf kind) {
  Callable c;
  c.name = name;
  c.params = std::move(params);
  c.build = build;
  c.summaryKindOf = kind;
  return c;
}

}  // namespace

void addImageOps(Registry& r) {
  r.add(imageOp("upsample",
                {spec::tensor("x", kImageOrSequence), spec::intOrPair("size", spec::num(2), spec::between(1, 1024)),
                 spec::word("mode", spec::word("nearest"), {"nearest", "bilinear"}, "upsampling mode")},
                buildUpsample, upsampleSummaryKind));
  r.add(imageOp("pad",
                {spec::tensor("x", kImageOrSequence), spec::intPairs("padding", spec::required(), spec::between(0, kMaxWindow)),
                 spec::word("mode", spec::word("constant"), {"constant", "reflect"}, "padding mode"),
                 spec::number("value", spec::num(0))},
                buildPad, padSummaryKind));
  r.add(imageOp("global_maxpool", {spec::tensor("x", kImageOrSequence)}, buildGlobalMaxPool, globalMaxPoolSummaryKind));
}

}  // namespace nnc::sema
