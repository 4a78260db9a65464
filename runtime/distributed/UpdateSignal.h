#pragma once
// The call a data-parallel gradient entry makes when an update (a gradient, a running
// statistic) is final in the state (compiler/codegen/UpdateSignals.h), and who hears it.
// Entries run on the thread that calls them (their tasks fan out inside nnc_parallel_for and
// are joined before the next kernel), so the listener is per thread: a step's runtime sets
// it around the entry it runs.
#include <cstdint>

extern "C" void nnc_update_ready(void* state, int64_t byteOffset, int64_t bytes);

namespace nnc::distributed {

class UpdateListener {
 public:
  virtual ~UpdateListener() = default;
  // Bytes [state + byteOffset, + bytes) hold their final value for this step; the entry does
  // not read or write them again.
  virtual void updateReady(void* state, int64_t byteOffset, int64_t bytes) = 0;
};

// The listener of entries run on this thread from now on (null: none, signals are ignored).
void setUpdateListener(UpdateListener* listener);

}  // namespace nnc::distributed
