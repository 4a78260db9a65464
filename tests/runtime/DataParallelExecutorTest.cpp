// DataParallelExecutor without MPI: two "processes" are two threads joined by an in-process
// Communicator, driving a hand-written executor whose gradient is the mean of its rows. The
// averaged step must equal one process's step on the whole batch, whatever the split.
#include <gtest/gtest.h>

#include <barrier>
#include <cmath>
#include <cstring>
#include <functional>
#include <thread>

#include "runtime/distributed/DataParallelExecutor.h"

namespace nnc::distributed {
namespace {

// Sums across `n` threads through a shared buffer: every thread adds its values, waits, reads.
class ThreadCommunicator final : public Communicator {
 public:
  struct Shared {
    explicit Shared(int n) : size(n), sync(n) {}
    int size;
    std::barrier<> sync;
    std::vector<double> sum;
  };
  ThreadCommunicator(Shared& s, int rank, bool serialized = false) : s_(s), rank_(rank), serialized_(serialized) {}
  int rank() const override { return rank_; }
  bool serializedThreads() const override { return serialized_; }
  int size() const override { return s_.size; }
  Result<void> sum(float* data, int64_t n) override { return reduce(data, n); }
  Result<void> sum(double* data, int64_t n) override { return reduce(data, n); }
  Result<void> minMax(const uint64_t*, uint64_t*, uint64_t*, int) override { return makeError("unused"); }
  // Deferred: a started sum runs only in finish(), as a nonblocking MPI one may complete
  // only then, so a result read before finish() is caught.
  Result<void> startSum(float* data, int64_t n) override { return start([=, this] { return reduce(data, n); }); }
  Result<void> startSum(double* data, int64_t n) override { return start([=, this] { return reduce(data, n); }); }
  Result<void> finish() override {
    for (auto& f : started_) NNC_TRY(f());
    started_.clear();
    return {};
  }
  [[noreturn]] void abortJob(int code) override { std::_Exit(code); }

 private:
  template <typename T>
  Result<void> reduce(T* data, int64_t n) {
    if (rank_ == 0) s_.sum.assign(size_t(n), 0.0);
    s_.sync.arrive_and_wait();
    {
      std::lock_guard<std::mutex> lock(mutex());
      for (int64_t i = 0; i < n; ++i) s_.sum[size_t(i)] += double(data[i]);
    }
    s_.sync.arrive_and_wait();
    for (int64_t i = 0; i < n; ++i) data[i] = T(s_.sum[size_t(i)]);
    s_.sync.arrive_and_wait();
    return {};
  }
  Result<void> start(std::function<Result<void>()> f) {
    if (!deferred_) return f();
    started_.push_back(std::move(f));
    return {};
  }
  static std::mutex& mutex() {
    static std::mutex m;
    return m;
  }
  Shared& s_;
  int rank_;
  bool serialized_;

 public:
  bool deferred_ = true;

 private:
  std::vector<std::function<Result<void>()>> started_;
};

// One input of 3 floats a row. gradient = mean of the rows; statistic = 0.5 * stat + 0.5 *
// mean of the rows' first column; update: w -= lr * gradient. Loss: mean of the rows' sums.
class MeanExecutor final : public training::Executor, public SplitStepExecutor {
 public:
  MeanExecutor() {
    inputs_ = {{"x", data::DType::F32, {-1, 3}, false}};
    state_ = {{"w", data::DType::F32, {3}, true}};
  }
  const std::vector<training::TensorSpec>& inputs() const override { return inputs_; }
  const std::vector<training::TensorSpec>& stateTensors() const override { return state_; }
  std::span<float> state(const std::string& name) override { return name == "w" ? std::span<float>(w) : std::span<float>(); }
  training::TensorSpec firstOutput() const override { return {}; }
  Result<training::BatchResult> trainStep(std::span<const void* const> in, int64_t batch, float lr, float step) override {
    auto r = gradientStep(in, batch, lr, step, 0);
    if (!r) return r;
    NNC_TRY(updateStep(lr, step, {}, 0));
    return r;
  }
  Result<training::BatchResult> evaluate(std::span<const void* const> in, int64_t batch, bool) override {
    training::BatchResult r;
    const float* x = static_cast<const float*>(in[0]);
    for (int64_t i = 0; i < batch * 3; ++i) r.loss += x[i];
    r.loss /= double(batch);
    r.correct = batch;
    r.counted = batch;
    return r;
  }
  Result<void> predict(std::span<const void* const>, int64_t, std::span<float>) override { return {}; }
  bool isSplit() const override { return true; }
  Result<training::BatchResult> gradientStep(std::span<const void* const> in, int64_t batch, float, float,
                                             int64_t firstRow) override {
    firstRows.push_back(firstRow);
    const float* x = static_cast<const float*>(in[0]);
    float mean0 = 0;
    for (int c = 0; c < 3; ++c) {
      grad[c] = 0;
      for (int64_t i = 0; i < batch; ++i) grad[c] += x[i * 3 + c];
      grad[c] /= float(batch);
    }
    mean0 = grad[0];
    stat[0] = 0.5f * stat[0] + 0.5f * mean0;
    return evaluate(in, batch, false);
  }
  Result<void> updateStep(float lr, float, std::span<const float* const>, int64_t) override {
    for (int c = 0; c < 3; ++c) w[c] -= lr * grad[c];
    return {};
  }
  std::vector<std::span<float>> gradients() override { return {std::span<float>(grad, 3)}; }
  std::vector<std::span<float>> statistics() override { return {std::span<float>(stat, 1)}; }

  float w[3] = {1, 2, 3};
  alignas(64) float grad[3] = {};
  alignas(64) float stat[1] = {4};
  std::vector<int64_t> firstRows;

 private:
  std::vector<training::TensorSpec> inputs_, state_;
};

TEST(DataParallel, SharesAreContiguousAndCoverTheBatch) {
  for (int64_t batch : {1, 2, 7, 64, 65})
    for (int size : {1, 2, 3, 5}) {
      int64_t next = 0;
      for (int r = 0; r < size; ++r) {
        auto [first, rows] = shareOf(batch, r, size);
        EXPECT_EQ(first, next);
        EXPECT_GE(rows, batch / size);
        EXPECT_LE(rows, batch / size + 1);
        next = first + rows;
      }
      EXPECT_EQ(next, batch);
    }
}

TEST(DataParallel, TwoProcessesEqualOneOnTheWholeBatch) {
  for (bool deferred : {true, false})  // started collectives complete in finish(), or at once
  for (int64_t batch : {5, 1}) {  // 5 rows split 2/3; 1 row leaves process 0 without any
    SCOPED_TRACE("batch " + std::to_string(batch) + (deferred ? ", deferred" : ""));
    std::vector<float> x;
    for (int64_t i = 0; i < batch * 3; ++i) x.push_back(float(i % 7) - 2.5f);
    const void* ptr = x.data();
    MeanExecutor alone;
    auto want = alone.trainStep({&ptr, 1}, batch, 0.5f, 0);
    ASSERT_TRUE(want.ok());

    ThreadCommunicator::Shared shared(2);
    MeanExecutor inner[2];
    std::atomic<bool> interrupt[2] = {false, true};  // process 1 was interrupted
    std::optional<Result<training::BatchResult>> got[2];
    bool stops[2] = {};
    std::vector<std::thread> threads;
    for (int r = 0; r < 2; ++r)
      threads.emplace_back([&, r] {
        ThreadCommunicator comm(shared, r);
        comm.deferred_ = deferred;
        DataParallelExecutor dp(inner[r], inner[r], comm, &interrupt[r]);
        got[r] = dp.trainStep({&ptr, 1}, batch, 0.5f, 0);
        stops[r] = dp.globalInterrupt().load();
      });
    for (auto& t : threads) t.join();
    for (int r = 0; r < 2; ++r) {
      ASSERT_TRUE(got[r]->ok());
      EXPECT_NEAR((*got[r])->loss, want->loss, 1e-9);
      EXPECT_EQ((*got[r])->counted, batch);
      EXPECT_TRUE(stops[r]) << "the interrupt of one process stops both";
      for (int c = 0; c < 3; ++c) EXPECT_FLOAT_EQ(inner[r].w[c], alone.w[c]) << "process " << r << " w[" << c << "]";
      EXPECT_FLOAT_EQ(inner[r].stat[0], alone.stat[0]) << "running statistic, process " << r;
    }
    auto [first1, rows1] = shareOf(batch, 1, 2);
    ASSERT_FALSE(inner[1].firstRows.empty());
    EXPECT_EQ(inner[1].firstRows[0], first1);
    EXPECT_EQ(inner[0].firstRows.empty(), shareOf(batch, 0, 2).second == 0);
  }
}

// The reduction thread is started only when it pays for the bytes a step reduces (or when
// forced); the threshold lies between fashion_cnn's 253 KB a step with sufficient factors
// (reducing after the backward pass measured faster) and its 13.1 MB without them.
TEST(DataParallel, OverlapIsChosenFromTheBytesReducedPerStep) {
  EXPECT_FALSE(overlapPays(253480));
  EXPECT_TRUE(overlapPays(13098536));
  EXPECT_FALSE(overlapPays(kOverlapMinBytes - 1));
  EXPECT_TRUE(overlapPays(kOverlapMinBytes));

  ThreadCommunicator::Shared shared(2);
  ThreadCommunicator comm(shared, 0, /*serialized=*/true);
  MeanExecutor inner;  // 4 floats a step: a gradient of 3 and a running statistic
  auto make = [&](OverlapMode mode) {
    DataParallelOptions o;
    o.overlap = mode;
    return std::make_unique<DataParallelExecutor>(inner, inner, comm, nullptr, o);
  };
  auto automatic = make(OverlapMode::Automatic);
  EXPECT_EQ(automatic->reducedBytesPerStep(), 16);
  EXPECT_EQ(automatic->overlap(), nullptr);
  EXPECT_NE(automatic->overlapOffReason().find("automatic: 16 bytes reduced per step"), std::string::npos)
      << automatic->overlapOffReason();
  auto on = make(OverlapMode::On);
  EXPECT_NE(on->overlap(), nullptr) << "NNC_MPI_OVERLAP=1 forces the reduction thread";
  EXPECT_TRUE(on->overlapOffReason().empty());
  auto off = make(OverlapMode::Off);
  EXPECT_EQ(off->overlap(), nullptr);
  EXPECT_EQ(off->overlapOffReason(), "turned off");
  // A communicator that allows no thread of its own gets none, even when forced.
  ThreadCommunicator single(shared, 0, /*serialized=*/false);
  DataParallelOptions o;
  o.overlap = OverlapMode::On;
  DataParallelExecutor forced(inner, inner, single, nullptr, o);
  EXPECT_EQ(forced.overlap(), nullptr);
}

}  // namespace
}  // namespace nnc::distributed
