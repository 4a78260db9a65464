#include "compiler/driver/LargeStack.h"

#include <pthread.h>

#include <exception>

namespace nnc::driver {

size_t stackBytesForNesting(size_t maxNesting) {
  constexpr size_t kBase = size_t(64) << 20;     // 64 MiB: everything that is not nesting
  constexpr size_t kPerLevel = size_t(64) << 10;  // 64 KiB a level: 4x what ASan builds use
  return kBase + maxNesting * kPerLevel;
}

namespace {
struct Call {
  const std::function<int()>* fn = nullptr;
  int result = 0;
  std::exception_ptr error;
};

void* trampoline(void* arg) {
  Call* call = static_cast<Call*>(arg);
  try {
    call->result = (*call->fn)();
  } catch (...) {
    call->error = std::current_exception();
  }
  return nullptr;
}
}  // namespace

int runWithStack(size_t stackBytes, const std::function<int()>& fn) {
  Call call;
  call.fn = &fn;
  pthread_attr_t attr;
  if (pthread_attr_init(&attr) != 0) return fn();
  pthread_t thread;
  bool started = pthread_attr_setstacksize(&attr, stackBytes) == 0 &&
                 pthread_create(&thread, &attr, trampoline, &call) == 0;
  pthread_attr_destroy(&attr);
  if (!started) return fn();
  pthread_join(thread, nullptr);
  if (call.error) std::rethrow_exception(call.error);
  return call.result;
}

}  // namespace nnc::driver
