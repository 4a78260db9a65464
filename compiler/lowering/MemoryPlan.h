#pragma once
// The arena plan of one entry point: every intermediate buffer gets an offset in one
// workspace, and buffers whose lifetimes do not overlap share bytes.
//
// Sizes depend on the run-time batch: a buffer holds either `bytesPerBatch * batch` bytes
// (batched) or a fixed number. The two kinds are planned separately. Batched buffers are
// placed using their per-sample sizes; multiplying every offset and size by the batch keeps
// disjoint intervals disjoint, so one plan serves every batch size with offsets
// `offsetPerBatch * batch + offset`: fixed buffers first, then the batched region.
//
// Placement is greedy first fit over a few orderings (largest first, then by first use),
// keeping the smallest result - the scheme of Glow's MemoryAllocator and TVM's static plan.
#include <cstdint>
#include <vector>

namespace nnc {

struct BufferRequest {
  int64_t bytesPerBatch = 0;  // > 0 for a batched buffer
  int64_t bytes = 0;          // fixed size, for a buffer that is not batched
  int first = 0;              // the step that writes it
  int last = 0;               // the last step that reads it (inclusive)
};

struct BufferPlacement {
  int64_t offsetPerBatch = 0;
  int64_t offset = 0;  // byte offset = offsetPerBatch * batch + offset
};

struct MemoryPlan {
  std::vector<BufferPlacement> placements;  // one per request
  int64_t fixedBytes = 0;     // arena bytes = fixedBytes + bytesPerBatch * batch
  int64_t bytesPerBatch = 0;
  int64_t naiveFixedBytes = 0;  // the same without reuse, for reporting
  int64_t naiveBytesPerBatch = 0;

  int64_t bytesFor(int64_t batch) const { return fixedBytes + bytesPerBatch * batch; }
};

// Every size is rounded up to a multiple of 64 bytes (so every buffer starts on a cache line,
// for any batch).
MemoryPlan planMemory(const std::vector<BufferRequest>& requests);

}  // namespace nnc
