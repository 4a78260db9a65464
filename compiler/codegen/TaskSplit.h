#pragma once
// How the entry point splits a task's range across threads: whether it calls the task
// directly, and otherwise the least work a chunk gets (the grain it passes to
// nnc_parallel_for is that divided by the work of one iteration). A pure function of the
// task's range and work, so that tests can check the decision without running anything.
//
// Two kinds of range:
// - A range over samples (Extent::batched: a product's or a row kernel's rows, images, the
//   flat elements of a batched tensor). Consecutive kernels over samples cut the batch at the
//   same places (rt::chunkRange on batch * k iterations), so each thread reads what it wrote
//   in the kernel before, in its own cache. A small kernel that runs on one thread instead
//   must first pull the other thread's half of its operands from that core's cache, and the
//   next split kernel pushes half of its output back: on the 2-core Zen 3 VM a 12,288-element
//   transpose after a product split by rows took 27 us instead of the 15 us it takes alone
//   (tiny_transformer, `bench --profile`), and its tasks were too small to split. So ranges
//   over samples split down to chunks kSampleChunkDivisor times smaller than chunkWork.
// - Any other range (channels, column panels, filter rows, a fixed-size tensor): chunks of at
//   least chunkWork, and one direct call when the whole task is smaller than that.
// Either way no iteration is split, so results do not depend on the thread count.
#include <cstdint>

#include "compiler/lowering/Lowering.h"

namespace nnc::codegen {

// A range over samples splits into chunks this many times smaller than chunkWork.
inline constexpr int64_t kSampleChunkDivisor = 16;

struct TaskSplit {
  bool direct = false;    // call the task over its whole range on the calling thread
  int64_t chunkWork = 1;  // otherwise the least work of one chunk (at least 1)
};

// `range`: the task's iterations; `work`: the work of one (TaskCall); `chunkWork`: the least
// work worth a chunk of its own (CompileOptions::chunkWork).
TaskSplit taskSplit(Extent range, Extent work, int64_t chunkWork);

// The grain the entry passes to nnc_parallel_for at this batch size: ceil(chunk work / work
// of one iteration), at least 1 (0 for a direct call).
int64_t taskGrain(const TaskSplit& split, Extent work, int64_t batch);

// Whether a matrix product C[rows, n] = A[rows, k] B[k, n] splits its column panels across
// threads (each task reads all of A and writes a band of columns of every row) rather than
// its rows (each task reads all of B and writes whole rows). Columns pay when B, which every
// row task streams whole, outweighs A and C: a wide weight against a batch of a few rows
// (fashion_cnn's 3136 x 1024 dense layer). When the rows are samples (A and C per sample),
// cutting them keeps each thread on the rows it and its neighbours computed: tiny_transformer's
// feed-forward layer, 384 rows of 32 into 64 columns, ran slower on 2 threads by columns than
// on 1. Extents over the batch count kNominalBatch samples, since this is decided once for
// every batch size. `panels`: the column panels of the microkernel's width (at least
// minPanels to split by columns at all).
inline constexpr int64_t kNominalBatch = 32;
bool splitProductByColumns(Extent rows, Extent k, int64_t n, int64_t panels, int64_t minPanels);

}  // namespace nnc::codegen
