#include "runtime/distributed/MpiLoader.h"

#include <dlfcn.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace nnc::distributed {

namespace {

// The plugin's one entry (MpiPlugin.cpp): a communicator over `comm` (null: initialise MPI
// and use MPI_COMM_WORLD), or null with `error` set.
using CreateFn = Communicator* (*)(const void* comm, std::string* error);
constexpr const char* kPlugin = "libnnc_mpi.so";

// Next to the object holding this code (the nnc executable or libnnc.so), in its ../lib, or
// wherever the dynamic loader looks; NNC_MPI_PLUGIN names it outright.
std::vector<std::string> candidates() {
  std::vector<std::string> out;
  if (const char* p = std::getenv("NNC_MPI_PLUGIN"); p && *p) out.push_back(p);
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&launchedJobSize), &info) && info.dli_fname) {
    std::string self = info.dli_fname;
    if (self.find('/') == std::string::npos) {
      // The main program: dladdr gives argv[0]; /proc names the file.
      char buf[4096];
      ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
      if (n > 0) self.assign(buf, size_t(n));
    }
    std::string dir = self.substr(0, self.rfind('/') + 1);
    out.push_back(dir + kPlugin);
    out.push_back(dir + "../lib/" + kPlugin);
  }
  out.push_back(kPlugin);
  return out;
}

Result<CreateFn> loadPlugin() {
  static void* handle = nullptr;
  std::string tried;
  for (const std::string& path : candidates()) {
    if (handle) break;
    // RTLD_GLOBAL: Open MPI loads its own components, which need libmpi's symbols.
    handle = dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
    if (!handle) tried += std::string("\n  ") + dlerror();
  }
  if (!handle) return makeError("cannot load the MPI plugin " + std::string(kPlugin) + " (is Open MPI installed?):" + tried);
  auto fn = reinterpret_cast<CreateFn>(dlsym(handle, "nnc_mpi_create"));
  if (!fn) return makeError(std::string("the MPI plugin lacks nnc_mpi_create: ") + dlerror());
  return fn;
}

Result<std::unique_ptr<Communicator>> createCommunicator(const void* comm) {
  Result<CreateFn> fn = loadPlugin();
  if (!fn) return fn.error();
  std::string error;
  std::unique_ptr<Communicator> c((*fn)(comm, &error));
  if (!c) return makeError(error.empty() ? "MPI could not be initialised" : error);
  return c;
}

}  // namespace

int launchedJobSize() {
  const char* s = std::getenv("OMPI_COMM_WORLD_SIZE");
  if (!s || !*s) return 0;
  char* end = nullptr;
  long n = std::strtol(s, &end, 10);
  return *end == '\0' && n > 0 && n < (1 << 24) ? int(n) : 0;
}

Result<std::unique_ptr<Communicator>> joinLaunchedJob() { return createCommunicator(nullptr); }

Result<std::unique_ptr<Communicator>> useHostCommunicator(const void* mpiComm) {
  if (!mpiComm) return makeError("no MPI communicator given");
  return createCommunicator(mpiComm);
}

}  // namespace nnc::distributed
