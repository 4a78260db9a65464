// The signal handling of runtime/support/Interrupt.h, in forked children (a signal ends the
// process): outside a Deferral a signal removes the registered temporaries and exits 1 with a
// message; inside one the first signal only sets the flag and a second one exits; released
// temporaries are left alone; a SIGINT ignored at start stays ignored.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>

#include "runtime/support/Interrupt.h"

using namespace nnc;

namespace {

struct ChildResult {
  int status = -1;  // exit status, or 128 + signal
  std::string err;
};

// Runs `body` in a child whose stderr goes to a file; the child exits 0 if `body` returns.
ChildResult inChild(const std::function<void()>& body) {
  char errPath[] = "/tmp/nnc-interrupt-err-XXXXXX";
  int errFd = ::mkstemp(errPath);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(errFd, STDERR_FILENO);
    body();
    ::_exit(0);
  }
  ::close(errFd);
  int raw = 0;
  ::waitpid(pid, &raw, 0);
  ChildResult r;
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
  std::ifstream in(errPath);
  std::ostringstream s;
  s << in.rdbuf();
  r.err = s.str();
  ::unlink(errPath);
  return r;
}

std::string makeTemporary(const std::string& name) {
  std::string path = "/tmp/nnc-interrupt-" + std::to_string(::getpid()) + "-" + name;
  std::ofstream(path) << "partial";
  return path;
}

bool exists(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0;
}

TEST(Interrupt, SignalRemovesRegisteredTemporariesAndExitsOne) {
  const std::string temp = makeTemporary("a");
  ChildResult r = inChild([&] {
    interrupt::install();
    interrupt::registerTemporary(temp.c_str());
    ::raise(SIGTERM);
    ::_exit(3);  // not reached
  });
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("nnc: error: interrupted by SIGTERM; stopped before finishing"), std::string::npos) << r.err;
  EXPECT_FALSE(exists(temp)) << "the registered temporary is removed";
  ::unlink(temp.c_str());
}

TEST(Interrupt, ReleasedTemporaryIsLeftAlone) {
  const std::string temp = makeTemporary("b");
  ChildResult r = inChild([&] {
    interrupt::install();
    int slot = interrupt::registerTemporary(temp.c_str());
    interrupt::unregisterTemporary(slot);  // renamed into place: now the user's file
    ::raise(SIGINT);
  });
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(exists(temp));
  ::unlink(temp.c_str());
}

TEST(Interrupt, DeferralSetsTheFlagAndASecondSignalEndsAtOnce) {
  const std::string temp = makeTemporary("c");
  ChildResult r = inChild([&] {
    interrupt::install();
    interrupt::Deferral deferral;
    interrupt::registerTemporary(temp.c_str());
    ::raise(SIGINT);
    if (!interrupt::requested() || !interrupt::flag().load() || std::strcmp(interrupt::signalName(), "SIGINT") != 0)
      ::_exit(4);
    if (!exists(temp)) ::_exit(5);  // the first signal leaves everything in place
    ::raise(SIGTERM);
    ::_exit(6);  // not reached
  });
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("interrupted again by SIGTERM; stopped at once"), std::string::npos) << r.err;
  EXPECT_FALSE(exists(temp));
  ::unlink(temp.c_str());
}

TEST(Interrupt, SigintIgnoredAtStartStaysIgnored) {
  ChildResult r = inChild([] {
    ::signal(SIGINT, SIG_IGN);
    interrupt::install();
    ::raise(SIGINT);
    if (interrupt::requested()) ::_exit(7);
  });
  EXPECT_EQ(r.status, 0) << r.err;
}

}  // namespace
