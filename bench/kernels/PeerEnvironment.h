#pragma once
// Benchmarks whose peer is OpenBLAS (or PyTorch's BLAS) must run it unhindered: this
// machine's environment sets OPENBLAS_CORETYPE=Haswell, which caps OpenBLAS at AVX2 kernels
// on AVX-512 CPUs, and OPENBLAS_L2_SIZE, which changes its blocking. OpenBLAS reads both when
// the library loads, before main, so a benchmark that finds them set re-executes itself
// without them: only this process and its children lose them, never tests or CI. The binary
// records what it did in Google Benchmark's context (and says it on stderr).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace nnc::bench {

inline constexpr const char* kPeerUnsetVariable = "NNC_BENCH_PEER_ENV_UNSET";

// Call first in main: returns only in a process without the variables.
inline void runPeerUnhindered(char** argv) {
  const char* names[] = {"OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"};
  std::string removed;
  for (const char* n : names)
    if (const char* v = std::getenv(n)) {
      removed += (removed.empty() ? "" : " ") + std::string(n) + "=" + v;
      unsetenv(n);
    }
  if (!removed.empty()) {
    setenv(kPeerUnsetVariable, removed.c_str(), 1);
    std::fprintf(stderr, "peer environment: re-running without %s (OpenBLAS unhindered)\n", removed.c_str());
    execv("/proc/self/exe", argv);
    std::perror("cannot re-execute without OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE; measuring with them");
    return;
  }
  const char* was = std::getenv(kPeerUnsetVariable);
  benchmark::AddCustomContext("peer_environment",
                              was ? std::string("OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (were: ") + was + ")"
                                  : std::string("OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE not set"));
}

}  // namespace nnc::bench

// BENCHMARK_MAIN with the peer's environment cleaned first.
#define NNC_BENCHMARK_MAIN_UNHINDERED()                      \
  int main(int argc, char** argv) {                          \
    nnc::bench::runPeerUnhindered(argv);                     \
    benchmark::Initialize(&argc, argv);                      \
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1; \
    benchmark::RunSpecifiedBenchmarks();                     \
    benchmark::Shutdown();                                   \
    return 0;                                                \
  }
