#pragma once
// SIGINT (Ctrl-C) and SIGTERM (kill, job schedulers, `timeout`) handled alike, in every
// command. The handler does only async-signal-safe things, and one of two depending on what
// the process is doing:
//
// - Normally (loading data, compiling, eval, predict, bench, compile) there is nothing worth
//   keeping: the handler removes the registered temporaries (half-written outputs, see
//   AtomicFile.h), writes a one-line message to stderr and ends the process with status 1.
// - Inside a Deferral (the training loop and the checkpoint it saves), the first signal only
//   sets a flag: the loop checks it between steps, keeps the last completed epoch and
//   returns, and the driver says what it saved. A second signal ends the process as above.
//
// A signal never leaves a temporary behind and never ends the process with 128+N.
#include <signal.h>

#include <atomic>

namespace nnc::interrupt {

// Installs the handlers (once; later calls do nothing). A SIGINT that the parent set to be
// ignored (a background job of a shell script) stays ignored.
void install();

// Set by the first SIGINT or SIGTERM; what long loops inside a Deferral check.
const std::atomic<bool>& flag();
bool requested();
// The signal that set the flag ("SIGINT", "SIGTERM"), or "" when none.
const char* signalName();

// While one lives (they nest), a signal sets the flag instead of ending the process.
class Deferral {
 public:
  Deferral();
  ~Deferral();
  Deferral(const Deferral&) = delete;
  Deferral& operator=(const Deferral&) = delete;
};

// A temporary the handler removes before the process ends on a signal. The path is copied;
// registration is refused (-1) only when the fixed table is full or the path too long, and
// then the file is merely not cleaned up on a signal. Slots are never reused, so the handler
// cannot read a path while another thread rewrites it.
int registerTemporary(const char* path);
void unregisterTemporary(int slot);

// Registers a temporary for the lifetime of the guard (the owner removes or renames it).
class TemporaryGuard {
 public:
  explicit TemporaryGuard(const char* path) : slot_(registerTemporary(path)) {}
  ~TemporaryGuard() { unregisterTemporary(slot_); }
  TemporaryGuard(const TemporaryGuard&) = delete;
  TemporaryGuard& operator=(const TemporaryGuard&) = delete;

 private:
  int slot_;
};

// Blocks SIGINT and SIGTERM in the calling thread while it lives, so that creating a
// temporary and registering it happen as one step as far as signals are concerned.
class BlockSignals {
 public:
  BlockSignals();
  ~BlockSignals();
  BlockSignals(const BlockSignals&) = delete;
  BlockSignals& operator=(const BlockSignals&) = delete;

 private:
  sigset_t saved_;
};

// For tests only: with NNC_TEST_SIGNAL=NAME@POINT or NAME@POINT:N in the environment (NAME is
// INT or TERM), the N-th call (default 1) of testPoint(POINT) raises that signal in the
// calling thread, so a test interrupts a run at an exact place instead of racing a timer.
// Points: "load" (data loading starts), "compile" (the model is compiled), "train-step"
// (after each training step), "eval-batch", "predict-batch", "file-write" (a temporary has
// been written, before it is renamed into place).
void testPoint(const char* point);

}  // namespace nnc::interrupt
