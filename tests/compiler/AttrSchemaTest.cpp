// Typed attributes (compiler/ir/TypedAttrs.h) checked against the op (AttrSchema.h): the
// verifier refuses each kind of bad attribute with a message naming the node and the
// attribute; every op's registry row names a family whose keys behave as declared; the typed
// reads and writes agree with each other and with the defaults.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "compiler/ir/AttrSchema.h"
#include "compiler/ir/OpAttrs.h"
#include "compiler/ir/ShapeRules.h"
#include "compiler/ir/TypedAttrs.h"
#include "compiler/ir/Verifier.h"

namespace nnc {
namespace {

using V = std::vector<int64_t>;

// The verifier's message for one node `op(x)` of type `type` carrying `attrs`, or "accepted".
std::string verifyOne(OpKind op, const Attrs& attrs, TensorType x, TensorType type) {
  Graph g;
  NodeId in = g.addLeaf(OpKind::Input, "x", x);
  g.addWithType(op, {in}, attrs, type, {}, "n");
  Result<void> ok = verifyGraph(g);
  return ok ? std::string("accepted") : ok.error().message;
}

const TensorType kImage{DType::F32, Shape{kBatch, 4, 4, 2}};
const TensorType kMatrix{DType::F32, Shape{kBatch, 6}};

TEST(AttrSchema, VerifierRefusesAnAttributeTheOpDoesNotTake) {
  EXPECT_EQ(verifyOne(OpKind::Relu, Attrs{{"axis", int64_t(1)}}, kMatrix, kMatrix),
            "IR verifier: node %1 (relu 'n'): attribute 'axis' is not one this op takes (it takes none)");
  EXPECT_EQ(verifyOne(OpKind::ReduceSum, Attrs{{"axes", V{1}}, {"keepdim", int64_t(1)}}, kMatrix,
                      TensorType{DType::F32, Shape{kBatch}}),
            "IR verifier: node %1 (reduce_sum 'n'): attribute 'keepdim' is not one this op takes (it takes axes, "
            "keepdims)");
  // input_hw belongs to the gradient's family, not to the forward op's.
  EXPECT_EQ(verifyOne(OpKind::AvgPool,
                      Attrs{{"window", V{2, 2}}, {"strides", V{2, 2}}, {"pads", V{0, 0, 0, 0}}, {"input_hw", V{4, 4}}},
                      kImage, TensorType{DType::F32, Shape{kBatch, 2, 2, 2}}),
            "IR verifier: node %1 (avgpool 'n'): attribute 'input_hw' is not one this op takes (it takes window, "
            "strides, pads)");
}

TEST(AttrSchema, VerifierRefusesAMissingRequiredAttribute) {
  EXPECT_EQ(verifyOne(OpKind::Slice, Attrs{{"axis", int64_t(1)}, {"begin", int64_t(0)}}, kMatrix, kMatrix),
            "IR verifier: node %1 (slice 'n'): lacks the required attribute 'end'");
  EXPECT_EQ(verifyOne(OpKind::MaxPool, Attrs{{"window", V{2, 2}}, {"pads", V{0, 0, 0, 0}}}, kImage, kImage),
            "IR verifier: node %1 (maxpool 'n'): lacks the required attribute 'strides'");
  // A missing required value is an error, not a silent 0: one_hot without a depth.
  EXPECT_EQ(verifyOne(OpKind::OneHot, Attrs{}, TensorType{DType::I32, Shape{kBatch}}, kMatrix),
            "IR verifier: node %1 (one_hot 'n'): lacks the required attribute 'depth'");
}

TEST(AttrSchema, VerifierRefusesAValueOfTheWrongType) {
  EXPECT_EQ(verifyOne(OpKind::Transpose, Attrs{{"perm", std::string("1,0")}}, kMatrix, kMatrix),
            "IR verifier: node %1 (transpose 'n'): attribute 'perm' must be a list of integers, got 1,0");
  EXPECT_EQ(verifyOne(OpKind::Softmax, Attrs{{"axis", 1.5}}, kMatrix, kMatrix),
            "IR verifier: node %1 (softmax 'n'): attribute 'axis' must be an integer, got 1.5");
  EXPECT_EQ(verifyOne(OpKind::Cast, Attrs{{"dtype", int64_t(1)}}, kMatrix, kMatrix),
            "IR verifier: node %1 (cast 'n'): attribute 'dtype' must be a word, got 1");
}

TEST(AttrSchema, VerifierRefusesAnOutOfRangeValue) {
  const TensorType reduced{DType::F32, Shape{kBatch, 1}};
  EXPECT_EQ(verifyOne(OpKind::ReduceSum, Attrs{{"axes", V{1}}, {"keepdims", int64_t(2)}}, kMatrix, reduced),
            "IR verifier: node %1 (reduce_sum 'n'): attribute 'keepdims' must be 0 or 1, got 2");
  EXPECT_EQ(verifyOne(OpKind::MaxPool, Attrs{{"window", V{-2, 2}}, {"strides", V{1, 1}}, {"pads", V{0, 0, 0, 0}}},
                      kImage, kImage),
            "IR verifier: node %1 (maxpool 'n'): attribute 'window' must be positive, got [-2, 2]");
  EXPECT_EQ(verifyOne(OpKind::Pad, Attrs{{"pads", V{0, 0, -1, 0}}, {"mode", std::string("constant")}}, kImage, kImage),
            "IR verifier: node %1 (pad 'n'): attribute 'pads' must be non-negative, got [0, 0, -1, 0]");
  EXPECT_EQ(verifyOne(OpKind::MaxPool, Attrs{{"window", V{2, 2}}, {"strides", V{1}}, {"pads", V{0, 0, 0, 0}}}, kImage,
                      kImage),
            "IR verifier: node %1 (maxpool 'n'): attribute 'strides' needs 2 values, got [1]");
  EXPECT_EQ(verifyOne(OpKind::Upsample, Attrs{{"scale", V{2, 2}}, {"mode", std::string("cubic")}}, kImage, kImage),
            "IR verifier: node %1 (upsample 'n'): attribute 'mode' must be nearest or bilinear, got 'cubic'");
  EXPECT_EQ(verifyOne(OpKind::Dropout, Attrs{{"rate", 1.0}}, kMatrix, kMatrix),
            "IR verifier: node %1 (dropout 'n'): attribute 'rate' must be in [0, 1), got 1.0");
}

TEST(AttrSchema, VerifierChecksLeavesAndRulesAcrossFields) {
  Graph g;
  g.addLeaf(OpKind::Constant, "", TensorType{DType::F32, Shape{2}}, Attrs{{"value", 1.0}, {"values", std::vector<double>{1, 2}}});
  Result<void> ok = verifyGraph(g);
  ASSERT_FALSE(ok);
  EXPECT_EQ(ok.error().message, "IR verifier: node %0 (constant): a constant needs exactly one of attributes 'value' and 'values'");

  Graph h;
  h.addLeaf(OpKind::Param, "w", TensorType{DType::F32, Shape{2}}, Attrs{{"init", std::string("zeros")}, {"layer", int64_t(1)}});
  ok = verifyGraph(h);
  ASSERT_FALSE(ok);
  EXPECT_EQ(ok.error().message, "IR verifier: node %0 (param 'w'): attribute 'layer' is not one this op takes (it takes init, init_args)");
}

// Building a node checks its attributes too: the shape rules read them typed.
TEST(AttrSchema, ShapeInferenceRefusesBadAttributesBeforeReadingThem) {
  Result<TensorType> t = inferType(OpKind::Slice, {kMatrix}, Attrs{{"axis", int64_t(1)}, {"end", int64_t(2)}});
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().message, "slice: lacks the required attribute 'begin'");
  t = inferType(OpKind::Slice, {kMatrix}, SliceAttr{1, 2, 4}.attrs());
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(*t, (TensorType{DType::F32, Shape{kBatch, 2}}));
}

std::vector<OpKind> allOps() {
  std::vector<OpKind> ops;
  for (int i = 0; i < numOpKinds(); ++i) ops.push_back(static_cast<OpKind>(i));
  return ops;
}

// A value of another type than the field's.
AttrValue wrongValueFor(const AttrFieldInfo& f) {
  if (std::string(f.type) == "a word") return int64_t(1);
  return std::string("?");
}

// Every op's registry row and its typed family agree: the family's keys are distinct; an
// unknown key, a missing required key and a value of the wrong type are each refused with a
// message naming the key; an op without required keys accepts an empty list.
TEST(AttrSchema, EveryOpsRowAndTypedFamilyAgree) {
  for (OpKind k : allOps()) {
    SCOPED_TRACE(opName(k));
    const std::vector<AttrFieldInfo> fields = attrFamilyFields(opInfo(k).attrs);
    std::set<std::string> names;
    bool anyRequired = false;
    for (const AttrFieldInfo& f : fields) {
      EXPECT_TRUE(names.insert(f.name).second) << f.name << " listed twice";
      anyRequired = anyRequired || f.required;
    }
    Result<void> empty = checkOpAttrs(k, Attrs{});
    if (k != OpKind::Constant) {  // a constant's rule across fields wants value or values
      EXPECT_EQ(empty.ok(), !anyRequired);
    }
    for (const AttrFieldInfo& f : fields)
      if (f.required) {  // the first required key is the one an empty list lacks
        ASSERT_FALSE(empty);
        EXPECT_EQ(empty.error().message, "lacks the required attribute '" + f.name + "'");
        break;
      }

    Result<void> unknown = checkOpAttrs(k, Attrs{{"no_such_attribute", int64_t(1)}});
    ASSERT_FALSE(unknown);
    EXPECT_NE(unknown.error().message.find("attribute 'no_such_attribute' is not one this op takes"), std::string::npos);

    for (const AttrFieldInfo& f : fields) {
      SCOPED_TRACE(f.name);
      Result<void> wrong = checkOpAttrs(k, Attrs{{f.name, wrongValueFor(f)}});
      ASSERT_FALSE(wrong);
      const std::string& m = wrong.error().message;
      // Either this key's type is named, or an earlier required key is missing.
      EXPECT_TRUE(m.find("attribute '" + f.name + "' must be " + f.type) != std::string::npos ||
                  m.find("lacks the required attribute") != std::string::npos)
          << m;
    }
  }
}

// The typed write leaves out defaults and the typed read restores them; required values and
// non-defaults survive the round trip.
TEST(AttrSchema, TypedWritesAndReadsRoundTrip) {
  EXPECT_TRUE((AxesAttr{{0, 2}}.attrs() == Attrs{{"axes", V{0, 2}}}));
  EXPECT_TRUE(MatMulTransposeAttr{}.attrs().empty());
  EXPECT_TRUE((MatMulTransposeAttr{false, true}.attrs() == Attrs{{"transpose_b", int64_t(1)}}));
  EXPECT_EQ(AxisAttr::of(Attrs{}).axis, -1);
  EXPECT_EQ(BatchNormAttr::of(Attrs{}).eps, 1e-3);
  EXPECT_EQ(BatchNormAttr::of(Attrs{}).momentum, 0.99);

  const ConvGradInputAttr conv{ConvAttr{{2, 1}, {1, 0, 1, 0}, {2, 2}, 2}, InputHwAttr{{8, 5}}};
  EXPECT_TRUE(ConvGradInputAttr::of(conv.attrs()) == conv);
  EXPECT_TRUE(checkOpAttrs(OpKind::Conv2DGradInput, conv.attrs()).ok());
  const Window w = conv.window(3, 3);
  EXPECT_EQ(w.sh, 2);
  EXPECT_EQ(w.pt, 1);
  EXPECT_EQ(w.pb, 1);
  EXPECT_EQ(w.dh, 2);
  EXPECT_EQ(ConvAttr::of(conv.attrs()).groups, 2);

  const AugmentAttr aug{"translation", "horizontal", 0.25, 0.5, AttrSeed{7}, AttrSeed{9}, true};
  EXPECT_TRUE(AugmentAttr::of(aug.attrs()) == aug);
  EXPECT_TRUE(checkOpAttrs(OpKind::AugmentImages, aug.attrs()).ok());

  // A seed may arrive as a float; integers and floats read alike to what the JIT uses.
  EXPECT_EQ(DropoutMaskAttr::of(Attrs{{"seed", int64_t(7)}}).seed.value, 7u);
  EXPECT_EQ(DropoutMaskAttr::of(Attrs{{"seed", 7.0}}).seed.value, philox::stepFromFloat(7.0));

  // alpha: the node's, else the row's default.
  EXPECT_EQ(alphaAttr(OpKind::LeakyRelu, Attrs{}), opInfo(OpKind::LeakyRelu).alphaDefault);
  EXPECT_EQ(alphaAttr(OpKind::Elu, AlphaAttr{0.5}.attrs()), 0.5);

  // Constant values written as integers read as numbers.
  EXPECT_EQ(*ConstantAttr::of(Attrs{{"values", V{1, 2}}}).values, (std::vector<double>{1, 2}));
}

}  // namespace
}  // namespace nnc
