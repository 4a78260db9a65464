// Issue 17 item 8: hints that help more. Keras and PyTorch names get nnc's name for the same
// thing (meaning before spelling), a name nnc lacks gets how to write it rather than a
// different op that is spelt alike, and `layer.param` reads a layer's parameter.
#include <gtest/gtest.h>

#include "support/Suggest.h"
#include "tests/dsl/SemaTestHelpers.h"

namespace nnc::testing {
namespace {

const std::string kHeader = "model t\ninput x: f32[batch, 8, 8, 3]\ninput y: i32[batch]\n";

std::string firstMessage(const std::string& body) {
  std::string m = errorMessages(kHeader + body);
  return m.substr(0, m.find('\n'));
}

TEST(SemaHints, KerasAndPyTorchNamesGetNncsName) {
  EXPECT_EQ(firstMessage("a = concatenate([x, x])\n"), "unknown operation 'concatenate' (did you mean 'concat'?)");
  EXPECT_EQ(firstMessage("a = Dense(x, 3)\n"), "unknown operation 'Dense' (did you mean 'dense'?)");
  EXPECT_EQ(firstMessage("a = Conv2D(x, 4, kernel = 3)\n"), "unknown operation 'Conv2D' (did you mean 'conv2d'?)");
  EXPECT_EQ(firstMessage("a = BatchNormalization(x)\n"),
            "unknown operation 'BatchNormalization' (did you mean 'batchnorm'?)");
  EXPECT_EQ(firstMessage("a = LeakyReLU(x)\n"), "unknown operation 'LeakyReLU' (did you mean 'leaky_relu'?)");
  EXPECT_EQ(firstMessage("a = dense(flatten(x), 3)\ntrain { loss = categorical_crossentropy(a, y) }\n"),
            "unknown operation 'categorical_crossentropy' (did you mean 'cross_entropy'?)");
  EXPECT_EQ(firstMessage("a = dense(flatten(x), 3)\ntrain {\n  loss = cross_entropy(a, y)\n"
                         "  optimizer = adam(learning_rate = 1e-3)\n}\n"),
            "unknown keyword argument 'learning_rate' for 'adam' (did you mean 'lr'?)");
  EXPECT_EQ(firstMessage("a = dense(flatten(x), 3)\ntrain {\n  loss = cross_entropy(a, y)\n  batch_size = 8\n}\n"),
            "unknown key 'batch_size' in the train block (did you mean 'batch'?)");
}

TEST(SemaHints, MeaningBeforeSpelling) {
  // Spelt one letter from global_avgpool and selu, but not the same operation: without a
  // name of its own in nnc, the hint says how to write it.
  const std::vector<std::string> ops = {"global_avgpool", "selu", "sigmoid", "max", "sum"};
  EXPECT_EQ(didYouMean("global_maxpool", ops), " (nnc has no 'global_maxpool'; write max(x, axis = [1, 2]))");
  EXPECT_EQ(didYouMean("silu", ops), " (nnc has no 'silu'; write x * sigmoid(x))");
  // Once nnc has the op (another issue adds it), the alias table names it.
  EXPECT_EQ(didYouMean("swish", {"silu", "selu", "sigmoid"}), " (did you mean 'silu'?)");
  EXPECT_EQ(didYouMean("GlobalMaxPooling2D", {"global_maxpool", "global_avgpool"}),
            " (did you mean 'global_maxpool'?)");
  // Plain typos still get the closest spelling.
  EXPECT_EQ(didYouMean("sigmod", ops), " (did you mean 'sigmoid'?)");
}

TEST(SemaHints, ParameterReferenceReadsTheLayersTensor) {
  Model m = compileOk(kHeader +
                      "h = dense(flatten(x), 8, activation = relu)\nlogits = dense(h, 3)\n"
                      "train { loss = cross_entropy(logits, y) + 1e-3 * sum(square(logits.weight)) }\n");
  ASSERT_TRUE(m.train);
  // The regulariser reads the very Param leaf the layer multiplies by.
  const NodeId weight = leaf(m, OpKind::Param, "logits.weight");
  ASSERT_NE(weight, kNoNode);
  size_t users = 0;
  for (const Node& n : m.graph.nodes())
    for (NodeId in : n.inputs) users += in == weight;
  EXPECT_EQ(users, 2u) << "the layer's matmul and the regulariser's square";
}

TEST(SemaHints, UnknownParameterReferenceSaysWhatExists) {
  EXPECT_EQ(firstMessage("h = dense(flatten(x), 8)\nr = sum(h.wieght)\n"),
            "unknown parameter 'h.wieght' (did you mean 'h.weight'?); NAME.PARAM reads a parameter a layer created, "
            "such as dense's NAME.weight and NAME.bias");
  EXPECT_EQ(firstMessage("h = dense(flatten(x), 8)\nr = sum(h.gamma)\n"),
            "unknown parameter 'h.gamma' ('h' has h.weight, h.bias); NAME.PARAM reads a parameter a layer "
            "created, such as dense's NAME.weight and NAME.bias");
  EXPECT_NE(firstMessage("r = sum(h.weight)\nh = dense(flatten(x), 8)\n").find("'h' is defined further down"),
            std::string::npos);
}

// `nnc summary` lists a layer the loss creates under its own name, and nested layers once
// each, so the rows add up to the total the model really has.
TEST(SemaHints, LayersInTheLossGetRowsOfTheirOwn) {
  Model m = compileOk(
      "model t\ninput x: f32[batch, 9]\ninput y: f32[batch, 1]\nh = dense(x, 8)\n"
      "train { loss = mse(dense(dense(h, 4, name = \"inner\"), 1, name = \"aux\"), y) }\n");
  int64_t params = 0;
  for (NodeId id : m.graph.leaves(OpKind::Param)) params += m.graph.type(id).shape.numElements();
  EXPECT_EQ(params, 80 + 36 + 5);
  EXPECT_EQ(totalParams(m), params);
  std::vector<std::string> rows;
  for (const LayerRow& r : m.layers) rows.push_back(r.name + " " + r.kind + " " + std::to_string(r.trainableParams));
  EXPECT_EQ(rows, (std::vector<std::string>{"x InputLayer 0", "y InputLayer 0", "h Dense 80", "inner Dense 36",
                                            "aux Dense 5"}));
}

}  // namespace
}  // namespace nnc::testing
