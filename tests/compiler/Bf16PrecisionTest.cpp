// bf16 mixed precision (`precision = bf16`): the rounding function against hand-computed
// bfloat16 values, the pass that rounds the operands of every product, and a bf16 gradient
// step against the f32 one through the interpreter.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <random>

#include "compiler/autodiff/Differentiate.h"
#include "compiler/autodiff/GradRules.h"
#include "compiler/interp/Interpreter.h"
#include "compiler/ir/ScalarMath.h"
#include "compiler/passes/RoundProductOperands.h"
#include "compiler/train/GradCheck.h"
#include "compiler/train/Initializers.h"
#include "compiler/train/TrainingGraph.h"
#include "dsl/Frontend.h"

namespace nnc {
namespace {

uint32_t roundedBits(uint32_t in) { return std::bit_cast<uint32_t>(scalar::roundToBf16(std::bit_cast<float>(in))); }

TEST(Bf16Rounding, HandComputedValues) {
  // bf16 keeps an f32's top 16 bits; at 1 its ulp is 2^-7, 0x10000 in the f32's bits.
  EXPECT_EQ(roundedBits(0x3F800000), 0x3F800000u);  // 1: exact
  EXPECT_EQ(roundedBits(0x80000000), 0x80000000u);  // -0 keeps its sign
  EXPECT_EQ(roundedBits(0x3F807FFF), 0x3F800000u);  // below half an ulp: down
  EXPECT_EQ(roundedBits(0x3F808001), 0x3F810000u);  // above: up
  EXPECT_EQ(scalar::roundToBf16(0.1f), 0.10009765625f);  // 0x3DCCCCCD -> 0x3DCD
  EXPECT_EQ(scalar::roundToBf16(3.14159265f), 3.140625f);  // 0x40490FDB -> 0x4049
  EXPECT_EQ(scalar::roundToBf16(-300.7f), -300.0f);
}

TEST(Bf16Rounding, TiesGoToEven) {
  EXPECT_EQ(roundedBits(0x3F808000), 0x3F800000u);  // 1 + 2^-8: between 0x3F80 (even) and 0x3F81
  EXPECT_EQ(roundedBits(0x3F818000), 0x3F820000u);  // between 0x3F81 and 0x3F82 (even)
  EXPECT_EQ(roundedBits(0xBF818000), 0xBF820000u);  // negative: mirrored
  EXPECT_EQ(roundedBits(0x7F7F8000), 0x7F800000u);  // between the largest bf16 (odd) and inf (even)
}

TEST(Bf16Rounding, InfinitiesAndOverflow) {
  EXPECT_EQ(roundedBits(0x7F800000), 0x7F800000u);
  EXPECT_EQ(roundedBits(0xFF800000), 0xFF800000u);
  EXPECT_EQ(roundedBits(0x7F7FFFFF), 0x7F800000u);  // the largest f32 overflows bf16
  EXPECT_EQ(roundedBits(0x7F7F0000), 0x7F7F0000u);  // the largest bf16 stays
}

TEST(Bf16Rounding, Subnormals) {
  EXPECT_EQ(roundedBits(0x00000001), 0x00000000u);  // the smallest f32 subnormal: to 0
  EXPECT_EQ(roundedBits(0x00008000), 0x00000000u);  // a tie between 0 (even) and 0x0001
  EXPECT_EQ(roundedBits(0x00008001), 0x00010000u);  // the smallest bf16 subnormal
  EXPECT_EQ(roundedBits(0x00018000), 0x00020000u);  // a tie: to 0x0002 (even)
  EXPECT_EQ(roundedBits(0x807FFFFF), 0x80800000u);  // the largest subnormal rounds into the normals
}

TEST(Bf16Rounding, NaNStaysNaN) {
  EXPECT_EQ(roundedBits(0x7FC00000), 0x7FC00000u);
  // Payload only in the cut half: cutting alone would leave inf; quieted first, it stays NaN.
  EXPECT_EQ(roundedBits(0x7F800001), 0x7FC00000u);
  EXPECT_EQ(roundedBits(0xFF80FFFF), 0xFFC00000u);
  EXPECT_TRUE(std::isnan(scalar::roundBf16(std::nan(""))));
}

TEST(Bf16Rounding, RegistryRowIsTheFunction) {
  EXPECT_EQ(opInfo(OpKind::RoundBf16).name, std::string("round_bf16"));
  EXPECT_TRUE(opInfo(OpKind::RoundBf16).unary);
  EXPECT_EQ(scalar::roundBf16(1.00390625), 1.0);  // 1 + 2^-8: a tie, to even
}

// Straight-through: the gradient passes the rounding unchanged (GradRules.cpp says why).
TEST(Bf16Rounding, GradientIsTheIdentity) {
  Graph g;
  NodeId w = g.addLeaf(OpKind::Param, "w", TensorType{DType::F32, Shape{3}});
  NodeId r = *g.add(OpKind::RoundBf16, {w});
  NodeId loss = *g.add(OpKind::ReduceSum, {*g.add(OpKind::Mul, {r, g.addScalar(3)})},
                       Attrs{{"axes", std::vector<int64_t>{0}}, {"keepdims", int64_t(0)}});
  auto grads = differentiate(g, loss, {w});
  ASSERT_TRUE(grads.ok()) << grads.error().message;
  LeafValues leaves{{w, Tensor(DType::F32, {3}, {0.1, 1.00390625, -7})}};
  auto got = interpret(g, leaves, {grads->grads[0]}, Precision::F32);
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ((*got)[0].data, (std::vector<double>{3, 3, 3}));
}

const char* kBf16Cnn = R"(
model cnn
input image: f32[batch, 8, 8]
input label: i32[batch]
pixels = reshape(image, [8, 8, 1])
c1 = conv2d(pixels, 4, kernel = 3, padding = same, activation = relu)
p1 = maxpool(c1, 2)
c2 = conv2d(p1, 6, kernel = 3, padding = same, activation = relu)
flat = flatten(c2)
h = dense(flat, 12, activation = relu)
logits = dense(h, 3)
output probs = softmax(logits)
train {
  loss = cross_entropy(logits, label)
  optimizer = adam(lr = 1e-3)
  precision = PRECISION
}
)";

Model compileBf16Cnn(const std::string& precision) {
  std::string source = kBf16Cnn;
  source.replace(source.find("PRECISION"), 9, precision);
  DiagnosticEngine diags("test.nn", source);
  std::optional<Model> m = compileModel(source, diags);
  EXPECT_TRUE(m.has_value()) << diags.renderToString();
  return m ? std::move(*m) : Model{};
}

TEST(Bf16Precision, TheTrainBlockSetsIt) {
  EXPECT_EQ(compileBf16Cnn("f32").precision, ProductPrecision::F32);
  EXPECT_EQ(compileBf16Cnn("bf16").precision, ProductPrecision::BF16);
}

// Every f32 operand of every product (forward and backward) is a round_bf16, each value is
// rounded once, and rounded values feed nothing but products: parameters, gradient sums and
// optimizer state stay f32.
TEST(Bf16Precision, EveryProductOperandIsRoundedOnceAndNothingElse) {
  auto tg = buildTrainingGraph(compileBf16Cnn("bf16"));
  ASSERT_TRUE(tg.ok()) << tg.error().message;
  const Graph& g = *tg;
  std::map<OpKind, int> products;
  std::vector<std::vector<NodeId>> users(g.size());
  for (size_t i = 0; i < g.size(); ++i)
    for (NodeId in : g.nodes()[i].inputs) users[static_cast<size_t>(in)].push_back(static_cast<NodeId>(i));
  std::set<NodeId> roundedValues;
  for (size_t i = 0; i < g.size(); ++i) {
    const Node& n = g.nodes()[i];
    if (roundsOperandsInBf16(n.op)) {
      ++products[n.op];
      for (NodeId in : n.inputs) EXPECT_EQ(g.node(in).op, OpKind::RoundBf16) << opName(n.op) << " %" << i;
    }
    if (n.op == OpKind::RoundBf16) {
      EXPECT_TRUE(roundedValues.insert(n.inputs[0]).second) << "%" << n.inputs[0] << " rounded twice";
      for (NodeId u : users[i]) EXPECT_TRUE(roundsOperandsInBf16(g.node(u).op)) << opName(g.node(u).op);
    }
  }
  for (OpKind k : {OpKind::MatMul, OpKind::Conv2D, OpKind::Conv2DGradInput, OpKind::Conv2DGradFilter})
    EXPECT_GT(products[k], 0) << opName(k);
  for (const Update& u : g.updates) {
    EXPECT_EQ(g.type(u.target).dtype, DType::F32);
    EXPECT_NE(g.node(u.value).op, OpKind::RoundBf16);
  }
  // The weights are rounded once per step, not per use: conv2's weight feeds its forward
  // convolution and its input gradient through one round_bf16.
  NodeId w = g.findLeaf(OpKind::Param, "c2.weight");
  ASSERT_NE(w, kNoNode);
  int rounds = 0;
  for (NodeId u : users[static_cast<size_t>(w)]) rounds += g.node(u).op == OpKind::RoundBf16;
  EXPECT_EQ(rounds, 1);

  auto exact = buildTrainingGraph(compileBf16Cnn("f32"));
  ASSERT_TRUE(exact.ok());
  for (const Node& n : exact->nodes()) EXPECT_NE(n.op, OpKind::RoundBf16);
}

TEST(Bf16Precision, InferenceGraphsAreRoundedToo) {
  auto ig = buildInferenceGraph(compileBf16Cnn("bf16"), true);
  ASSERT_TRUE(ig.ok()) << ig.error().message;
  int rounds = 0;
  for (const Node& n : ig->nodes()) rounds += n.op == OpKind::RoundBf16;
  EXPECT_EQ(rounds, 8);  // pixels, p1, flat, h and the four weights
}

// One step's gradients in bf16 agree with f32's within bf16's precision, and differ from
// them: the rounding is applied.
TEST(Bf16Precision, GradientsAgreeWithF32WithinBf16Tolerance) {
  Model exactModel = compileBf16Cnn("f32"), bf16Model = compileBf16Cnn("bf16");
  auto exact = buildGradientGraph(exactModel);
  auto rounded = buildGradientGraph(bf16Model);
  ASSERT_TRUE(exact.ok() && rounded.ok());
  auto init = initialValues(exact->graph, 11);
  ASSERT_TRUE(init.ok()) << init.error().message;
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(0, 1);
  Tensor image(DType::F32, {16, 8, 8}), label(DType::I32, {16});
  for (double& v : image.data) v = static_cast<float>(u(rng));
  for (double& v : label.data) v = std::floor(3 * u(rng));

  auto gradientsOf = [&](const TrainingGraph& tg) {
    const Graph& g = tg.graph;
    LeafValues leaves;
    for (const auto& [id, t] : *init) leaves[g.findLeaf(exact->graph.node(id).op, exact->graph.node(id).name)] = t;
    leaves[g.findLeaf(OpKind::Input, "image")] = image;
    leaves[g.findLeaf(OpKind::Input, "label")] = label;
    std::vector<NodeId> wanted;
    for (const ParamGradient& pg : tg.gradients) wanted.push_back(pg.grad);
    auto got = interpret(g, leaves, wanted, Precision::F32);
    EXPECT_TRUE(got.ok()) << got.error().message;
    return got.ok() ? *got : std::vector<Tensor>{};
  };
  std::vector<Tensor> a = gradientsOf(*exact), b = gradientsOf(*rounded);
  ASSERT_EQ(a.size(), exact->gradients.size());
  ASSERT_EQ(b.size(), a.size());
  for (size_t p = 0; p < a.size(); ++p) {
    const std::string& name = exact->graph.node(exact->gradients[p].param).name;
    ASSERT_EQ(name, rounded->graph.node(rounded->gradients[p].param).name);
    double diff = 0, norm = 0;
    for (size_t k = 0; k < a[p].data.size(); ++k) {
      diff += std::pow(a[p].data[k] - b[p].data[k], 2);
      norm += std::pow(a[p].data[k], 2);
    }
    double relative = std::sqrt(diff / norm);
    EXPECT_GT(relative, 0) << name << ": not rounded";
    // bf16's unit roundoff is 2^-9 = 0.002 per operand: measured 0.001 to 0.004, and 0.07 for
    // the first convolution's filter gradient, a sum of 1024 terms of both signs.
    EXPECT_LT(relative, 0.15) << name;
  }
}

// gradcheck checks the exact gradient rules whatever the model's precision: through rounded
// operands, finite differences would see a piecewise constant loss and fail.
TEST(Bf16Precision, GradcheckChecksTheExactGradients) {
  GradCheckOptions o;
  o.allEntriesUpTo = 4;
  o.sampledEntries = 3;
  auto report = gradCheck(compileBf16Cnn("bf16"), o);
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_TRUE(report->passed());

}

}  // namespace
}  // namespace nnc
