#pragma once
// `nnc FILE bench --profile`: where one training step's time goes. A profiling build of the
// model (CompileOptions::profile) times every kernel of the step; each kernel's share of the
// step, its GFLOP/s and GB/s (KernelCost) and how close it comes to the roofline that the
// same run measures (RooflineProbe.h) are printed as a table, or as JSON.
#include <nlohmann/json.hpp>

#include "compiler/driver/RooflineProbe.h"
#include "compiler/session/BenchModel.h"

namespace nnc::driver {

struct KernelProfileRow {
  int index = 0;
  std::string label;
  double seconds = 0;  // per step
  double share = 0;    // of the step's wall time
  double flopsPerSecond = 0, bytesPerSecond = 0;
  bool computeBound = false;      // its arithmetic intensity is past the roofline's ridge
  double ofRoofline = 0;          // achieved / attainable (min(peak, intensity * bandwidth))
};

struct StepProfile {
  std::string entry;  // "train_step" or "forward" (a model that does not train)
  int64_t batch = 0;
  int threads = 0;
  int64_t steps = 0;
  double stepSeconds = 0;
  double copiesShare = 0, untrackedShare = 0;
  Roofline roofline;
  std::vector<KernelProfileRow> kernels;  // every kernel of the entry, by index
};

Result<StepProfile> profileStep(BenchModel& bench, int64_t batch, double seconds);

void printProfile(const std::string& model, const StepProfile& p);
nlohmann::json profileJson(const StepProfile& p);

}  // namespace nnc::driver
