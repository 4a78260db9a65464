#include "compiler/driver/DistributedTrain.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sstream>

#include "compiler/ir/Printer.h"

namespace nnc::driver {

namespace {

// Shapes, types and every 4099th byte (a prime stride, so rows of any width are sampled
// across): enough to tell different files or normalisations apart without hashing all data.
std::string describeData(const ModelData& feed) {
  std::ostringstream os;
  os << feed.samples;
  for (size_t i = 0; i < feed.arrays.size(); ++i) {
    const data::Array& a = feed.arrays[i];
    os << '|' << feed.names[i] << ':' << int(a.dtype());
    for (int64_t d : a.shape()) os << ',' << d;
    const unsigned char* bytes = static_cast<const unsigned char*>(a.data());
    size_t n = size_t(a.numel()) * 4;
    uint64_t sum = 0;
    for (size_t k = 0; bytes && k < n; k += 4099) sum = sum * 31 + bytes[k];
    os << '#' << sum;
  }
  return os.str();
}

std::string describeOptions(const Model& model, const training::TrainingPlan& plan, const CheckpointInfo& start) {
  std::ostringstream os;
  os.precision(17);
  os << model.train->optimizer.name() << ' ' << model.train->weightDecay << ' ';
  model.train->optimizer.forEach([&](std::string_view name, double value) { os << name << '=' << value << ' '; });
  os << plan.batch << ' ' << plan.epochs << ' ' << plan.validation << ' ' << plan.shuffle << ' ' << plan.seed << ' '
     << plan.learningRate << ' ' << int(plan.schedule.kind) << ' ' << plan.schedule.every << ' ' << plan.schedule.factor
     << ' ' << plan.schedule.rate << ' ' << plan.schedule.epochs << ' ' << plan.earlyStopPatience.value_or(-1) << ' '
     << plan.oversample << ' ' << int(plan.classWeighting) << " start " << start.epochs << ' ' << start.steps;
  return os.str();
}

// The starting weights: --init gives every process the same file, or should.
std::string describeWeights(training::Executor& exec) {
  std::ostringstream os;
  for (const training::TensorSpec& t : exec.stateTensors()) {
    std::span<float> v = exec.state(t.name);
    uint32_t h = 0;
    for (size_t k = 0; k < v.size(); k += 61) {
      uint32_t bits;
      std::memcpy(&bits, &v[k], 4);
      h = h * 16777619u ^ bits;
    }
    os << t.name << ':' << v.size() << ':' << h << ' ';
  }
  return os.str();
}

// NNC_MPI_OVERLAP=0 reduces after the backward pass, =1 while it computes (a reduction
// thread), unset or `auto` chooses from the bytes a step reduces (overlapPays);
// NNC_MPI_BUCKET_BYTES=N caps a collective's bytes (default 4 MiB).
distributed::DataParallelOptions reductionOptions() {
  distributed::DataParallelOptions o;
  if (const char* v = std::getenv("NNC_MPI_OVERLAP"); v && *v && std::string(v) != "auto")
    o.overlap = std::string(v) == "0" ? distributed::OverlapMode::Off : distributed::OverlapMode::On;
  if (const char* v = std::getenv("NNC_MPI_BUCKET_BYTES"); v && std::atoll(v) > 0) o.bucketBytes = std::atoll(v);
  o.profileKernels = kernelProfileWanted();
  return o;
}

// One entry's kernels, the slowest first, in milliseconds a step, down to 1% of the entry
// (NNC_MPI_PROFILE=kernels).
void reportEntryKernels(std::ostringstream& os, const char* entry, const profile::KernelTimes& times,
                        const std::vector<std::string>& labels, int64_t steps) {
  std::vector<size_t> order(times.seconds.size());
  for (size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return times.seconds[a] != times.seconds[b] ? times.seconds[a] > times.seconds[b] : a < b;
  });
  double total = times.copies;
  for (double s : times.seconds) total += s;
  const double perStep = 1e3 / double(std::max<int64_t>(steps, 1));
  os << "  " << entry << " entry: " << total * perStep << " ms a step\n";
  for (size_t k : order) {
    if (times.seconds[k] < 0.01 * total) break;
    os << "    " << times.seconds[k] * perStep << " ms  " << (k < labels.size() ? labels[k] : "k" + std::to_string(k))
       << "\n";
  }
  if (times.copies >= 0.01 * total) os << "    " << times.copies * perStep << " ms  copies (outputs, state updates)\n";
}

// The gradients the update step computes from gathered factors: every process must gather
// the same ones.
std::string describeFactors(const distributed::SplitStepExecutor& split) {
  std::string s;
  for (const distributed::GradientFactor& f : split.factors()) s += f.name + ' ';
  return s;
}

}  // namespace

bool kernelProfileWanted() {
  const char* v = std::getenv("NNC_MPI_PROFILE");
  return v && std::string(v) == "kernels";
}

bool gradientFactorsWanted() {
  const char* v = std::getenv("NNC_MPI_FACTORS");
  return !v || std::string(v) != "0";
}

Result<std::unique_ptr<distributed::DataParallelExecutor>> joinDataParallel(
    distributed::DataParallelJob& job, const Model& model, const training::TrainingPlan& plan, const ModelData& feed,
    const CheckpointInfo& start, training::Executor& exec, const std::atomic<bool>* interrupt) {
  distributed::DataParallelOptions options = reductionOptions();
  auto* split = dynamic_cast<distributed::SplitStepExecutor*>(&exec);
  if (!split || !split->isSplit()) return makeError("internal: the executor cannot run split training steps");
  NNC_TRY(job.checkAgreement({{"the model", printGraph(model.graph)},
                              {"the training data", describeData(feed)},
                              {"the training options", describeOptions(model, plan, start)},
                              {"the starting weights", describeWeights(exec)},
                              {"NNC_MPI_OVERLAP or NNC_MPI_BUCKET_BYTES",
                               std::to_string(int(options.overlap)) + " " + std::to_string(options.bucketBytes)},
                              {"NNC_MPI_FACTORS", describeFactors(*split)}}));
  return std::make_unique<distributed::DataParallelExecutor>(exec, *split, job.comm(), interrupt, options);
}

void reportStepTimes(distributed::DataParallelJob& job, const distributed::DataParallelExecutor& exec) {
  const char* flag = std::getenv("NNC_MPI_PROFILE");
  if (!flag || (std::string(flag) != "1" && !kernelProfileWanted())) return;
  const auto& t = exec.stepTimes();
  std::ostringstream os;
  os << "nnc: process " << job.comm().rank() << " of " << job.comm().size() << ": " << t.steps << " steps, compute "
     << t.computeSeconds << " s (update " << t.updateSeconds << " s), reduce " << t.reduceSeconds << " s, " << exec.reducedBytesPerStep()
     << " bytes reduced per step, " << t.factorBytes / std::max<int64_t>(t.steps, 1)
     << " bytes of gradient factors gathered per step (" << exec.factorCount() << " factors)";
  if (const distributed::OverlappedReduction* o = exec.overlap()) {
    const auto& s = o->stats();
    os << "; overlap: " << o->bucketsPerStep() << " buckets a step, " << s.readyDuringEntry << " of " << s.buckets
       << " ready during the backward pass (" << s.startedDuringEntry << " started during it), reduction thread busy "
       << s.reduceSeconds << " s; buckets complete at";
    for (double f : s.readyFraction) os << ' ' << int(100 * f / double(std::max<int64_t>(s.planSteps, 1)) + 0.5) << '%';
    os << " of the forward and backward pass";
  } else {
    os << "; no overlap (" << exec.overlapOffReason() << ")";
  }
  os << "\n";
  if (kernelProfileWanted()) {
    os.precision(4);
    reportEntryKernels(os, "gradient", exec.gradientKernels(), exec.kernelLabels(false), t.steps);
    reportEntryKernels(os, "update", exec.updateKernels(), exec.kernelLabels(true), t.steps);
  }
  std::cerr << os.str();
}

}  // namespace nnc::driver
