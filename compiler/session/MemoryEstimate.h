#pragma once
// How much memory running a model takes, estimated from its graphs before anything is
// allocated, so that a model too large for the machine is refused with a message (sizes in
// GiB, the limit, how to raise it) instead of failing an allocation or being killed.
//
// The estimate is the memory an executor needs at a batch size B:
//   state         every Param and State leaf of the step graphs (parameters, batch-norm
//                 statistics, class weights, optimizer slots), held for the whole run;
//   activations   for each step graph (train, eval, predict), the peak of intermediate
//                 values alive at once when its nodes run in order (a value lives from its
//                 node to its last use; outputs, the loss and updated values to the end),
//                 with `batch` taken as B; the largest of the graphs counts.
// That is what an arena that reuses dead buffers needs; it ignores the data set itself.
#include <cstdint>
#include <string>
#include <vector>

#include "compiler/ir/Model.h"
#include "support/Result.h"

namespace nnc {

class MemoryEstimate {
 public:
  // Builds the model's step graphs (as the executors do) and measures them.
  static Result<MemoryEstimate> of(const Model& model);
  // The same for given graphs (tests).
  static MemoryEstimate ofGraphs(const std::vector<const Graph*>& graphs);

  long double stateBytes() const { return stateBytes_; }
  long double activationBytes(int64_t batch) const;
  long double totalBytes(int64_t batch) const { return stateBytes_ + activationBytes(batch); }

 private:
  struct Value {
    size_t from = 0, to = 0;  // node indices: alive while running nodes from..to
    long double fixedBytes = 0, bytesPerSample = 0;
  };
  long double stateBytes_ = 0;
  std::vector<std::vector<Value>> graphs_;  // intermediate values of each graph
};

// Refuses (with the sizes in GiB, the limit and `raiseHint`) when the model needs more than
// `limitBytes` at `batch`.
Result<void> checkMemory(const MemoryEstimate& estimate, int64_t batch, long double limitBytes,
                         const std::string& limitOrigin, const std::string& raiseHint);

// The memory this process may use: the machine's physical memory, or the cgroup's limit when
// that is lower (containers); 0 when it cannot be told.
uint64_t machineMemoryBytes();

// "3725.3 GiB"
std::string gibText(long double bytes);

}  // namespace nnc
