// Data augmentation: random_flip and random_translation on images [batch, h, w, c] or
// [batch, h, w]. Both are the identity outside training; mode lowering draws their transforms
// from the train block's seed (compiler/ir/Augment.h).
#include "compiler/ir/TypedAttrs.h"
#include "dsl/sema/Builders.h"
#include "dsl/sema/Registry.h"

namespace nnc::sema {

namespace {

const TensorReq kAugmentImages{DTypeReq::F32, 3, 4, "an input", "[batch, height, width, channels] or [batch, height, width]"};

std::optional<NodeId> buildRandomFlip(Sema& s, const BoundCall& b) {
  return s.emit(OpKind::RandomFlip, {b.tensor("x")}, FlipAttr{b.word("mode")}.attrs(), b.loc);
}

std::optional<NodeId> buildRandomTranslation(Sema& s, const BoundCall& b) {
  return s.emit(OpKind::RandomTranslation, {b.tensor("x")},
                TranslationAttr{b.number("height"), b.number("width")}.attrs(), b.loc);
}

}  // namespace

void addAugmentations(Registry& r) {
  Callable flip;
  flip.name = "random_flip";
  flip.params = {spec::tensor("x", kAugmentImages),
                 spec::word("mode", spec::word("horizontal"), {"horizontal", "vertical", "both"}, "flip mode")};
  flip.build = buildRandomFlip;
  flip.summaryKind = "RandomFlip";
  r.add(std::move(flip));
  Callable translation;
  translation.name = "random_translation";
  translation.params = {spec::tensor("x", kAugmentImages), spec::number("height", spec::required(), spec::between(0, 1)),
                        spec::number("width", spec::required(), spec::between(0, 1))};
  translation.build = buildRandomTranslation;
  translation.summaryKind = "RandomTranslation";
  r.add(std::move(translation));
}

}  // namespace nnc::sema
