#include "compiler/train/ModeLowering.h"

#include "compiler/autodiff/IRBuilder.h"
#include "compiler/ir/Augment.h"
#include "compiler/ir/TypedAttrs.h"
#include "compiler/train/TrainingGraph.h"

namespace nnc {

namespace {

bool isAugmentation(OpKind k) { return k == OpKind::RandomFlip || k == OpKind::RandomTranslation; }

bool boundByName(OpKind k) { return k == OpKind::Input || k == OpKind::Param || k == OpKind::State || k == OpKind::Hyper; }

std::vector<bool> neededNodes(const Graph& g, const std::vector<NodeId>& roots) {
  std::vector<bool> need(g.size(), false);
  for (NodeId r : roots)
    if (r >= 0 && static_cast<size_t>(r) < g.size()) need[static_cast<size_t>(r)] = true;
  for (size_t i = g.size(); i-- > 0;) {
    if (boundByName(g.nodes()[i].op)) need[i] = true;
    if (!need[i]) continue;
    for (NodeId in : g.nodes()[i].inputs) need[static_cast<size_t>(in)] = true;
  }
  return need;
}

struct Lowerer {
  const Model& model;
  GraphMode mode;
  bool shardedBatch;
  ModeLoweredGraph out;
  IRBuilder b{out.graph};
  int64_t dropoutCount = 0;
  int64_t augmentCount = 0;

  NodeId mapped(NodeId old) const { return out.fromModel[static_cast<size_t>(old)]; }

  NodeId dropout(const Node& n, NodeId x) {
    int64_t salt = dropoutCount++;
    double rate = RateAttr::of(n).rate;
    if (mode == GraphMode::Inference) return x;
    DropoutMaskAttr attrs;
    attrs.seed.value = model.train ? model.train->seed : 0;
    attrs.salt.value = static_cast<uint64_t>(salt);
    std::vector<NodeId> operands{x, out.step};
    if (model.runtimeDropoutRates) {
      // The rate is a run-time input (even 0: the compiled step must not depend on it).
      operands.push_back(out.graph.addLeaf(OpKind::Hyper, dropoutRateName(salt), TensorType{DType::F32, Shape{}}));
    } else {
      if (rate == 0) return x;
      attrs.rate = rate;
    }
    if (out.firstRow != kNoNode && b.shape(x).isBatched()) operands.push_back(out.firstRow);
    NodeId mask = b.op(OpKind::DropoutMask, operands, attrs.attrs());
    return b.mul(x, mask);
  }

  // random_flip / random_translation: the identity outside training; in training,
  // AugmentImages drawing from the train seed, salt kSaltBase + k for the k-th augmentation.
  NodeId augmentation(const Node& n, NodeId x) {
    uint64_t salt = augment::kSaltBase + static_cast<uint64_t>(augmentCount++);
    if (mode == GraphMode::Inference) return x;
    const bool translation = n.op == OpKind::RandomTranslation;
    AugmentAttr attrs;
    attrs.transform = translation ? "translation" : "flip";
    if (translation) {
      const TranslationAttr t = TranslationAttr::of(n);
      if (t.height == 0 && t.width == 0) return x;
      attrs.height = t.height, attrs.width = t.width;
    } else {
      attrs.mode = FlipAttr::of(n).mode;
    }
    attrs.seed.value = model.train ? model.train->seed : 0;
    attrs.salt.value = salt;
    std::vector<NodeId> operands{x, out.step};
    if (out.firstRow != kNoNode && b.shape(x).isBatched()) operands.push_back(out.firstRow);
    return b.op(OpKind::AugmentImages, operands, attrs.attrs());
  }

  // Training-mode batchnorm is written so that its statistics are two independent sums over
  // one read of x, and the normalisation is one multiply-add per element with per-channel
  // scale and shift: y = d * scale + shift, where d = x - s, s the running mean (a shift that
  // keeps the one-pass variance E[d^2] - E[d]^2 accurate once it has settled, and costs no
  // gradient: it is state). Autodiff of this form needs only two per-channel sums, sum(dy)
  // and sum(dy * d), both independent of each other, and one elementwise pass for dx; the
  // textbook two-pass form needed five sums, each waiting for the one before (issue 14).
  NodeId batchNorm(const Node& n, const std::vector<NodeId>& in) {
    NodeId x = in[0], gamma = in[1], beta = in[2], runMean = in[3], runVar = in[4];
    const BatchNormAttr bn = BatchNormAttr::of(n);
    double momentum = bn.momentum, eps = bn.eps;
    auto invStdOf = [&](NodeId var) { return b.div(b.scalar(1), b.sqrt(b.add(var, eps))); };
    if (mode != GraphMode::Training) {
      NodeId centered = b.sub(x, runMean);
      return b.add(b.mul(b.mul(centered, invStdOf(runVar)), gamma), beta);
    }
    std::vector<int64_t> axes;
    for (size_t i = 0; i + 1 < b.shape(x).rank(); ++i) axes.push_back(static_cast<int64_t>(i));
    NodeId d = b.sub(x, runMean);
    NodeId shiftedMean = b.reduce(OpKind::ReduceMean, d, axes, false);
    NodeId meanSquare = b.reduce(OpKind::ReduceMean, b.square(d), axes, false);
    NodeId mean = b.add(shiftedMean, runMean);
    // Biased; never below 0, which rounding could otherwise give a constant channel.
    NodeId var = b.op(OpKind::Maximum, {b.sub(meanSquare, b.square(shiftedMean)), b.scalar(0)});
    auto running = [&](NodeId stat, NodeId batchStat) {
      return b.add(b.mul(stat, momentum), b.mul(batchStat, 1 - momentum));
    };
    NodeId newMean = running(runMean, mean), newVar = running(runVar, var);
    if (!b.failed()) {
      out.graph.updates.push_back({runMean, newMean});
      out.graph.updates.push_back({runVar, newVar});
    }
    NodeId scale = b.mul(invStdOf(var), gamma);
    NodeId shift = b.sub(beta, b.mul(shiftedMean, scale));
    return b.add(b.mul(d, scale), shift);
  }

  Result<void> run(const std::vector<NodeId>& roots) {
    const Graph& src = model.graph;
    out.graph.name = src.name.empty() ? model.name : src.name;
    out.fromModel.assign(src.size(), kNoNode);
    if (mode == GraphMode::Training) {
      TensorType scalar{DType::F32, Shape{}};
      out.lr = out.graph.addLeaf(OpKind::Hyper, kLearningRateName, scalar);
      out.step = out.graph.addLeaf(OpKind::Hyper, kStepName, scalar);
      if (shardedBatch) out.firstRow = out.graph.addLeaf(OpKind::Hyper, kFirstRowName, scalar);
    }
    std::vector<bool> need = neededNodes(src, roots);
    for (size_t i = 0; i < src.size(); ++i) {
      const Node& n = src.nodes()[i];
      if (!need[i]) {
        if (n.op == OpKind::Dropout) ++dropoutCount;  // salts stay stable whatever is copied
        if (isAugmentation(n.op)) ++augmentCount;
        continue;
      }
      std::vector<NodeId> in;
      for (NodeId old : n.inputs) in.push_back(mapped(old));
      NodeId v;
      b.setLoc(n.loc);
      if (n.op == OpKind::Dropout)
        v = dropout(n, in[0]);
      else if (n.op == OpKind::BatchNorm)
        v = batchNorm(n, in);
      else if (isAugmentation(n.op))
        v = augmentation(n, in[0]);
      else
        v = out.graph.addWithType(n.op, in, n.attrs, n.type, n.loc, n.name);
      if (b.failed()) return *b.error();
      if ((n.op == OpKind::Dropout || n.op == OpKind::BatchNorm || isAugmentation(n.op)) && v != in[0] && !n.name.empty())
        out.graph.node(v).name = n.name;  // the replacement keeps the model's name
      out.fromModel[i] = v;
    }
    return {};
  }
};

}  // namespace

Result<ModeLoweredGraph> lowerModes(const Model& model, GraphMode mode, const std::vector<NodeId>& roots,
                                    bool shardedBatch) {
  Lowerer l{model, mode, shardedBatch, {}};
  NNC_TRY(l.run(roots));
  return std::move(l.out);
}

}  // namespace nnc
