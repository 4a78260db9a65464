#include "compiler/codegen/TaskSplit.h"

#include <algorithm>

namespace nnc::codegen {

TaskSplit taskSplit(Extent range, Extent work, int64_t chunkWork) {
  chunkWork = std::max<int64_t>(chunkWork, 1);
  TaskSplit s;
  if (range.batched) {
    s.chunkWork = std::max<int64_t>(chunkWork / kSampleChunkDivisor, 1);
    return s;
  }
  s.chunkWork = chunkWork;
  s.direct = !work.batched && range.k * std::max<int64_t>(work.k, 1) <= chunkWork;
  return s;
}

int64_t taskGrain(const TaskSplit& split, Extent work, int64_t batch) {
  if (split.direct) return 0;
  int64_t w = std::max<int64_t>(work.batched ? work.k * batch : work.k, 1);
  return std::max<int64_t>((split.chunkWork + w - 1) / w, 1);
}

bool splitProductByColumns(Extent rows, Extent k, int64_t n, int64_t panels, int64_t minPanels) {
  if (panels < minPanels) return false;
  if (!rows.batched) return true;  // not per-sample rows: the columns, as always
  auto nominal = [](Extent e) { return double(e.k) * (e.batched ? double(kNominalBatch) : 1.0); };
  const double m = nominal(rows), depth = nominal(k), cols = double(n);
  return depth * cols >= m * (depth + cols);  // B against A and C
}

}  // namespace nnc::codegen
