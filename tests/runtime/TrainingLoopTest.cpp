// The runtime training loop, driven by a scripted fake executor: batching (the last partial
// batch is used), schedules, validation split, shuffling, oversampling, class weights,
// normalisation, early stopping, NaN stops and interrupts.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <numeric>
#include <set>
#include <sstream>

#include "runtime/training/Metrics.h"
#include "runtime/training/Normalizer.h"
#include "runtime/training/Sampling.h"
#include "runtime/training/Schedule.h"
#include "runtime/training/Trainer.h"

using namespace nnc;
using namespace nnc::training;

namespace {

// One parameter `w`; each step adds lr to it and reports a scripted loss.
class FakeExecutor : public Executor {
 public:
  FakeExecutor() {
    inputs_ = {{"x", data::DType::F32, {-1, 2}}, {"label", data::DType::I32, {-1}}};
    state_ = {{"w", data::DType::F32, {1}}};
  }
  const std::vector<TensorSpec>& inputs() const override { return inputs_; }
  const std::vector<TensorSpec>& stateTensors() const override { return state_; }
  std::span<float> state(const std::string& name) override { return name == "w" ? std::span<float>(w_) : std::span<float>(); }
  TensorSpec firstOutput() const override { return {"y", data::DType::F32, {1}}; }

  Result<BatchResult> trainStep(std::span<const void* const> in, int64_t batch, float lr, float step) override {
    batches.push_back(batch);
    rates.push_back(lr);
    steps.push_back(step);
    const float* x = static_cast<const float*>(in[0]);
    for (int64_t i = 0; i < batch; ++i) seenFirstFeature.push_back(x[2 * i]);
    w_[0] += lr;
    double loss = stepLosses.empty() ? 1.0 : stepLosses[std::min(batches.size() - 1, stepLosses.size() - 1)];
    return BatchResult{loss, batch, batch, {}};
  }
  Result<BatchResult> evaluate(std::span<const void* const>, int64_t batch, bool) override {
    double loss = valLosses.empty() ? 1.0 : valLosses[std::min(evalCalls++, valLosses.size() - 1)];
    return BatchResult{loss, 0, batch, {}};
  }
  Result<void> predict(std::span<const void* const>, int64_t, std::span<float>) override { return {}; }

  std::vector<int64_t> batches;
  std::vector<float> rates, steps, seenFirstFeature;
  std::vector<double> stepLosses, valLosses;
  size_t evalCalls = 0;

 private:
  std::vector<TensorSpec> inputs_, state_;
  std::vector<float> w_{0};
};

std::vector<data::Array> makeData(int64_t n, std::vector<int32_t> labels = {}) {
  std::vector<float> x(size_t(n * 2));
  for (int64_t i = 0; i < n; ++i) x[size_t(2 * i)] = float(i), x[size_t(2 * i + 1)] = 1;
  if (labels.empty()) labels.assign(size_t(n), 0);
  return {data::Array::fromF32({n, 2}, x), data::Array::fromI32({n}, labels)};
}

TEST(TrainingLoop, UsesTheLastPartialBatchAndVisitsEverySampleOnce) {
  FakeExecutor exec;
  TrainingPlan plan;
  plan.batch = 4;
  plan.epochs = 2;
  plan.learningRate = 0.5;
  auto data = makeData(10);
  auto out = fit(exec, plan, data, {});
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(exec.batches, (std::vector<int64_t>{4, 4, 2, 4, 4, 2}));
  EXPECT_EQ(out->stepsDone, 6);
  EXPECT_EQ(exec.steps, (std::vector<float>{0, 1, 2, 3, 4, 5}));
  std::multiset<float> firstEpoch(exec.seenFirstFeature.begin(), exec.seenFirstFeature.begin() + 10);
  EXPECT_EQ(firstEpoch.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(firstEpoch.count(float(i)), 1u);
  // Shuffled, and differently in the two epochs.
  std::vector<float> e1(exec.seenFirstFeature.begin(), exec.seenFirstFeature.begin() + 10);
  std::vector<float> e2(exec.seenFirstFeature.begin() + 10, exec.seenFirstFeature.end());
  EXPECT_NE(e1, e2);
  EXPECT_FLOAT_EQ(exec.state("w")[0], 3.0f);
}

TEST(TrainingLoop, NoShuffleKeepsDataOrderAndValidationComesFromTheEnd) {
  FakeExecutor exec;
  TrainingPlan plan;
  plan.batch = 3;
  plan.shuffle = false;
  plan.validation = 0.2;
  auto data = makeData(10);
  auto out = fit(exec, plan, data, {});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(exec.seenFirstFeature, (std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7}));
  ASSERT_EQ(out->history.size(), 1u);
  EXPECT_TRUE(out->history[0].valLoss.has_value());
}

TEST(TrainingLoop, SameSeedSameOrderOtherSeedOtherOrder) {
  auto orderFor = [](uint64_t seed) {
    TrainingPlan plan;
    plan.seed = seed;
    return epochOrder(100, {}, 0, plan, 3);
  };
  EXPECT_EQ(orderFor(7), orderFor(7));
  EXPECT_NE(orderFor(7), orderFor(8));
}

TEST(TrainingLoop, StopsOnNaNNamingEpochAndStepAndKeepsLastGoodWeights) {
  FakeExecutor exec;
  TrainingPlan plan;
  plan.batch = 2;
  plan.epochs = 3;
  plan.learningRate = 1;
  exec.stepLosses = {1, 1, 1, 1, 1, NAN};  // 3 steps an epoch: NaN at epoch 2, step 3
  auto data = makeData(6);
  auto out = fit(exec, plan, data, {});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().message.find("NaN at epoch 2, step 3"), std::string::npos) << out.error().message;
  EXPECT_FLOAT_EQ(exec.state("w")[0], 3.0f) << "the weights of epoch 1";
  exec.stepLosses = {INFINITY};
  auto inf = fit(exec, plan, data, {});
  ASSERT_FALSE(inf.ok());
  EXPECT_NE(inf.error().message.find("infinite"), std::string::npos);
}

TEST(TrainingLoop, EarlyStoppingKeepsTheBestWeights) {
  FakeExecutor exec;
  TrainingPlan plan;
  plan.batch = 8;
  plan.epochs = 10;
  plan.validation = 0.2;
  plan.earlyStopPatience = 2;
  plan.learningRate = 1;
  exec.valLosses = {5, 3, 4, 4, 4, 4};  // best after epoch 2, patience 2 -> stop after epoch 4
  auto data = makeData(10);
  auto out = fit(exec, plan, data, {});
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(out->stoppedEarly);
  EXPECT_EQ(out->history.size(), 4u);
  EXPECT_EQ(out->bestEpoch, 2);
  EXPECT_FLOAT_EQ(exec.state("w")[0], 2.0f);
  // The position is that of the weights kept, not of the last epoch run (a checkpoint of
  // epoch 2's weights that said 4 epochs made a resumed run start at "Epoch 5").
  EXPECT_EQ(out->epochsDone, 2);
  EXPECT_EQ(out->stepsDone, 2);
}

TEST(TrainingLoop, InterruptKeepsTheLastCompletedEpoch) {
  FakeExecutor exec;
  TrainingPlan plan;
  plan.batch = 1;
  plan.epochs = 5;
  plan.learningRate = 1;
  std::atomic<bool> stop{true};
  FitOptions opts;
  opts.interrupt = &stop;
  auto data = makeData(3);
  auto out = fit(exec, plan, data, opts);
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(out->interrupted);
  EXPECT_EQ(out->epochsDone, 0);
  EXPECT_EQ(out->stepsDone, 0);
  EXPECT_FLOAT_EQ(exec.state("w")[0], 0.0f);
}

// The flag set in the middle of epoch 3 (at its 2nd step): the weights, epochs and steps are
// those at the end of epoch 2, not of the step interrupted.
TEST(TrainingLoop, InterruptMidEpochReportsThePositionOfTheKeptWeights) {
  class StoppingExecutor : public FakeExecutor {
   public:
    std::atomic<bool> stop{false};
    Result<BatchResult> trainStep(std::span<const void* const> in, int64_t batch, float lr, float step) override {
      if (batches.size() == 7) stop = true;  // after 3 steps an epoch: epoch 3, step 2
      return FakeExecutor::trainStep(in, batch, lr, step);
    }
  } exec;
  TrainingPlan plan;
  plan.batch = 2;
  plan.epochs = 10;
  plan.learningRate = 1;
  FitOptions opts;
  opts.interrupt = &exec.stop;
  opts.firstEpoch = 4;  // resumed: the position counts the epochs and steps before
  opts.firstStep = 12;
  auto out = fit(exec, plan, makeData(6), opts);
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(out->interrupted);
  EXPECT_EQ(out->history.size(), 2u);
  EXPECT_EQ(out->epochsDone, 6);
  EXPECT_EQ(out->stepsDone, 18);
  EXPECT_FLOAT_EQ(exec.state("w")[0], 6.0f) << "the weights at the end of the second epoch";
}

// A NaN loss says whether the batch's inputs were finite: bad data is not the learning rate's fault.
TEST(TrainingLoop, NonFiniteLossNamesTheNonFiniteInput) {
  FakeExecutor exec;
  TrainingPlan plan;
  plan.batch = 2;
  plan.epochs = 1;
  plan.shuffle = false;
  exec.stepLosses = {1, NAN};
  auto data = makeData(6);
  auto out = fit(exec, plan, data, {});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().message.find("inputs were all finite"), std::string::npos) << out.error().message;
  data[0].f32()[2 * 3 + 1] = NAN;  // sample 3, in the second batch
  FakeExecutor again;
  again.stepLosses = {1, NAN};
  auto bad = fit(again, plan, data, {});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("input 'x' of sample 3 (counted from 0) is NaN at element 1 of 2"),
            std::string::npos)
      << bad.error().message;
}

// `plan.epochs` is the total: resuming after epoch 1 of 2 trains epoch 2 only.
TEST(TrainingLoop, ResumingContinuesEpochAndStepNumbering) {
  TrainingPlan plan;
  plan.batch = 4;
  plan.epochs = 1;
  auto data = makeData(8);
  FakeExecutor straight;
  plan.epochs = 2;
  ASSERT_TRUE(fit(straight, plan, data, {}).ok());
  FakeExecutor resumed;
  FitOptions opts;
  opts.firstEpoch = 1;
  opts.firstStep = 2;
  auto out = fit(resumed, plan, data, opts);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->epochsDone, 2);
  EXPECT_EQ(resumed.steps, (std::vector<float>{2, 3}));
  std::vector<float> secondEpoch(straight.seenFirstFeature.begin() + 8, straight.seenFirstFeature.end());
  EXPECT_EQ(resumed.seenFirstFeature, secondEpoch) << "epoch 2 visits samples in the same order";
}

TEST(TrainingLoop, NoTrainingSamplesIsAnError) {
  FakeExecutor exec;
  TrainingPlan plan;
  plan.validation = 0.99;
  auto data = makeData(1);
  auto out = fit(exec, plan, data, {});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().message.find("leaves no training samples"), std::string::npos);
}

TEST(Schedules, FollowLanguageDefinitions) {
  LearningRateSchedule step{LearningRateSchedule::Kind::Step};
  step.every = 2, step.factor = 0.5;
  EXPECT_DOUBLE_EQ(learningRateAt(0.1, step, 0, 0), 0.1);
  EXPECT_DOUBLE_EQ(learningRateAt(0.1, step, 1, 50), 0.1);
  EXPECT_DOUBLE_EQ(learningRateAt(0.1, step, 2, 0), 0.05);
  EXPECT_DOUBLE_EQ(learningRateAt(0.1, step, 5, 0), 0.025);
  LearningRateSchedule ex{LearningRateSchedule::Kind::Exponential};
  ex.rate = 0.5, ex.every = 10;
  EXPECT_DOUBLE_EQ(learningRateAt(1, ex, 0, 0), 1);
  EXPECT_DOUBLE_EQ(learningRateAt(1, ex, 0, 10), 0.5);
  EXPECT_NEAR(learningRateAt(1, ex, 0, 5), std::sqrt(0.5), 1e-15);
  LearningRateSchedule cos{LearningRateSchedule::Kind::Cosine};
  cos.epochs = 4;
  EXPECT_DOUBLE_EQ(learningRateAt(2, cos, 0, 0), 2);
  EXPECT_NEAR(learningRateAt(2, cos, 2, 0), 1, 1e-15);
  EXPECT_NEAR(learningRateAt(2, cos, 4, 0), 0, 1e-15);
  EXPECT_NEAR(learningRateAt(2, cos, 9, 0), 0, 1e-15) << "clamped at E";
  EXPECT_DOUBLE_EQ(learningRateAt(0.3, {}, 7, 99), 0.3);
}

TEST(Sampling, OversamplingEqualisesClasses) {
  std::vector<int32_t> labels = {0, 0, 0, 0, 0, 0, 1, 2, 2, 0};
  TrainingPlan plan;
  plan.oversample = true;
  auto order = epochOrder(10, labels, 3, plan, 0);
  std::vector<int> counts(3, 0);
  for (int64_t i : order) ++counts[size_t(labels[size_t(i)])];
  EXPECT_EQ(counts, (std::vector<int>{7, 7, 7}));
  EXPECT_EQ(order.size(), 21u);
}

TEST(Sampling, BalancedWeights) {
  std::vector<int32_t> labels = {0, 0, 0, 1};
  auto w = balancedClassWeights(labels, 3);
  EXPECT_DOUBLE_EQ(w[0], 4.0 / (3 * 3));
  EXPECT_DOUBLE_EQ(w[1], 4.0 / 3);
  EXPECT_DOUBLE_EQ(w[2], 1.0) << "absent class";
}

TEST(Sampling, ValidationSplitFollowsKeras) {
  EXPECT_EQ(splitForValidation(60000, 0.1).trainCount, 54000);
  EXPECT_EQ(splitForValidation(10, 0.25).trainCount, 7);
  EXPECT_EQ(splitForValidation(10, 0).validationCount(), 0);
}

TEST(Normalization, ScaleAndStandardizeUseTheTrainingSplit) {
  auto data = makeData(4);  // x[:,0] = 0,1,2,3 ; x[:,1] = 1
  std::vector<std::string> names = {"x", "label"};
  auto scale = computeNormalization(Normalization::Scale, 0.5, names, data, 4);
  ASSERT_EQ(scale.size(), 1u) << "labels are not normalised";
  EXPECT_EQ(scale[0].multiplier, 0.5);
  auto std2 = computeNormalization(Normalization::Standardize, 1, names, data, 2);  // values 0,1,1,1
  EXPECT_DOUBLE_EQ(std2[0].shift, 0.75);
  EXPECT_NEAR(std2[0].multiplier, 1 / std::sqrt(0.1875), 1e-12);
  applyNormalization(scale, names, data);
  EXPECT_FLOAT_EQ(data[0].f32()[6], 1.5f);
  EXPECT_EQ(data[1].i32()[0], 0);
}

TEST(Metrics, ConfusionMatrixPrecisionRecall) {
  ConfusionMatrix m(3);
  m.add(0, 0), m.add(0, 1), m.add(1, 1), m.add(2, 1), m.add(2, 2);
  EXPECT_DOUBLE_EQ(m.recall(0), 0.5);
  EXPECT_DOUBLE_EQ(m.precision(1), 1.0 / 3);
  EXPECT_DOUBLE_EQ(m.precision(0), 1.0);
  EXPECT_EQ(m.support(2), 2);
  std::ostringstream os;
  m.print(os);
  EXPECT_NE(os.str().find("rows: actual class"), std::string::npos);
}

}  // namespace
