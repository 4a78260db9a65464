#include "runtime/distributed/UpdateSignal.h"

namespace {
thread_local nnc::distributed::UpdateListener* threadListener = nullptr;
}

extern "C" void nnc_update_ready(void* state, int64_t byteOffset, int64_t bytes) {
  if (threadListener) threadListener->updateReady(state, byteOffset, bytes);
}

namespace nnc::distributed {

void setUpdateListener(UpdateListener* listener) { threadListener = listener; }

}  // namespace nnc::distributed
