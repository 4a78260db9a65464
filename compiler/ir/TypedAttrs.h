#pragma once
// The typed attribute families (in the spirit of Halide's IR.h): one small struct per family
// that the op registry names (Ops.def's Attr column, AttrFamily in Op.h), its defaults written
// once as member initializers. Read a node's attributes with `XAttr::of(node)` and build them
// with `XAttr{...}.attrs()`; the verifier (AttrSchema.h) checks every node's attributes against
// its op's family, so a reader of a verified graph never meets a missing required value.
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "compiler/ir/AttrFields.h"
#include "compiler/ir/Graph.h"
#include "compiler/ir/Window.h"

namespace nnc {

// The typed read and write every family has.
#define NNC_ATTR_FAMILY(S)                                             \
  static S of(const Attrs& a) { return readAttrs<S>(a); }              \
  static S of(const Node& n) { return readAttrs<S>(n.attrs); }         \
  Attrs attrs() const { return writeAttrs(*this); }                    \
  friend bool operator==(const S&, const S&) = default;

struct NoAttrsAttr {
  static constexpr auto fields() { return std::tuple<>{}; }
  NNC_ATTR_FAMILY(NoAttrsAttr)
};

// leaky_relu, elu: the row's default (OpInfo::alphaDefault) when absent.
struct AlphaAttr {
  std::optional<double> alpha;
  double value(OpKind op) const { return alpha.value_or(opInfo(op).alphaDefault); }
  static constexpr auto fields() { return std::tuple{attrField("alpha", &AlphaAttr::alpha)}; }
  NNC_ATTR_FAMILY(AlphaAttr)
};

// Param and State leaves: the initializer (train/Initializers.h) and its arguments; absent,
// the leaf's kind chooses (defaultInit).
struct InitAttr {
  std::optional<std::string> init;
  std::vector<double> args;
  static constexpr auto fields() {
    return std::tuple{attrField("init", &InitAttr::init), attrField("init_args", &InitAttr::args)};
  }
  NNC_ATTR_FAMILY(InitAttr)
};

// Constant: a fill `value`, or row-major `values`; exactly one.
struct ConstantAttr {
  std::optional<double> value;
  std::optional<std::vector<double>> values;
  bool isFill() const { return !values.has_value(); }
  std::string invalid() const {
    if (value.has_value() == values.has_value()) return "a constant needs exactly one of attributes 'value' and 'values'";
    return {};
  }
  static constexpr auto fields() {
    return std::tuple{attrField("value", &ConstantAttr::value), attrField("values", &ConstantAttr::values)};
  }
  NNC_ATTR_FAMILY(ConstantAttr)
};

// cast: the target dtype.
struct DTypeAttr {
  std::string dtype;
  static constexpr auto fields() { return std::tuple{attrField("dtype", &DTypeAttr::dtype).need().oneOf("f32|i32")}; }
  NNC_ATTR_FAMILY(DTypeAttr)
};

// reshape, broadcast_to: the target shape (batch = -1 first).
struct ShapeAttr {
  std::vector<int64_t> shape;
  static constexpr auto fields() { return std::tuple{attrField("shape", &ShapeAttr::shape).need()}; }
  NNC_ATTR_FAMILY(ShapeAttr)
};

// Reductions and element_count: the reduced axes (normalised, sorted) and keepdims.
struct AxesAttr {
  std::vector<int64_t> axes;
  bool keepdims = false;
  static constexpr auto fields() {
    return std::tuple{attrField("axes", &AxesAttr::axes).need(), attrField("keepdims", &AxesAttr::keepdims)};
  }
  NNC_ATTR_FAMILY(AxesAttr)
};

// argmax, concat, softmax, log_softmax: one axis, the last by default.
struct AxisAttr {
  int64_t axis = -1;
  static constexpr auto fields() { return std::tuple{attrField("axis", &AxisAttr::axis)}; }
  NNC_ATTR_FAMILY(AxisAttr)
};

struct PermAttr {
  std::vector<int64_t> perm;
  static constexpr auto fields() { return std::tuple{attrField("perm", &PermAttr::perm).need()}; }
  NNC_ATTR_FAMILY(PermAttr)
};

// slice: [begin, end) of one axis, step 1.
struct SliceAttr {
  int64_t axis = 0, begin = 0, end = 0;
  static constexpr auto fields() {
    return std::tuple{attrField("axis", &SliceAttr::axis).need(), attrField("begin", &SliceAttr::begin).need(),
                      attrField("end", &SliceAttr::end).need()};
  }
  NNC_ATTR_FAMILY(SliceAttr)
};

// one_hot's classes, embedding_grad's vocabulary.
struct DepthAttr {
  int64_t depth = 0;
  static constexpr auto fields() {
    return std::tuple{attrField("depth", &DepthAttr::depth).need().in(AttrRange::Positive)};
  }
  NNC_ATTR_FAMILY(DepthAttr)
};

struct MatMulTransposeAttr {
  bool transA = false, transB = false;
  static constexpr auto fields() {
    return std::tuple{attrField("transpose_a", &MatMulTransposeAttr::transA),
                      attrField("transpose_b", &MatMulTransposeAttr::transB)};
  }
  NNC_ATTR_FAMILY(MatMulTransposeAttr)
};

// The input's [h, w], which a gradient op (conv2d_grad_input, avgpool_grad, upsample_grad,
// pad_grad) cannot infer from its output gradient: a part of those families.
struct InputHwAttr {
  std::vector<int64_t> inputHw;
  static constexpr auto fields() {
    return std::tuple{attrField("input_hw", &InputHwAttr::inputHw).need().length(2).in(AttrRange::Positive)};
  }
  NNC_ATTR_FAMILY(InputHwAttr)
};

// A window from checked lists (a list of another length, which the verifier refuses, leaves
// the window's defaults).
inline Window windowOf(const std::vector<int64_t>& size, const std::vector<int64_t>& strides,
                       const std::vector<int64_t>& pads) {
  Window w;
  if (size.size() == 2) w.kh = size[0], w.kw = size[1];
  if (strides.size() == 2) w.sh = strides[0], w.sw = strides[1];
  if (pads.size() == 4) w.pt = pads[0], w.pl = pads[1], w.pb = pads[2], w.pr = pads[3];
  return w;
}

// conv2d: strides [sh, sw], pads [top, left, bottom, right], dilations [dh, dw], groups (the
// input channels and filters split into that many equal runs, run g of the filters reading
// only run g of the channels). The window size is the filter's.
struct ConvAttr {
  std::vector<int64_t> strides, pads;
  std::vector<int64_t> dilations{1, 1};
  int64_t groups = 1;
  Window window(int64_t kh, int64_t kw) const {
    Window w = windowOf({kh, kw}, strides, pads);
    if (dilations.size() == 2) w.dh = dilations[0], w.dw = dilations[1];
    return w;
  }
  static constexpr auto fields() {
    return std::tuple{attrField("strides", &ConvAttr::strides).need().length(2).in(AttrRange::Positive),
                      attrField("pads", &ConvAttr::pads).need().length(4).in(AttrRange::NonNegative),
                      attrField("dilations", &ConvAttr::dilations).length(2).in(AttrRange::Positive),
                      attrField("groups", &ConvAttr::groups).in(AttrRange::Positive)};
  }
  NNC_ATTR_FAMILY(ConvAttr)
};
// conv2d_grad_input (and conv2d_transpose's forward): also the input's [h, w].
struct ConvGradInputAttr : ConvAttr, InputHwAttr {
  static constexpr auto fields() { return std::tuple_cat(ConvAttr::fields(), InputHwAttr::fields()); }
  NNC_ATTR_FAMILY(ConvGradInputAttr)
};
// conv2d_grad_filter: also the filter's [kh, kw].
struct ConvGradFilterAttr : ConvAttr {
  std::vector<int64_t> kernel;
  static constexpr auto fields() {
    return std::tuple_cat(ConvAttr::fields(), std::tuple{attrField("kernel", &ConvGradFilterAttr::kernel)
                                                             .need().length(2).in(AttrRange::Positive)});
  }
  NNC_ATTR_FAMILY(ConvGradFilterAttr)
};

// maxpool, maxpool_grad, avgpool: window [kh, kw], strides, pads.
struct WindowAttr {
  std::vector<int64_t> window, strides, pads;
  Window geometry() const { return windowOf(window, strides, pads); }
  static constexpr auto fields() {
    return std::tuple{attrField("window", &WindowAttr::window).need().length(2).in(AttrRange::Positive),
                      attrField("strides", &WindowAttr::strides).need().length(2).in(AttrRange::Positive),
                      attrField("pads", &WindowAttr::pads).need().length(4).in(AttrRange::NonNegative)};
  }
  NNC_ATTR_FAMILY(WindowAttr)
};
// avgpool_grad: also the input's [h, w].
struct WindowGradAttr : WindowAttr, InputHwAttr {
  static constexpr auto fields() { return std::tuple_cat(WindowAttr::fields(), InputHwAttr::fields()); }
  NNC_ATTR_FAMILY(WindowGradAttr)
};

// dropout: its rate.
struct RateAttr {
  double rate = 0;
  static constexpr auto fields() { return std::tuple{attrField("rate", &RateAttr::rate).need().in(AttrRange::Rate)}; }
  NNC_ATTR_FAMILY(RateAttr)
};
// dropout_mask: the rate (absent: a run-time operand, OpAttrs.h) and the random stream's key.
struct DropoutMaskAttr {
  std::optional<double> rate;
  AttrSeed seed, salt;
  static constexpr auto fields() {
    return std::tuple{attrField("rate", &DropoutMaskAttr::rate).in(AttrRange::Rate), attrField("seed", &DropoutMaskAttr::seed),
                      attrField("salt", &DropoutMaskAttr::salt)};
  }
  NNC_ATTR_FAMILY(DropoutMaskAttr)
};

struct BatchNormAttr {
  double momentum = 0.99, eps = 1e-3;
  static constexpr auto fields() {
    return std::tuple{attrField("momentum", &BatchNormAttr::momentum).in(AttrRange::Fraction),
                      attrField("eps", &BatchNormAttr::eps).in(AttrRange::NonNegative)};
  }
  NNC_ATTR_FAMILY(BatchNormAttr)
};

// recurrence, recurrence_grad (RecurrentCell.h makes the cell of them).
struct RecurrentAttr {
  std::string cell;
  int64_t units = 0;
  bool reverse = false;
  std::string activation = "tanh";  // rnn only: an elementwise activation's name, or none
  std::optional<double> alpha;       // the activation's alpha (AlphaAttr), when it has one
  static constexpr auto fields() {
    return std::tuple{attrField("cell", &RecurrentAttr::cell).need().oneOf("rnn|lstm|gru"),
                      attrField("units", &RecurrentAttr::units).need().in(AttrRange::Positive),
                      attrField("reverse", &RecurrentAttr::reverse), attrField("activation", &RecurrentAttr::activation),
                      attrField("alpha", &RecurrentAttr::alpha)};
  }
  NNC_ATTR_FAMILY(RecurrentAttr)
};

// upsample: integer factors [sh, sw] and the interpolation.
struct ResampleAttr {
  std::vector<int64_t> scale;
  std::string mode;
  bool bilinear() const { return mode == "bilinear"; }
  static constexpr auto fields() {
    return std::tuple{attrField("scale", &ResampleAttr::scale).need().length(2).in(AttrRange::Positive),
                      attrField("mode", &ResampleAttr::mode).need().oneOf("nearest|bilinear")};
  }
  NNC_ATTR_FAMILY(ResampleAttr)
};
struct ResampleGradAttr : ResampleAttr, InputHwAttr {
  static constexpr auto fields() { return std::tuple_cat(ResampleAttr::fields(), InputHwAttr::fields()); }
  NNC_ATTR_FAMILY(ResampleGradAttr)
};

// pad: [top, left, bottom, right], constant (filled with `value`) or reflect.
struct PadAttr {
  std::vector<int64_t> pads;
  std::string mode;
  double value = 0;
  bool reflect() const { return mode == "reflect"; }
  static constexpr auto fields() {
    return std::tuple{attrField("pads", &PadAttr::pads).need().length(4).in(AttrRange::NonNegative),
                      attrField("mode", &PadAttr::mode).need().oneOf("constant|reflect"),
                      attrField("value", &PadAttr::value)};
  }
  NNC_ATTR_FAMILY(PadAttr)
};
struct PadGradAttr : PadAttr, InputHwAttr {
  static constexpr auto fields() { return std::tuple_cat(PadAttr::fields(), InputHwAttr::fields()); }
  NNC_ATTR_FAMILY(PadGradAttr)
};

// attention_softmax(_grad): the scores' scale and the causal mask.
struct AttentionAttr {
  double scale = 1.0;
  bool causal = false;
  static constexpr auto fields() {
    return std::tuple{attrField("scale", &AttentionAttr::scale).in(AttrRange::PositiveFinite),
                      attrField("causal", &AttentionAttr::causal)};
  }
  NNC_ATTR_FAMILY(AttentionAttr)
};

// random_flip: which axes may flip.
struct FlipAttr {
  std::string mode = "horizontal";
  static constexpr auto fields() {
    return std::tuple{attrField("mode", &FlipAttr::mode).oneOf("horizontal|vertical|both")};
  }
  NNC_ATTR_FAMILY(FlipAttr)
};
// random_translation: the largest shifts, as fractions of the image.
struct TranslationAttr {
  double height = 0, width = 0;
  static constexpr auto fields() {
    return std::tuple{attrField("height", &TranslationAttr::height).need().in(AttrRange::Fraction),
                      attrField("width", &TranslationAttr::width).need().in(AttrRange::Fraction)};
  }
  NNC_ATTR_FAMILY(TranslationAttr)
};
// augment_images (Augment.h): a flip's or a translation's attributes, the transform, the random
// stream's key, and whether to shift back (the translation's gradient).
struct AugmentAttr {
  std::string transform;
  std::string mode = "horizontal";
  double height = 0, width = 0;
  AttrSeed seed, salt;
  bool inverse = false;
  bool translation() const { return transform == "translation"; }
  static constexpr auto fields() {
    return std::tuple{attrField("transform", &AugmentAttr::transform).need().oneOf("flip|translation"),
                      attrField("mode", &AugmentAttr::mode).oneOf("horizontal|vertical|both"),
                      attrField("height", &AugmentAttr::height).in(AttrRange::Fraction),
                      attrField("width", &AugmentAttr::width).in(AttrRange::Fraction),
                      attrField("seed", &AugmentAttr::seed), attrField("salt", &AugmentAttr::salt),
                      attrField("inverse", &AugmentAttr::inverse)};
  }
  NNC_ATTR_FAMILY(AugmentAttr)
};

#undef NNC_ATTR_FAMILY

}  // namespace nnc
