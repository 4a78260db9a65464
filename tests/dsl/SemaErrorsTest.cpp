// Error recovery: every error of a file is reported in one run, in source order, without
// cascades from names whose declaration failed; names, duplicates, types and limits.
#include <gtest/gtest.h>

#include "tests/dsl/SemaTestHelpers.h"

namespace nnc::testing {
namespace {

TEST(SemaErrors, AllErrorsOfAFileInOneRun) {
  std::string src =
      "model t\n"
      "input x: f32[batch, 4]\n"
      "a = relu(q)\n"          // unknown name
      "b = dense(a, 3)\n"      // uses a poisoned name: no second error
      "c = desne(x, 3)\n"      // unknown op
      "d = relu(b) + c\n"      // both poisoned: nothing
      "e = dense(x, 0)\n"      // range
      "train { batch = 0 }\n"; // range, and no loss
  EXPECT_EQ(errorMessages(src),
            "unknown name 'q'\n"
            "unknown operation 'desne' (did you mean 'dense'?)\n"
            "argument 'units' of 'dense' must be in [1, 1000000000], got 0\n"
            "the train block needs 'loss'\n"
            "'batch' must be in [1, 2147483647], got 0\n");
}

TEST(SemaErrors, DuplicateDefinitionPointsAtTheFirst) {
  EXPECT_EQ(compileErrors("model t\ninput x: f32[batch, 4]\nh = relu(x)\n\nh = tanh(x)\n"),
            "test.nn:5:1: error: 'h' is already defined at 3:1\n"
            "h = tanh(x)\n"
            "^\n");
}

TEST(SemaErrors, DuplicateParameterNames) {
  EXPECT_EQ(errorMessages("model t\ninput x: f32[batch, 4]\nh = dense(x, 2)\ng = dense(x, 2, name = \"h\")\n"),
            "parameter 'h.weight' is already defined at 3:5\n");
}

TEST(SemaErrors, UseBeforeDefinition) {
  EXPECT_EQ(errorMessages("model t\ninput x: f32[batch, 4]\na = relu(b)\nb = relu(x)\n"),
            "'b' is used before its definition at 4:1\n");
}

TEST(SemaErrors, Types) {
  EXPECT_EQ(errorMessages("model t\ninput x: f32[4, batch]\n"), "batch may only be the first dimension of an input\n");
  EXPECT_EQ(errorMessages("model t\nparam w: f32[batch, 4]\n"), "batch may only be the first dimension of an input\n");
  EXPECT_EQ(errorMessages("model t\ninput x: f64[4]\n"), "unknown element type 'f64' (expected f32 or i32)\n");
  EXPECT_EQ(errorMessages("model t\ninput x: f32[btch, 4]\n"),
            "unknown dimension 'btch' (did you mean 'batch'?): a dimension is an integer or batch\n");
  EXPECT_EQ(errorMessages("model t\ninput x: f32[0, 4]\n"), "dimensions must be positive, got 0\n");
  EXPECT_EQ(errorMessages("model t\nparam w: i32[4]\n"), "param 'w' must be f32: parameters are trained by gradients\n");
}

TEST(SemaErrors, HugeParameterIsRefusedWithItsSize) {
  EXPECT_EQ(errorMessages("model t\nparam w: f32[1000000, 1000000]\n"),
            "parameter 'w' has 1000000000000 elements (3725.3 GiB as f32), more than the limit of 16.0 GiB per tensor\n");
  EXPECT_EQ(errorMessages("model t\ninput x: f32[batch, 100000]\nh = dense(x, 100000)\n"),
            "parameter 'h.weight' has 10000000000 elements (37.3 GiB as f32), more than the limit of 16.0 GiB per "
            "tensor\n");
  // Products that overflow 64 bits are still refused, not wrapped.
  EXPECT_FALSE(errorMessages("model t\nparam w: f32[4000000000, 4000000000, 4000000000]\n").empty());
}

TEST(SemaErrors, Outputs) {
  EXPECT_EQ(errorMessages("model t\ninput x: f32[batch, 4]\noutput y\n"), "unknown name 'y'\n");
  EXPECT_EQ(errorMessages("model t\ninput x: f32[batch, 4]\noutput x\noutput x\n"),
            "'x' is already an output (at 3:8)\n");
}

TEST(SemaErrors, TrainBlock) {
  std::string head = "model t\ninput x: f32[batch, 4]\ninput y: i32[batch]\nz = dense(x, 3)\n";
  auto train = [&](const std::string& body) {
    return errorMessages(head + "train {\n  loss = cross_entropy(z, y)\n" + body + "}\n");
  };
  EXPECT_EQ(train("  epoch = 3\n"), "unknown key 'epoch' in the train block (did you mean 'epochs'?)\n");
  EXPECT_EQ(train("  optimizer = adm()\n"), "unknown optimizer 'adm' (did you mean 'adam'?)\n");
  EXPECT_EQ(train("  optimizer = adam(lr = -0.001)\n"), "argument 'lr' of 'adam' must be > 0, got -0.001\n");
  EXPECT_EQ(train("  optimizer = 3\n"), "'optimizer' must be an optimizer, got a number\n");
  EXPECT_EQ(train("  validation = 1.5\n"), "'validation' must be in [0, 1), got 1.5\n");
  EXPECT_EQ(train("  early_stop = 2\n"), "early_stop needs validation > 0: it watches the validation loss\n");
  EXPECT_EQ(train("  schedule = step(every = 2)\n"), "missing argument 'factor' for 'step'\n");
  EXPECT_EQ(train("  schedule = linear\n"), "unknown schedule 'linear'\n");
  EXPECT_EQ(train("  sampling = some\n"), "unknown sampling 'some'; expected one of none, oversample\n");
  EXPECT_EQ(train("  batch = 32\n  batch = 64\n"), "'batch' is already set at 7:3\n");
  EXPECT_EQ(train("  shuffle = 1\n"), "'shuffle' must be true or false, got 1\n");
  EXPECT_EQ(train("  seed = -1\n"), "'seed' must be >= 0, got -1\n");
  EXPECT_EQ(train("  normalize = scale\n"), "missing argument 'c' for 'scale'\n");
  EXPECT_EQ(train("  class_weights = [1, 2]\n"), "class_weights has 2 values but cross_entropy has 3 classes\n");
  EXPECT_EQ(train("  class_weights = balance\n"), "unknown class_weights 'balance' (did you mean 'balanced'?)\n");
  EXPECT_EQ(train("  sampling = undersample\n"), "unknown sampling 'undersample' (did you mean 'oversample'?)\n");
  EXPECT_EQ(train("  optimizer = sgd(nesterov = true)\n"), "sgd: nesterov = true needs momentum > 0\n");
  EXPECT_EQ(errorMessages(head + "train { loss = z }\n"), "loss must be a scalar f32, got f32[batch, 3]\n");
  EXPECT_EQ(errorMessages(head + "train { loss = cross_entropy(z, y) }\ntrain { loss = cross_entropy(z, y) }\n"),
            "only one train block is allowed; the first is at 5:1\n");
  EXPECT_EQ(errorMessages(head + "train { loss = mse(z, z) class_weights = balanced }\n"),
            "class_weights are used by cross_entropy calls that give none of their own, and this model has none\n");
}

TEST(SemaErrors, ErrorsComeOutInSourceOrder) {
  // The train block checks its keys before the loss; messages are still in line order.
  std::string src =
      "model t\ninput x: f32[batch, 4]\n"
      "train {\n  loss = relu(q)\n  batch = -1\n}\n";
  EXPECT_EQ(errorMessages(src), "unknown name 'q'\n'batch' must be in [1, 2147483647], got -1\n");
}

}  // namespace
}  // namespace nnc::testing
