#include "compiler/driver/BenchProfile.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <numeric>

#include "runtime/include/nnc/runtime.h"
#include "runtime/profile/KernelProfile.h"
#include "support/Stopwatch.h"

namespace nnc::driver {

namespace {

using Clock = std::chrono::steady_clock;


}  // namespace

Result<StepProfile> profileStep(BenchModel& bench, int64_t batch, double seconds) {
  CompiledModel& cm = *bench.code;
  StepProfile p;
  p.batch = batch;
  p.threads = nnc_get_num_threads();
  p.roofline = measureRoofline();
  const EntryInfo& entry = cm.training() ? *cm.training() : cm.inference();
  p.entry = cm.training() ? "train_step" : "forward";

  SyntheticInputs in(entry, batch, bench.classes, 1);
  OutputBuffers out(cm.inference(), batch);
  float loss = 0, step = 0;
  auto run = [&]() -> Result<void> {
    if (cm.training()) return cm.trainStep(in.pointers(), batch, bench.learningRate, step++, &loss);
    return cm.forward(in.pointers(), out.pointers(), batch);
  };
  for (int i = 0; i < 3; ++i) NNC_TRY(run());  // warm caches and threads, unrecorded

  profile::KernelTimes times;
  times.seconds.assign(size_t(entry.kernels), 0.0);
  profile::record(&times);
  double wall = 0;
  while (p.steps < 3 || wall < seconds) {
    auto t0 = Clock::now();
    Result<void> ok = run();
    wall += secondsSince(t0);
    if (!ok) {
      profile::record(nullptr);
      return ok.error();
    }
    ++p.steps;
  }
  profile::record(nullptr);

  const double steps = double(p.steps);
  p.stepSeconds = wall / steps;
  const double ridge = p.roofline.peakFlops / std::max(p.roofline.bandwidthBytes, 1.0);
  double tracked = times.copies;
  for (int k = 0; k < entry.kernels; ++k) {
    KernelProfileRow row;
    row.index = k;
    const KernelCost* cost = size_t(k) < entry.kernelCosts.size() ? &entry.kernelCosts[size_t(k)] : nullptr;
    row.label = cost ? cost->label : "k" + std::to_string(k);
    row.seconds = (size_t(k) < times.seconds.size() ? times.seconds[size_t(k)] : 0.0) / steps;
    tracked += row.seconds * steps;
    row.share = row.seconds / p.stepSeconds;
    if (cost && row.seconds > 0) {
      const double flops = cost->flops(batch), bytes = std::max(cost->bytes(batch), 1.0);
      row.flopsPerSecond = flops / row.seconds;
      row.bytesPerSecond = bytes / row.seconds;
      const double intensity = flops / bytes;
      row.computeBound = intensity >= ridge;
      const double attainable = std::min(p.roofline.peakFlops, intensity * p.roofline.bandwidthBytes);
      row.ofRoofline = attainable > 0 ? row.flopsPerSecond / attainable : 0;
    }
    p.kernels.push_back(std::move(row));
  }
  p.copiesShare = times.copies / wall;
  p.untrackedShare = std::max(0.0, 1.0 - tracked / wall);
  return p;
}

void printProfile(const std::string& model, const StepProfile& p) {
  std::printf("%s: %s profile, batch %lld, %d thread%s, %lld steps\n", model.c_str(), p.entry.c_str(),
              (long long)p.batch, p.threads, p.threads == 1 ? "" : "s", (long long)p.steps);
  std::printf("  roofline (measured now): peak %.1f GFLOP/s (%s FMA probe), bandwidth %.1f GB/s (triad probe)\n",
              p.roofline.peakFlops * 1e-9, p.roofline.vectorUnit, p.roofline.bandwidthBytes * 1e-9);
  double kernelShare = 0;
  for (const KernelProfileRow& r : p.kernels) kernelShare += r.share;
  std::printf("  step %.3f ms (%.0f samples/s); kernels %.1f%%, copies %.1f%%, outside both %.1f%%\n",
              p.stepSeconds * 1e3, double(p.batch) / p.stepSeconds, kernelShare * 100, p.copiesShare * 100,
              p.untrackedShare * 100);
  std::printf("  %-44s %7s %9s %9s %8s %8s %9s\n", "kernel", "share", "ms/step", "GFLOP/s", "GB/s", "bound",
              "roofline");
  std::vector<const KernelProfileRow*> order;
  for (const KernelProfileRow& r : p.kernels) order.push_back(&r);
  std::stable_sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->seconds > b->seconds; });
  for (const KernelProfileRow* r : order) {
    std::string label = r->label.size() > 44 ? r->label.substr(0, 41) + "..." : r->label;
    std::printf("  %-44s %6.1f%% %9.4f %9.2f %8.2f %8s %8.0f%%\n", label.c_str(), r->share * 100, r->seconds * 1e3,
                r->flopsPerSecond * 1e-9, r->bytesPerSecond * 1e-9, r->computeBound ? "compute" : "memory",
                r->ofRoofline * 100);
  }
  std::printf("  %-44s %6.1f%%\n", "copies (outputs, state updates)", p.copiesShare * 100);
}

nlohmann::json profileJson(const StepProfile& p) {
  nlohmann::json j;
  j["entry"] = p.entry;
  j["steps"] = p.steps;
  j["step_seconds"] = p.stepSeconds;
  j["peak_gflops"] = p.roofline.peakFlops * 1e-9;
  j["bandwidth_gbs"] = p.roofline.bandwidthBytes * 1e-9;
  j["vector_unit"] = p.roofline.vectorUnit;
  j["copies_share"] = p.copiesShare;
  j["untracked_share"] = p.untrackedShare;
  nlohmann::json rows = nlohmann::json::array();
  for (const KernelProfileRow& r : p.kernels)
    rows.push_back({{"index", r.index},
                    {"label", r.label},
                    {"seconds", r.seconds},
                    {"share", r.share},
                    {"gflops", r.flopsPerSecond * 1e-9},
                    {"gbs", r.bytesPerSecond * 1e-9},
                    {"bound", r.computeBound ? "compute" : "memory"},
                    {"of_roofline", r.ofRoofline}});
  j["kernels"] = rows;
  return j;
}

}  // namespace nnc::driver
