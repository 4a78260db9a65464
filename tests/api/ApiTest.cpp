// The host API (nnc/nnc.h): errors as values with diagnostics, parameters by name, training
// steps from host memory, evaluation, prediction and checkpoints.
#include <gtest/gtest.h>
#include <nnc/nnc.h>

#include <cmath>
#include <cstdio>
#include <random>

namespace {

const char* kModel = R"(model blobs
input x: f32[batch, 2]
input label: i32[batch]
h = dense(x, 8, activation = tanh)
logits = dense(h, 2)
output probs = softmax(logits)
train {
  loss = cross_entropy(logits, label)
  optimizer = adam(lr = 0.05)
  batch = 16
}
)";

struct Blobs {
  std::vector<float> x;
  std::vector<int32_t> y;
};

Blobs makeBlobs(int n) {
  std::mt19937 rng(1);
  std::normal_distribution<float> noise(0, 0.5f);
  Blobs b;
  for (int i = 0; i < n; ++i) {
    int c = i % 2;
    b.x.push_back((c ? 2.f : -2.f) + noise(rng));
    b.x.push_back((c ? -1.f : 1.f) + noise(rng));
    b.y.push_back(c);
  }
  return b;
}

nnc::api::CompileOptions interp() {
  nnc::api::CompileOptions o;
  o.backend = nnc::api::Backend::Interpreter;
  return o;
}

TEST(Api, ModelErrorsCarryTheDiagnostic) {
  auto m = nnc::api::Model::fromString("model m\ninput x: f32[batch, 2]\ny = relu(z)\n", "bad.nn");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().find("bad.nn:3:"), std::string::npos) << m.error();
  EXPECT_NE(m.error().find("error:"), std::string::npos) << m.error();
  auto missing = nnc::api::Model::fromFile("/nonexistent.nn");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("cannot open"), std::string::npos);
}

TEST(Api, TrainsFromHostMemoryAndRoundTripsWeights) {
  auto model = nnc::api::Model::fromString(kModel, "blobs.nn", interp());
  ASSERT_TRUE(model.ok()) << model.error();
  ASSERT_EQ(model->inputs().size(), 2u);
  EXPECT_EQ(model->inputs()[0].name, "x");
  auto trainer = nnc::api::Trainer::create(*model);
  ASSERT_TRUE(trainer.ok()) << trainer.error();
  Blobs data = makeBlobs(64);
  nnc::api::TensorRef x{data.x.data(), {64, 2}, nnc::api::DataType::F32};
  nnc::api::TensorRef y{data.y.data(), {64}, nnc::api::DataType::I32};
  auto before = trainer->evaluate({x, y});
  ASSERT_TRUE(before.ok()) << before.error();
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(trainer->step({x, y}).ok());
  auto after = trainer->evaluate({x, y});
  ASSERT_TRUE(after.ok());
  EXPECT_LT(after->loss, before->loss * 0.5);
  EXPECT_GT(*after->accuracy, 0.95);
  EXPECT_EQ(trainer->stepsDone(), 40);

  auto pred = model->predict({x});
  ASSERT_TRUE(pred.ok()) << pred.error();
  EXPECT_EQ(pred->shape, (std::vector<int64_t>{64, 2}));
  EXPECT_NEAR(pred->values[0] + pred->values[1], 1.0f, 1e-5);

  std::string path = ::testing::TempDir() + "/api_blobs.safetensors";
  ASSERT_TRUE(model->save(path).ok());
  auto fresh = nnc::api::Model::fromString(kModel, "blobs.nn", interp());
  ASSERT_TRUE(fresh.ok());
  auto w0 = fresh->parameter("h.weight");
  ASSERT_TRUE(fresh->load(path).ok());
  auto w1 = fresh->parameter("h.weight"), w2 = model->parameter("h.weight");
  ASSERT_TRUE(w1.ok() && w2.ok() && w0.ok());
  EXPECT_EQ(w1->values, w2->values);
  EXPECT_NE(w0->values, w1->values);
  std::remove(path.c_str());
}

TEST(Api, ParametersByName) {
  auto model = nnc::api::Model::fromString(kModel, "blobs.nn", interp());
  ASSERT_TRUE(model.ok());
  auto b = model->parameter("logits.bias");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->shape, (std::vector<int64_t>{2}));
  std::vector<float> v = {0.5f, -0.5f};
  ASSERT_TRUE(model->setParameter("logits.bias", v.data(), v.size()).ok());
  EXPECT_EQ(model->parameter("logits.bias")->values, v);
  EXPECT_FALSE(model->setParameter("logits.bias", v.data(), 1).ok());
  auto none = model->parameter("nope");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().find("'nope'"), std::string::npos);
}

TEST(Api, BadBatchesAreErrors) {
  auto model = nnc::api::Model::fromString(kModel, "blobs.nn", interp());
  ASSERT_TRUE(model.ok());
  auto trainer = nnc::api::Trainer::create(*model);
  Blobs data = makeBlobs(8);
  nnc::api::TensorRef x{data.x.data(), {4, 4}, nnc::api::DataType::F32};
  nnc::api::TensorRef y{data.y.data(), {8}, nnc::api::DataType::I32};
  auto r = trainer->step({x, y});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("input 'x' has shape [4, 4]"), std::string::npos) << r.error();
  nnc::api::TensorRef x2{data.x.data(), {8, 2}, nnc::api::DataType::F32};
  nnc::api::TensorRef yf{data.x.data(), {8}, nnc::api::DataType::F32};
  auto r2 = trainer->step({x2, yf});
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.error().find("'label' is i32"), std::string::npos) << r2.error();
  auto r3 = trainer->step({x2});
  ASSERT_FALSE(r3.ok());
  auto noTrain = nnc::api::Model::fromString("model m\ninput x: f32[batch, 2]\noutput y = relu(x)\n");
  ASSERT_TRUE(noTrain.ok()) << noTrain.error();
  EXPECT_FALSE(nnc::api::Trainer::create(*noTrain).ok());
}

TEST(Api, FitRunsEpochs) {
  auto model = nnc::api::Model::fromString(kModel, "blobs.nn", interp());
  ASSERT_TRUE(model.ok());
  auto trainer = nnc::api::Trainer::create(*model);
  Blobs data = makeBlobs(96);
  nnc::api::TensorRef x{data.x.data(), {96, 2}, nnc::api::DataType::F32};
  nnc::api::TensorRef y{data.y.data(), {96}, nnc::api::DataType::I32};
  nnc::api::FitOptions opts;
  opts.epochs = 3;
  auto history = trainer->fit({x, y}, opts);
  ASSERT_TRUE(history.ok()) << history.error();
  ASSERT_EQ(history->size(), 3u);
  EXPECT_LT(history->back().loss, history->front().loss);
  EXPECT_EQ(trainer->epochsDone(), 3);
  EXPECT_EQ(trainer->stepsDone(), 18);
}

}  // namespace
