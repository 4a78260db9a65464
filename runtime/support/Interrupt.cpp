#include "runtime/support/Interrupt.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

namespace nnc::interrupt {

namespace {

// The handler touches only these, with lock-free atomics, write, unlink and _exit.
static_assert(std::atomic<bool>::is_always_lock_free && std::atomic<int>::is_always_lock_free);

std::atomic<bool> gFlag{false};
std::atomic<int> gSignal{0};
std::atomic<int> gDeferrals{0};
std::atomic<bool> gInstalled{false};
bool gStderrIsTerminal = false;  // then the message starts on a new line, after the ^C echo

// The table of temporaries. A slot goes Free -> Filling (its path is written) -> Registered,
// then Released by its owner, or Claimed by the handler, which alone then reads the path.
// Only a Released slot is reused, so the handler never reads a path being rewritten.
enum SlotState : int { kFree = 0, kFilling, kRegistered, kReleased, kClaimed };
constexpr int kSlots = 64;
constexpr size_t kPathBytes = 4096;
char gPaths[kSlots][kPathBytes];
std::atomic<int> gStates[kSlots];

size_t length(const char* s) {
  size_t n = 0;
  while (s[n]) ++n;
  return n;
}

void say(const char* text) {
  ssize_t ignored = ::write(STDERR_FILENO, text, length(text));
  (void)ignored;
}

const char* nameOf(int sig) { return sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : ""; }

[[noreturn]] void removeTemporariesAndExit(int sig, bool again) {
  for (int i = 0; i < kSlots; ++i) {
    int registered = kRegistered;
    if (gStates[i].compare_exchange_strong(registered, kClaimed)) ::unlink(gPaths[i]);
  }
  if (gStderrIsTerminal) say("\n");
  say(again ? "nnc: error: interrupted again by " : "nnc: error: interrupted by ");
  say(nameOf(sig));
  say(again ? "; stopped at once, nothing more was saved\n" : "; stopped before finishing, nothing was written\n");
  ::_exit(1);
}

extern "C" void onSignal(int sig) {
  const int savedErrno = errno;
  const bool first = !gFlag.exchange(true);
  if (first) gSignal.store(sig);
  if (first && gDeferrals.load() > 0) {
    errno = savedErrno;
    return;  // the loop that deferred it stops at its next check
  }
  removeTemporariesAndExit(sig, !first);
}

struct TestSignal {
  int sig = 0;
  std::string point;
  long count = 1;
};

// NNC_TEST_SIGNAL=INT@train-step:3
TestSignal parseTestSignal(const char* env) {
  TestSignal s;
  if (!env) return s;
  std::string spec = env;
  auto at = spec.find('@');
  if (at == std::string::npos) return s;
  std::string name = spec.substr(0, at), rest = spec.substr(at + 1);
  if (auto colon = rest.find(':'); colon != std::string::npos) {
    s.count = std::max(1L, std::atol(rest.c_str() + colon + 1));
    rest.resize(colon);
  }
  s.sig = name == "INT" ? SIGINT : name == "TERM" ? SIGTERM : 0;
  s.point = rest;
  return s;
}

std::atomic<long> gTestPointCalls{0};

}  // namespace

void install() {
  if (gInstalled.exchange(true)) return;
  gStderrIsTerminal = ::isatty(STDERR_FILENO) != 0;
  struct sigaction action = {};
  action.sa_handler = onSignal;
  sigemptyset(&action.sa_mask);
  sigaddset(&action.sa_mask, SIGINT);  // one handler at a time, whichever signal
  sigaddset(&action.sa_mask, SIGTERM);
  action.sa_flags = SA_RESTART;
  struct sigaction previous = {};
  if (::sigaction(SIGINT, nullptr, &previous) == 0 && previous.sa_handler != SIG_IGN)
    ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
}

const std::atomic<bool>& flag() { return gFlag; }
bool requested() { return gFlag.load(); }
const char* signalName() { return nameOf(gSignal.load()); }

Deferral::Deferral() { gDeferrals.fetch_add(1); }
Deferral::~Deferral() { gDeferrals.fetch_sub(1); }

int registerTemporary(const char* path) {
  const size_t n = std::strlen(path);
  if (n >= kPathBytes) return -1;
  for (int i = 0; i < kSlots; ++i) {
    int state = gStates[i].load();
    if ((state == kFree || state == kReleased) && gStates[i].compare_exchange_strong(state, kFilling)) {
      std::memcpy(gPaths[i], path, n + 1);
      gStates[i].store(kRegistered);
      return i;
    }
  }
  return -1;
}

void unregisterTemporary(int slot) {
  if (slot < 0 || slot >= kSlots) return;
  int registered = kRegistered;
  // Claimed: the handler is removing it and ending the process; nothing to do.
  gStates[slot].compare_exchange_strong(registered, kReleased);
}

BlockSignals::BlockSignals() {
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &block, &saved_);
}

BlockSignals::~BlockSignals() { pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }

void testPoint(const char* point) {
  static const TestSignal t = parseTestSignal(std::getenv("NNC_TEST_SIGNAL"));
  if (t.sig == 0 || t.point != point) return;
  if (gTestPointCalls.fetch_add(1) + 1 == t.count) ::raise(t.sig);
}

}  // namespace nnc::interrupt
