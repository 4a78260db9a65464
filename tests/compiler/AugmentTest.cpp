// Augmentation (compiler/ir/Augment.h): AugmentImages against its definition written out
// independently, the statistics of the draws, the keying by global row, the gradient (its
// own transpose), and mode lowering (the identity outside training).
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "compiler/ir/Augment.h"
#include "compiler/train/ModeLowering.h"
#include "compiler/train/TrainingGraph.h"
#include "support/Philox.h"
#include "tests/compiler/GradTestHelpers.h"
#include "tests/compiler/InterpTestUtil.h"

namespace nnc {
namespace {

using interp_test::run;
using testing::must;
using interp_test::tensor;

constexpr int64_t kSeed = 11, kSalt = augment::kSaltBase + 2;

// x[n, h, w, c] = a distinct value per element (1-based, so 0 means "filled").
Tensor imageBatch(int64_t n, int64_t h, int64_t w, int64_t c) {
  Tensor t(DType::F32, c > 0 ? std::vector<int64_t>{n, h, w, c} : std::vector<int64_t>{n, h, w});
  for (size_t i = 0; i < t.data.size(); ++i) t.data[i] = static_cast<double>(i + 1);
  return t;
}

Attrs flipAttrs(const std::string& mode, int64_t seed = kSeed) {
  return Attrs{{"transform", std::string("flip")}, {"mode", mode}, {"seed", seed}, {"salt", kSalt}};
}
Attrs shiftAttrs(double fh, double fw, int64_t seed = kSeed, bool inverse = false) {
  return Attrs{{"transform", std::string("translation")}, {"height", fh}, {"width", fw}, {"seed", seed},
               {"salt", kSalt}, {"inverse", int64_t(inverse)}};
}

bool drawsFlip(uint64_t step, uint64_t row, int axis) {  // axis 0: height, 1: width
  return philox::uniform(kSeed, kSalt, step, 2 * row + static_cast<uint64_t>(axis)) < 0.5f;
}
int64_t drawnShift(uint64_t step, uint64_t row, int axis, int64_t m) {
  double u = philox::uniform(kSeed, kSalt, step, 2 * row + static_cast<uint64_t>(axis));
  return static_cast<int64_t>(std::floor(u * static_cast<double>(2 * m + 1))) - m;
}

double at(const Tensor& t, int64_t n, int64_t h, int64_t w, int64_t c) {
  const int64_t H = t.shape[1], W = t.shape[2], C = t.shape.size() == 4 ? t.shape[3] : 1;
  return t.data[static_cast<size_t>(((n * H + h) * W + w) * C + c)];
}

TEST(Augment, FlipFollowsItsDrawsPerSampleAndAxis) {
  const uint64_t step = 9;
  Tensor x = imageBatch(16, 3, 4, 2);
  for (const std::string mode : {"horizontal", "vertical", "both"}) {
    SCOPED_TRACE(mode);
    Tensor y = run(OpKind::AugmentImages, {x, Tensor::scalar(step)}, flipAttrs(mode));
    ASSERT_EQ(y.shape, x.shape);
    int flippedW = 0, flippedH = 0;
    for (int64_t n = 0; n < 16; ++n) {
      bool fh = mode != "horizontal" && drawsFlip(step, n, 0), fw = mode != "vertical" && drawsFlip(step, n, 1);
      flippedH += fh;
      flippedW += fw;
      for (int64_t h = 0; h < 3; ++h)
        for (int64_t w = 0; w < 4; ++w)
          for (int64_t c = 0; c < 2; ++c)
            ASSERT_EQ(at(y, n, h, w, c), at(x, n, fh ? 2 - h : h, fw ? 3 - w : w, c)) << n << " " << h << " " << w;
    }
    // Both outcomes occur among 16 samples (the draws are fixed: this is not luck at run time).
    if (mode != "horizontal") {
      EXPECT_GT(flippedH, 0);
      EXPECT_LT(flippedH, 16);
    }
    if (mode != "vertical") {
      EXPECT_GT(flippedW, 0);
      EXPECT_LT(flippedW, 16);
    }
  }
}

TEST(Augment, TranslationShiftsWithZeroFillAndItsInverseShiftsBack) {
  const uint64_t step = 4;
  for (int64_t channels : {3, 0}) {  // [n, h, w, c] and rank 3 [n, h, w]
    Tensor x = imageBatch(12, 6, 5, channels);
    const int64_t C = channels > 0 ? channels : 1;
    // 0.34 * 6 = 2.04 -> shifts up to 2; 0.5 * 5 = 2.5 -> up to 2 (rounded down).
    Tensor y = run(OpKind::AugmentImages, {x, Tensor::scalar(step)}, shiftAttrs(0.34, 0.5));
    Tensor back = run(OpKind::AugmentImages, {y, Tensor::scalar(step)}, shiftAttrs(0.34, 0.5, kSeed, true));
    for (int64_t n = 0; n < 12; ++n) {
      int64_t dy = drawnShift(step, n, 0, 2), dx = drawnShift(step, n, 1, 2);
      for (int64_t h = 0; h < 6; ++h)
        for (int64_t w = 0; w < 5; ++w)
          for (int64_t c = 0; c < C; ++c) {
            int64_t sh = h - dy, sw = w - dx;
            bool inside = sh >= 0 && sh < 6 && sw >= 0 && sw < 5;
            ASSERT_EQ(at(y, n, h, w, c), inside ? at(x, n, sh, sw, c) : 0.0) << n << " " << h << " " << w;
            // Shifted back: the original where it survived both shifts, else 0.
            int64_t th = h + dy, tw = w + dx;
            bool kept = th >= 0 && th < 6 && tw >= 0 && tw < 5;
            ASSERT_EQ(at(back, n, h, w, c), kept ? at(x, n, h, w, c) : 0.0);
          }
    }
  }
  // Fractions 0 leave every image as it is; 1 allows shifts of the whole image.
  Tensor x = imageBatch(3, 4, 4, 1);
  EXPECT_EQ(run(OpKind::AugmentImages, {x, Tensor::scalar(1)}, shiftAttrs(0, 0)).data, x.data);
  EXPECT_EQ(augment::maxShift(1.0, 28), 28);
  EXPECT_EQ(augment::maxShift(0.1, 28), 2);
}

// Over 4000 samples, flips happen about half the time and shifts cover -m .. m evenly.
TEST(Augment, DrawStatistics) {
  const int64_t N = 4000;
  Tensor pair = imageBatch(N, 1, 2, 0);  // [N, 1, 2]: values 2n + 1, 2n + 2
  Tensor y = run(OpKind::AugmentImages, {pair, Tensor::scalar(3)}, flipAttrs("horizontal"));
  int flipped = 0;
  for (int64_t n = 0; n < N; ++n) flipped += at(y, n, 0, 0, 0) > at(y, n, 0, 1, 0);
  // Binomial(4000, 1/2): sd 31.6; 5 sd either side.
  EXPECT_NEAR(flipped, N / 2, 160);
  Tensor v = run(OpKind::AugmentImages, {pair, Tensor::scalar(3)}, flipAttrs("vertical"));
  EXPECT_EQ(v.data, pair.data);  // a one-pixel-high image: vertical flips change nothing

  // One lit pixel in the middle of 9x9 images, shifted by up to 3 each way.
  Tensor dot(DType::F32, {N, 9, 9, 1});
  for (int64_t n = 0; n < N; ++n) dot.data[static_cast<size_t>(n * 81 + 4 * 9 + 4)] = 1;
  Tensor s = run(OpKind::AugmentImages, {dot, Tensor::scalar(7)}, shiftAttrs(0.34, 0.34));
  std::map<int64_t, int> dys, dxs;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t h = 0; h < 9; ++h)
      for (int64_t w = 0; w < 9; ++w)
        if (at(s, n, h, w, 0) == 1) {
          ++dys[h - 4];
          ++dxs[w - 4];
        }
  ASSERT_EQ(dys.size(), 7u);
  ASSERT_EQ(dxs.size(), 7u);
  for (int64_t d = -3; d <= 3; ++d) {  // Binomial(4000, 1/7): sd 22; 5 sd either side
    EXPECT_NEAR(dys[d], N / 7.0, 110) << d;
    EXPECT_NEAR(dxs[d], N / 7.0, 110) << d;
  }
}

TEST(Augment, DrawsDependOnSeedStepAndGlobalRowOnly) {
  Tensor x = imageBatch(8, 5, 5, 2);
  Attrs a = shiftAttrs(0.4, 0.4);
  Tensor y1 = run(OpKind::AugmentImages, {x, Tensor::scalar(5)}, a);
  EXPECT_EQ(run(OpKind::AugmentImages, {x, Tensor::scalar(5)}, a).data, y1.data);          // reproducible
  EXPECT_NE(run(OpKind::AugmentImages, {x, Tensor::scalar(6)}, a).data, y1.data);          // another step
  EXPECT_NE(run(OpKind::AugmentImages, {x, Tensor::scalar(5)}, shiftAttrs(0.4, 0.4, 12)).data, y1.data);  // seed
  // Rows 4..7 as a process's share (first_row 4) draw what they draw in the whole batch.
  Tensor tail(DType::F32, {4, 5, 5, 2});
  std::copy(x.data.begin() + 4 * 50, x.data.end(), tail.data.begin());
  Tensor share = run(OpKind::AugmentImages, {tail, Tensor::scalar(5), Tensor::scalar(4)}, a);
  EXPECT_EQ(share.data, std::vector<double>(y1.data.begin() + 4 * 50, y1.data.end()));
}

TEST(Augment, GradientIsTheTransposeForFlipAndTranslation) {
  for (const Attrs& a : {flipAttrs("both"), flipAttrs("horizontal"), shiftAttrs(0.5, 0.3), shiftAttrs(0.4, 0.4, 3, true)}) {
    for (bool rank3 : {false, true}) {
      testing::OpHarness h;
      h.batch = 6;
      NodeId x = h.leaf(rank3 ? Shape{kBatch, 5, 4} : Shape{kBatch, 5, 4, 3});
      NodeId step = h.g.addLeaf(OpKind::Hyper, "step", TensorType{DType::F32, Shape{}});
      h.values[step] = Tensor::scalar(2);
      // Mid-network: a nonlinearity on each side, so the gradient must land on the right pixels.
      NodeId t = h.op(OpKind::Tanh, {x});
      h.check(h.op(OpKind::Square, {h.op(OpKind::AugmentImages, {t, step}, a)}));
    }
  }
}

TEST(Augment, ShapeRuleErrors) {
  Tensor x = imageBatch(2, 3, 3, 1), step = Tensor::scalar(0);
  auto error = [&](const std::vector<Tensor>& in, const Attrs& a, OpKind op = OpKind::AugmentImages) {
    Result<Tensor> r = interp_test::runOp(op, in, a);
    return r ? std::string() : r.error().message;
  };
  EXPECT_NE(error({x, step}, shiftAttrs(1.5, 0)).find("attribute 'height' must be in [0, 1], got 1.5"), std::string::npos);
  EXPECT_NE(error({x, step}, shiftAttrs(0, -0.1)).find("attribute 'width' must be in [0, 1]"), std::string::npos);
  EXPECT_NE(error({x, step}, flipAttrs("sideways")).find("attribute 'mode' must be horizontal, vertical or both, got 'sideways'"),
            std::string::npos);
  EXPECT_NE(error({x}, Attrs{{"mode", std::string("up")}}, OpKind::RandomFlip).find("attribute 'mode' must be"), std::string::npos);
  EXPECT_NE(error({tensor({2, 3}, {1, 2, 3, 4, 5, 6}), step}, flipAttrs("both")).find("expects images"), std::string::npos);
  EXPECT_NE(error({x, tensor({1}, {0})}, flipAttrs("both")).find("step must be an f32 scalar"), std::string::npos);
  EXPECT_NE(error({x, step}, Attrs{{"transform", std::string("rotate")}}).find("flip or translation"), std::string::npos);
}

// A model: x -> random_flip -> random_translation -> dense loss.
Model augmentedModel(bool augment, uint64_t seed) {
  testing::ModelBuilder mb("aug");
  NodeId x = mb.input("x", TensorType{DType::F32, Shape{kBatch, 4, 4, 1}});
  NodeId v = x;
  if (augment) {
    v = must(mb.g.add(OpKind::RandomFlip, {v}, Attrs{{"mode", std::string("both")}}));
    v = must(mb.g.add(OpKind::RandomTranslation, {v}, Attrs{{"height", 0.5}, {"width", 0.25}}));
  }
  NodeId flat = must(mb.g.add(OpKind::Reshape, {v}, Attrs{{"shape", std::vector<int64_t>{kBatch, 16}}}));
  NodeId w = mb.param("w", Shape{16, 1}, "glorot_uniform");
  NodeId y = must(mb.g.add(OpKind::MatMul, {flat, w}, Attrs{{"transpose_a", int64_t(0)}, {"transpose_b", int64_t(0)}}));
  mb.g.outputs.push_back({"y", y});
  mb.g.loss = must(mb.g.add(OpKind::ReduceMean, {y}, Attrs{{"axes", std::vector<int64_t>{0, 1}}, {"keepdims", int64_t(0)}}));
  mb.m.train = TrainConfig{};
  mb.m.train->seed = seed;
  return mb.m;
}

int count(const Graph& g, OpKind op) {
  int n = 0;
  for (const Node& node : g.nodes()) n += node.op == op;
  return n;
}

TEST(Augment, ModeLoweringIsTheIdentityOutsideTraining) {
  Model m = augmentedModel(true, 21);
  auto inference = lowerModes(m, GraphMode::Inference, {m.graph.outputs[0].node});
  ASSERT_TRUE(inference.ok()) << inference.error().message;
  EXPECT_EQ(count(inference->graph, OpKind::AugmentImages), 0);
  EXPECT_EQ(count(inference->graph, OpKind::RandomFlip), 0);
  for (const Node& n : inference->graph.nodes())  // the reshape reads x itself
    if (n.op == OpKind::Reshape) {
      EXPECT_EQ(n.inputs[0], inference->fromModel[static_cast<size_t>(m.graph.findLeaf(OpKind::Input, "x"))]);
    }

  auto training = lowerModes(m, GraphMode::Training, {m.graph.loss});
  ASSERT_TRUE(training.ok()) << training.error().message;
  std::vector<const Node*> augments;
  for (const Node& n : training->graph.nodes())
    if (n.op == OpKind::AugmentImages) augments.push_back(&n);
  ASSERT_EQ(augments.size(), 2u);
  EXPECT_EQ(augments[0]->attrs.getString("transform"), "flip");
  EXPECT_EQ(augments[1]->attrs.getString("transform"), "translation");
  EXPECT_EQ(augments[0]->attrs.getInt("seed"), 21);
  EXPECT_EQ(augments[0]->attrs.getInt("salt"), static_cast<int64_t>(augment::kSaltBase));
  EXPECT_EQ(augments[1]->attrs.getInt("salt"), static_cast<int64_t>(augment::kSaltBase + 1));
  EXPECT_EQ(augments[0]->inputs[1], training->step);

  // Data-parallel training keys the draws by the global row.
  auto sharded = lowerModes(m, GraphMode::Training, {m.graph.loss}, true);
  ASSERT_TRUE(sharded.ok());
  for (const Node& n : sharded->graph.nodes())
    if (n.op == OpKind::AugmentImages) {
      EXPECT_EQ(n.inputs.back(), sharded->firstRow);
    }
}

}  // namespace
}  // namespace nnc
