#include "compiler/ir/AttrSchema.h"

#include "compiler/ir/TypedAttrs.h"

namespace nnc {

namespace {

// Calls `visit.template operator()<S>()` with the struct of family `f`.
template <class Visit>
auto withFamily(AttrFamily f, Visit&& visit) {
  switch (f) {
    case AttrFamily::None: return visit.template operator()<NoAttrsAttr>();
    case AttrFamily::Alpha: return visit.template operator()<AlphaAttr>();
    case AttrFamily::Init: return visit.template operator()<InitAttr>();
    case AttrFamily::Value: return visit.template operator()<ConstantAttr>();
    case AttrFamily::DType: return visit.template operator()<DTypeAttr>();
    case AttrFamily::Shape: return visit.template operator()<ShapeAttr>();
    case AttrFamily::Axes: return visit.template operator()<AxesAttr>();
    case AttrFamily::Axis: return visit.template operator()<AxisAttr>();
    case AttrFamily::Perm: return visit.template operator()<PermAttr>();
    case AttrFamily::Slice: return visit.template operator()<SliceAttr>();
    case AttrFamily::Depth: return visit.template operator()<DepthAttr>();
    case AttrFamily::MatMulTranspose: return visit.template operator()<MatMulTransposeAttr>();
    case AttrFamily::Conv: return visit.template operator()<ConvAttr>();
    case AttrFamily::Window: return visit.template operator()<WindowAttr>();
    case AttrFamily::Rate: return visit.template operator()<RateAttr>();
    case AttrFamily::BatchNorm: return visit.template operator()<BatchNormAttr>();
    case AttrFamily::Recurrent: return visit.template operator()<RecurrentAttr>();
    case AttrFamily::Resample: return visit.template operator()<ResampleAttr>();
    case AttrFamily::Pad: return visit.template operator()<PadAttr>();
    case AttrFamily::Attention: return visit.template operator()<AttentionAttr>();
    case AttrFamily::Augment: return visit.template operator()<AugmentAttr>();
    case AttrFamily::ConvGradInput: return visit.template operator()<ConvGradInputAttr>();
    case AttrFamily::ConvGradFilter: return visit.template operator()<ConvGradFilterAttr>();
    case AttrFamily::WindowGrad: return visit.template operator()<WindowGradAttr>();
    case AttrFamily::ResampleGrad: return visit.template operator()<ResampleGradAttr>();
    case AttrFamily::PadGrad: return visit.template operator()<PadGradAttr>();
    case AttrFamily::DropoutMask: return visit.template operator()<DropoutMaskAttr>();
    case AttrFamily::Flip: return visit.template operator()<FlipAttr>();
    case AttrFamily::Translation: return visit.template operator()<TranslationAttr>();
  }
  return visit.template operator()<NoAttrsAttr>();  // not reached: the switch names every family
}

}  // namespace

Result<void> checkOpAttrs(OpKind op, const Attrs& attrs) {
  std::string problem = withFamily(opInfo(op).attrs, [&]<class S>() { return checkAttrFields<S>(attrs); });
  if (!problem.empty()) return makeError(problem);
  return {};
}

std::vector<AttrFieldInfo> attrFamilyFields(AttrFamily f) {
  return withFamily(f, []<class S>() { return attrFieldInfo<S>(); });
}

}  // namespace nnc
