#pragma once
// Every callable of the language, gathered from the per-family tables (Activations.cpp,
// Layers.cpp, Losses.cpp, ...), looked up by family and name.
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "dsl/sema/Signature.h"

namespace nnc::sema {

class Registry {
 public:
  // Built once, on first use; immutable afterwards (safe to share between threads).
  static const Registry& instance();

  const Callable* find(Family family, std::string_view name) const;
  // The first callable of another family with this name ("'adam' is an optimizer").
  const Callable* findElsewhere(Family notThis, std::string_view name) const;
  std::vector<std::string> names(Family family) const;

  // Layers get a `name` parameter: what their parameters are named after.
  void add(Callable c);

 private:
  std::deque<Callable> callables_;  // a deque keeps Callable addresses stable
};

// The per-family tables; each appends its callables.
void addActivations(Registry& r);
void addMathOps(Registry& r);
void addReductions(Registry& r);
void addShapeOps(Registry& r);
void addPoolingOps(Registry& r);
void addLayers(Registry& r);
void addConvLayers(Registry& r);  // conv1d, depthwise_conv2d, separable_conv2d
void addEmbeddingLayer(Registry& r);  // EmbeddingLayer.cpp (issue 13)
void addAugmentations(Registry& r);  // random_flip, random_translation
void addRecurrentLayers(Registry& r);
void addOnnxLayer(Registry& r);    // onnx("FILE.onnx", x, ...) (OnnxLayer.cpp)
void addAttentionLayers(Registry& r);  // layernorm, multi_head_attention
void addLosses(Registry& r);
void addInitializers(Registry& r);
void addOptimizers(Registry& r);   // optimizers, schedules, normalize forms
void addTrainBlock(Registry& r);
void addTransposedConvLayers(Registry& r);  // ConvTranspose.cpp: conv2d_transpose
void addImageOps(Registry& r);              // ImageOps.cpp: upsample, pad, global_maxpool

// Names accepted by `activation =` of layers: every activation, and `none`.
std::vector<std::string> activationChoices();

}  // namespace nnc::sema
