// Operations without parameters: result types for every op of LANGUAGE.md, the IR they lower
// to, and the errors of each family.
#include <gtest/gtest.h>

#include "tests/dsl/SemaTestHelpers.h"

namespace nnc::testing {
namespace {

const char* kInputs =
    "model t\n"
    "input x: f32[batch, 10]\n"
    "input y: f32[batch, 10]\n"
    "input v: f32[10]\n"
    "input m: f32[10, 4]\n"
    "input img: f32[batch, 28, 28, 3]\n"
    "input lab: i32[batch]\n"
    "input seq: f32[batch, 6, 4]\n";

struct OpCase {
  const char* expr;
  TensorType type;
};

void PrintTo(const OpCase& c, std::ostream* os) { *os << c.expr; }

class SemaOpTypes : public ::testing::TestWithParam<OpCase> {};

TEST_P(SemaOpTypes, ResultType) {
  Model m = compileOk(std::string(kInputs) + "r = " + GetParam().expr + "\n");
  EXPECT_EQ(typeOf(m, "r"), GetParam().type) << GetParam().expr;
}

const TensorType F(std::initializer_list<int64_t> d) { return TensorType{DType::F32, Shape(d)}; }
const TensorType I(std::initializer_list<int64_t> d) { return TensorType{DType::I32, Shape(d)}; }
constexpr int64_t B = kBatch;

INSTANTIATE_TEST_SUITE_P(
    AllOps, SemaOpTypes,
    ::testing::Values(
        // Activations
        OpCase{"relu(x)", F({B, 10})}, OpCase{"leaky_relu(x, alpha = 0.2)", F({B, 10})},
        OpCase{"elu(x)", F({B, 10})}, OpCase{"selu(x)", F({B, 10})}, OpCase{"gelu(x)", F({B, 10})},
        OpCase{"sigmoid(x)", F({B, 10})}, OpCase{"tanh(x)", F({B, 10})}, OpCase{"softplus(x)", F({B, 10})},
        OpCase{"softmax(x)", F({B, 10})}, OpCase{"log_softmax(x, axis = 1)", F({B, 10})},
        // Math
        OpCase{"exp(x)", F({B, 10})}, OpCase{"log(x)", F({B, 10})}, OpCase{"sqrt(x)", F({B, 10})},
        OpCase{"abs(x)", F({B, 10})}, OpCase{"square(x)", F({B, 10})}, OpCase{"abs(lab)", I({B})},
        OpCase{"maximum(x, v)", F({B, 10})}, OpCase{"minimum(x, 0)", F({B, 10})},
        OpCase{"clip(x, -1, 1)", F({B, 10})},
        // Reductions
        OpCase{"sum(x)", F({})}, OpCase{"sum(x, axis = 1)", F({B})}, OpCase{"mean(x, axis = [0, 1])", F({})},
        OpCase{"max(img, axis = [1, 2])", F({B, 3})}, OpCase{"mean(x, axis = -1, keepdims = true)", F({B, 1})},
        OpCase{"sum(lab)", I({})}, OpCase{"argmax(x)", I({B})}, OpCase{"argmax(m, axis = 0)", I({4})},
        // Shape
        OpCase{"flatten(img)", F({B, 2352})}, OpCase{"flatten(v)", F({10, 1})},
        OpCase{"reshape(x, [2, 5])", F({B, 2, 5})}, OpCase{"reshape(x, [-1, 2])", F({B, 5, 2})},
        OpCase{"reshape(img, [-1])", F({B, 2352})}, OpCase{"reshape(m, [40])", F({40})},
        OpCase{"reshape(m, [2, -1])", F({2, 20})}, OpCase{"transpose(m, [1, 0])", F({4, 10})},
        OpCase{"transpose(seq, [0, 2, 1])", F({B, 4, 6})}, OpCase{"concat([x, y])", F({B, 20})},
        OpCase{"concat([seq, seq, seq], axis = 1)", F({B, 18, 4})},
        // Images
        OpCase{"maxpool(img, 2)", F({B, 14, 14, 3})}, OpCase{"avgpool(img, 3, stride = 2)", F({B, 13, 13, 3})},
        OpCase{"maxpool(img, 3, stride = 2, padding = same)", F({B, 14, 14, 3})},
        OpCase{"avgpool(img, [2, 4])", F({B, 14, 7, 3})}, OpCase{"global_avgpool(img)", F({B, 3})},
        // Regularisation and losses
        OpCase{"dropout(x, 0.5)", F({B, 10})}, OpCase{"cross_entropy(x, lab)", F({})},
        OpCase{"cross_entropy(x, lab, class_weights = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])", F({})},
        OpCase{"binary_cross_entropy(x, y)", F({})}, OpCase{"mse(x, y)", F({})},
        // Operators
        OpCase{"x + y", F({B, 10})}, OpCase{"x - v", F({B, 10})}, OpCase{"x * 2", F({B, 10})},
        OpCase{"1 / x", F({B, 10})}, OpCase{"-x", F({B, 10})}, OpCase{"lab + 1", I({B})},
        OpCase{"x @ m", F({B, 4})}, OpCase{"v @ m", F({4})}, OpCase{"m @ transpose(m, [1, 0])", F({10, 10})},
        OpCase{"v @ v", F({})}, OpCase{"x @ v", F({B})}, OpCase{"seq @ transpose(m, [1, 0])", F({B, 6, 10})},
        OpCase{"x * (1 / 255)", F({B, 10})}, OpCase{"2 * 3", F({})}));

TEST(SemaOps, LiteralsTakeTheOtherOperandsDtype) {
  Model m = compileOk(std::string(kInputs) + "r = lab * 2 + 1\n");
  for (const Node& n : m.graph.nodes()) {
    if (n.op == OpKind::Constant) {
      EXPECT_EQ(n.type.dtype, DType::I32);
    }
  }
}

TEST(SemaOps, ConstantsFold) {
  Model m = compileOk(std::string(kInputs) + "r = x * (1 / 4)\n");
  int constants = 0;
  for (const Node& n : m.graph.nodes())
    if (n.op == OpKind::Constant) {
      ++constants;
      EXPECT_DOUBLE_EQ(n.attrs.getFloat("value"), 0.25);
    }
  EXPECT_EQ(constants, 1);
}

TEST(SemaOps, ReductionAxesAreNormalisedAndSorted) {
  Model m = compileOk(std::string(kInputs) + "r = sum(img, axis = [-1, 1])\n");
  for (const Node& n : m.graph.nodes()) {
    if (n.op == OpKind::ReduceSum) {
      EXPECT_EQ(n.attrs.getInts("axes"), (std::vector<int64_t>{1, 3}));
    }
  }
}

TEST(SemaOps, ClipIsMaximumThenMinimum) {
  Model m = compileOk(std::string(kInputs) + "r = clip(x, 0, 6)\n");
  std::vector<OpKind> ops;
  for (const Node& n : m.graph.nodes())
    if (!isLeaf(n.op)) ops.push_back(n.op);
  EXPECT_EQ(ops, (std::vector<OpKind>{OpKind::Maximum, OpKind::Minimum}));
}

TEST(SemaOps, CrossEntropyUsesTheRunTimeBatchSize) {
  Model m = compileOk(std::string(kInputs) +
                      "a = cross_entropy(x, lab)\nb = cross_entropy(x, lab, class_weights = [1,1,1,1,1,1,1,1,1,2])\n");
  bool meanOverBatch = false, countsElements = false;
  for (const Node& n : m.graph.nodes()) {
    if (n.op == OpKind::ReduceMean && n.name == "a") meanOverBatch = true;
    if (n.op == OpKind::ElementCount) countsElements = true;
    // Never a constant batch size.
    if (n.op == OpKind::Constant) {
      EXPECT_NE(n.attrs.getFloat("value", -1), 32.0);
    }
  }
  EXPECT_TRUE(meanOverBatch);
  EXPECT_TRUE(countsElements);
}

struct ErrorCase {
  const char* expr;
  const char* message;
};

void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.expr; }

class SemaOpErrors : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(SemaOpErrors, Message) {
  std::string errs = errorMessages(std::string(kInputs) + "r = " + GetParam().expr + "\n");
  EXPECT_EQ(errs, std::string(GetParam().message) + "\n") << GetParam().expr;
}

INSTANTIATE_TEST_SUITE_P(
    AllFamilies, SemaOpErrors,
    ::testing::Values(
        ErrorCase{"relu(lab)", "relu expects f32, got i32[batch]"},
        ErrorCase{"x + lab", "operands of '+' have different dtypes: f32[batch, 10] and i32[batch]"},
        ErrorCase{"x + reshape(x, [5, 2])",
                  "operands of '+' cannot be broadcast together: f32[batch, 10] and f32[batch, 5, 2]"},
        ErrorCase{"lab / lab", "operands of '/' must be f32, got i32[batch] and i32[batch]"},
        ErrorCase{"lab * 0.5", "operands of '*' have different dtypes: 0.5 is not an integer, and the other operand is i32"},
        ErrorCase{"x @ x", "operands of '@' cannot be multiplied over the batch dimension: f32[batch, 10] @ f32[batch, 10]"},
        ErrorCase{"m @ m", "matmul: inner dimensions differ: f32[10, 4] @ f32[10, 4] (4 vs 10)"},
        ErrorCase{"dense(v, 3)", "dense expects an input of rank >= 2 [batch, ..., features], got f32[10]"},
        ErrorCase{"conv2d(x, 3, kernel = 3)",
                  "conv2d expects an input of rank 4 [batch, height, width, channels], got f32[batch, 10]"},
        ErrorCase{"conv2d(img, 3, kernel = 30, padding = valid)",
                  "conv2d: window 30x30 does not fit the 28x28 input with this padding"},
        ErrorCase{"maxpool(img, 29)", "maxpool: window 29x29 does not fit the 28x28 input with this padding"},
        ErrorCase{"concat([x, seq])", "concat: f32[batch, 10] and f32[batch, 6, 4] differ outside axis 1"},
        ErrorCase{"concat([x, lab])", "concat: operands have different dtypes: f32[batch, 10] and i32[batch]"},
        ErrorCase{"reshape(x, [3, 3])",
                  "reshape: cannot reshape f32[batch, 10] (10 elements per sample) to [batch, 3, 3] (9 elements per sample)"},
        ErrorCase{"reshape(x, [-1, 3])",
                  "reshape: cannot reshape f32[batch, 10] to [batch, -1, 3]: 10 elements per sample do not divide into parts of 3"},
        ErrorCase{"reshape(x, [-1, -1])", "reshape: only one dimension may be -1, got [batch, -1, -1]"},
        ErrorCase{"reshape(x, [0, 10])", "reshape: dimensions must be positive (or -1 once), got [batch, 0, 10]"},
        ErrorCase{"transpose(seq, [0, 1])", "transpose: perm [0, 1] has 2 axes but f32[batch, 6, 4] has 3"},
        ErrorCase{"transpose(seq, [0, 1, 1])",
                  "transpose: perm [0, 1, 1] is not a permutation of the 3 axes of f32[batch, 6, 4]"},
        ErrorCase{"transpose(seq, [1, 0, 2])",
                  "transpose: the batch axis must stay first, got perm [1, 0, 2] for f32[batch, 6, 4]"},
        ErrorCase{"sum(x, axis = 2)", "sum: axis 2 is out of range for f32[batch, 10]"},
        ErrorCase{"sum(x, axis = [1, -1])", "sum: axis -1 is listed twice"},
        ErrorCase{"softmax(x, axis = 3)", "softmax: axis 3 is out of range for f32[batch, 10]"},
        ErrorCase{"mean(lab)", "mean expects f32, got i32[batch]"},
        ErrorCase{"clip(x, 1, 0)", "clip: lo (1) must not be greater than hi (0)"},
        ErrorCase{"cross_entropy(x, v)",
                  "cross_entropy: f32 targets f32[10] must have the shape of the logits f32[batch, 10] (class "
                  "probabilities); integer class labels are i32[batch]"},
        ErrorCase{"cross_entropy(lab, lab)", "cross_entropy expects f32 logits, got i32[batch]"},
        ErrorCase{"cross_entropy(seq, lab)",
                  "cross_entropy: labels i32[batch] do not match logits f32[batch, 6, 4]: expected labels of shape [batch, 6]"},
        ErrorCase{"cross_entropy(x, lab, class_weights = [1, 2])",
                  "cross_entropy: class_weights has 2 values but logits f32[batch, 10] have 10 classes"},
        ErrorCase{"mse(x, v)", "mse: prediction f32[batch, 10] and target f32[10] have different shapes"},
        ErrorCase{"binary_cross_entropy(x, seq)",
                  "binary_cross_entropy: logits f32[batch, 10] and targets f32[batch, 6, 4] have different shapes"},
        ErrorCase{"dropout(x, 1)", "argument 'rate' of 'dropout' must be in [0, 1), got 1"},
        ErrorCase{"dense(x, 0)", "argument 'units' of 'dense' must be in [1, 1000000000], got 0"},
        ErrorCase{"dense(x, 2.5)", "argument 'units' of 'dense' must be an integer, got 2.5"},
        ErrorCase{"dense(x, 3, activaton = relu)",
                  "unknown keyword argument 'activaton' for 'dense' (did you mean 'activation'?)"},
        ErrorCase{"dense(x, 3, activation = rlu)", "unknown activation 'rlu' (did you mean 'relu'?)"},
        ErrorCase{"dense(x, 3, units = 4)", "argument 'units' of 'dense' is given twice (first at 9:14)"},
        ErrorCase{"dense(x)", "missing argument 'units' for 'dense'"},
        ErrorCase{"relu(x, 1)", "'relu' takes 1 argument, got 2"},
        ErrorCase{"conv2d(img, 3, kernel = [1, 2, 3])",
                  "argument 'kernel' of 'conv2d' must be an integer or a list of two integers [height, width], got [1, 2, 3]"},
        ErrorCase{"conv2d(img, 3, kernel = 3, padding = full)", "unknown padding 'full'; expected one of same, valid"},
        ErrorCase{"dense(x, 3, bias = yes)", "argument 'bias' of 'dense' must be true or false, got 'yes'"},
        ErrorCase{"dense(x, 3, init = glorot)", "unknown initializer 'glorot'"},
        ErrorCase{"desne(x, 3)", "unknown operation 'desne' (did you mean 'dense'?)"},
        ErrorCase{"relu(flt)", "unknown name 'flt'"},
        ErrorCase{"relu", "'relu' is an operation, not a value; call it as relu(...)"},
        ErrorCase{"x(3)", "'x' is a value, not an operation"},
        ErrorCase{"adam(x)", "'adam' is an optimizer, not an operation"},
        ErrorCase{"relu(dense(x, 3))",
                  "layer call 'dense' inside an expression needs name = \"...\" to name its parameters"},
        ErrorCase{"dense(x, 3, name = \"a b\")", "name = \"a b\" must be an identifier (letters, digits and _)"},
        ErrorCase{"[1, 2]", "expected a tensor, got a list (lists are arguments of calls such as concat([a, b]))"},
        ErrorCase{"x @ 2", "operands of '@' must have rank >= 1, got f32[batch, 10] and f32[]"},
        ErrorCase{"1 / 0", "division by zero"},
        ErrorCase{"dense(x, sum(x))", "argument 'units' of 'dense' must be a constant, got a call to 'sum'"},
        ErrorCase{"dense(x, units)", "argument 'units' of 'dense' must be an integer, got 'units'"}));

TEST(SemaOps, DidYouMeanForNamesInScope) {
  EXPECT_EQ(errorMessages("model t\ninput image: f32[batch, 4]\nflat = flatten(image)\ny = relu(flt)\n"),
            "unknown name 'flt' (did you mean 'flat'?)\n");
}

}  // namespace
}  // namespace nnc::testing
