// gradcheck on `.nn` models through the front end: the shipped examples and small models
// covering every layer kind.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "compiler/train/GradCheck.h"
#include "dsl/Frontend.h"

namespace nnc {
namespace {

std::optional<Model> compile(const std::string& source) {
  DiagnosticEngine diags("test.nn", source);
  std::optional<Model> m = compileModel(source, diags);
  EXPECT_TRUE(m.has_value()) << diags.renderToString();
  return m;
}

std::string readExample(const std::string& name) {
  std::ifstream in(std::string(NNC_SOURCE_DIR) + "/examples/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void expectGradCheckPasses(const std::string& source, uint64_t seed = 0, int64_t sampledEntries = 0) {
  std::optional<Model> m = compile(source);
  ASSERT_TRUE(m.has_value());
  GradCheckOptions o;
  o.seed = seed;
  if (sampledEntries > 0) o.sampledEntries = sampledEntries;
  Result<GradCheckReport> r = gradCheck(*m, o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->passed()) << formatGradCheckReport(*r);
}

class GradCheckExample : public ::testing::TestWithParam<const char*> {};

// fashion_cnn's convolutions make each loss evaluation slow in the interpreter: fewer
// sampled entries keep this test short (the command line's default samples 10).
TEST_P(GradCheckExample, Passes) {
  bool slow = std::string(GetParam()) == "fashion_cnn.nn" || std::string(GetParam()) == "fashion_cnn_augmented.nn";
  expectGradCheckPasses(readExample(GetParam()), 0, slow ? 3 : 0);
}

INSTANTIATE_TEST_SUITE_P(Examples, GradCheckExample,
                         ::testing::Values("fashion_mlp.nn", "explicit_params.nn", "maxout_batchnorm.nn",
                                           "sequence_lstm.nn", "fashion_cnn.nn", "fashion_cnn_augmented.nn"),
                         [](const auto& info) {
                           std::string n = info.param;
                           return n.substr(0, n.find('.'));
                         });


// Small models covering every layer and op family; three seeds each, so that a kink (relu,
// max, maxpool) near the random point would show up as a flaky failure here first.
struct SmallModel {
  const char* name;
  const char* source;
};

const SmallModel kSmallModels[] = {
    {"dense_activations", R"(
model dense_activations
input x: f32[batch, 6]
input label: i32[batch]
a = dense(x, 5, activation = leaky_relu)
b = dense(a, 5, activation = elu)
c = dense(b, 5, activation = selu)
d = dense(c, 5, activation = gelu)
e = dense(d, 5, activation = softplus)
f = dense(e, 5, activation = sigmoid)
logits = dense(f, 4, activation = tanh)
output probs = softmax(logits)
train { loss = cross_entropy(logits, label) }
)"},
    {"conv_pools", R"(
model conv_pools
input image: f32[batch, 7, 6, 2]
input label: i32[batch]
c1 = conv2d(image, 3, kernel = 3, stride = 2, padding = same, activation = relu)
c2 = conv2d(c1, 4, kernel = [2, 1], padding = valid)
p1 = maxpool(c2, 2, stride = 1, padding = same)
p2 = avgpool(p1, 2, padding = same)
g  = global_avgpool(p2)
logits = dense(g, 3)
train { loss = cross_entropy(logits, label, class_weights = [1, 2, 0.5]) }
)"},
    {"recurrent", R"(
model recurrent
input seq: f32[batch, 4, 3]
input target: f32[batch, 4, 2]
r = rnn(seq, 3, sequences = true)
l = lstm(r, 2, sequences = true)
train { loss = mse(l, target) }
)"},
    {"rnn_relu_last", R"(
model rnn_relu_last
input seq: f32[batch, 3, 2]
input t: f32[batch, 1]
r = rnn(seq, 4, activation = relu)
z = dense(r, 1)
train { loss = binary_cross_entropy(z, t) }
)"},
    {"explicit_math", R"(
model explicit_math
input x: f32[batch, 4]
input t: f32[batch, 3]
param w: f32[4, 3] = normal(0, 0.5)
param v: f32[3, 3] = he_normal
param b: f32[3] = constant(0.1)
h = x @ w + b
m = maximum(h, 0.1 * h) - minimum(exp(h), sqrt(abs(h) + 1))
k = clip(m, -1, 1) + square(h) / (1 + log(1 + square(h)))
s = sum(k, axis = 1) + mean(k @ v, axis = -1) + max(k, axis = 1)
r = reshape(k, [3, 1])
q = transpose(concat([r, reshape(h, [3, 1])], axis = 1), [0, 2, 1])
y = flatten(q)
train { loss = mse(k, t) + mean(s) + mean(y * y) }
)"},
    {"maxout_bn_dropout", R"(
model maxout_bn_dropout
input x: f32[batch, 5]
input label: i32[batch]
m = maxout(x, 4, pieces = 3)
n = batchnorm(m, momentum = 0.9)
d = dropout(n, 0.3)
logits = dense(d, 3)
output probs = softmax(logits)
train { loss = cross_entropy(logits, label) + 0 * mean(log_softmax(logits)) }
)"},
    // Augmentation mid-network, in training mode (the draws of step 0): the gradients of c's
    // weights pass back through a translation and a flip.
    {"augment_mid_network", R"(
model augment_mid_network
input image: f32[batch, 6, 5, 2]
input label: i32[batch]
c = conv2d(image, 3, kernel = 3, activation = tanh)
t = random_translation(c, height = 0.34, width = 0.4)
f = random_flip(t, mode = both)
logits = dense(flatten(f), 3)
output probs = softmax(logits)
train { loss = cross_entropy(logits, label) }
)"},
};

class GradCheckSmall : public ::testing::TestWithParam<SmallModel> {};

TEST_P(GradCheckSmall, PassesForSeveralSeeds) {
  for (uint64_t seed : {0u, 1u, 2u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    expectGradCheckPasses(GetParam().source, seed);
  }
}

INSTANTIATE_TEST_SUITE_P(Models, GradCheckSmall, ::testing::ValuesIn(kSmallModels),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace nnc
