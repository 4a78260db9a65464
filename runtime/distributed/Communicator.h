#pragma once
// The processes of a data-parallel job, as the training loop needs them: a rank, a size and
// in-place sums across processes. The implementation is Open MPI, in a plugin loaded only
// when a run is distributed (MpiLoader.h), so a plain `nnc` run never loads libmpi.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "support/Result.h"

namespace nnc::distributed {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Element-wise sums over every process, in place; every process calls with the same n.
  virtual Result<void> sum(float* data, int64_t n) = 0;
  virtual Result<void> sum(double* data, int64_t n) = 0;
  // Every process's rows in every process, in place: `all` holds sum(rows) rows of
  // `rowFloats` floats, process r's `rows[r]` of them after those of processes 0..r-1; each
  // process fills its own before the call (MPI_Allgatherv). This default sums buffers that
  // are zero outside each process's rows (x + 0 == x: exact, but the whole buffer's bytes).
  virtual Result<void> gather(float* all, int64_t rowFloats, const std::vector<int64_t>& rows) {
    int64_t before = 0, total = 0;
    for (size_t r = 0; r < rows.size(); ++r) {
      if (int(r) < rank()) before += rows[r];
      total += rows[r];
    }
    int64_t mine = size_t(rank()) < rows.size() ? rows[size_t(rank())] : 0;
    std::fill(all, all + before * rowFloats, 0.0f);
    std::fill(all + (before + mine) * rowFloats, all + total * rowFloats, 0.0f);
    return sum(all, total * rowFloats);
  }
  // Nonblocking forms, for the collectives that follow the gradient entry (the sums not
  // overlapped, the gathers of gradient factors, the step's figures): start* begins one and
  // returns; finish() completes every one started since the last finish(), and the buffers
  // stay untouched until then. Every process starts the same ones in the same order. In
  // flight together, their latencies overlap, and the thread that waits in finish() has
  // nothing else to compute. The defaults run each at once.
  virtual Result<void> startSum(float* data, int64_t n) { return sum(data, n); }
  virtual Result<void> startSum(double* data, int64_t n) { return sum(data, n); }
  virtual Result<void> startGather(float* all, int64_t rowFloats, const std::vector<int64_t>& rows) {
    return gather(all, rowFloats, rows);
  }
  virtual Result<void> finish() { return {}; }
  // Element-wise minimum and maximum over every process of values[0..n).
  virtual Result<void> minMax(const uint64_t* values, uint64_t* mins, uint64_t* maxs, int n) = 0;
  // Whether the calls above may come from a thread other than the one that created the
  // communicator, one thread at a time (MPI_THREAD_SERIALIZED): the gradient reduction then
  // runs on a thread of its own while the backward pass computes (OverlappedReduction.h).
  virtual bool serializedThreads() const { return false; }
  // Ends every process of the job with `code` (MPI_Abort): for an error one process has
  // alone, which would otherwise leave the others waiting in a collective forever.
  [[noreturn]] virtual void abortJob(int code) = 0;
};

}  // namespace nnc::distributed
