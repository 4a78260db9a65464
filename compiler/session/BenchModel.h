#pragma once
// What `nnc FILE bench` and bench/kernels/train_step_bench measure, set up once for both: the
// model's training step and inference pass compiled cold (neither the in-process cache nor
// the on-disk one answers), the state set from the initializers (realistic values, not
// zeros), and synthetic data of the right shapes (uniform [0, 1) floats; integer inputs are
// class labels in range).
#include <memory>
#include <span>
#include <vector>

#include "compiler/codegen/CompiledModel.h"
#include "compiler/ir/Model.h"
#include "support/Result.h"

namespace nnc {

struct BenchModel {
  std::unique_ptr<CompiledModel> code;
  double graphSeconds = 0;  // building the step graphs (code->times() has the rest)
  int64_t classes = 0;      // label range of integer inputs
  float learningRate = 0.01f;
};

// Errors: the step graphs or the compilation failing (a model error: the caller reports it
// with the model's source). `profile`: a profiling build (CompileOptions::profile).
Result<BenchModel> compileForBench(const Model& model, bool profile = false);

// Random inputs for one entry point at `batch`, in the entry's input order.
class SyntheticInputs {
 public:
  SyntheticInputs(const EntryInfo& entry, int64_t batch, int64_t numClasses, uint64_t seed);
  std::span<const void* const> pointers() const { return pointers_; }

 private:
  std::vector<std::vector<uint32_t>> buffers_;
  std::vector<const void*> pointers_;
};

// Output buffers for one entry point at `batch`.
class OutputBuffers {
 public:
  OutputBuffers(const EntryInfo& entry, int64_t batch);
  std::span<void* const> pointers() const { return pointers_; }

 private:
  std::vector<std::vector<uint32_t>> buffers_;
  std::vector<void*> pointers_;
};

}  // namespace nnc
