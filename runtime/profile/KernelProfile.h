#pragma once
// Per-kernel timing of a profiling build (CompileOptions::profile, `nnc FILE bench
// --profile`): its entry points call nnc_profile_mark(k) before each task of kernel k,
// nnc_profile_mark(kCopies) before the final copies and nnc_profile_mark(kEnd) before
// returning; each span between two marks is added to the kernel that opened it. Ordinary
// builds contain no marks, so they pay nothing. Entries run on one thread at a time (their
// tasks fan out inside nnc_parallel_for), so the recorder needs no locking.
#include <cstdint>
#include <vector>

extern "C" void nnc_profile_mark(int32_t kernel);

namespace nnc::profile {

inline constexpr int32_t kCopies = -2;
inline constexpr int32_t kEnd = -1;

struct KernelTimes {
  std::vector<double> seconds;  // per kernel index
  double copies = 0;            // the entry's copies to outputs and into the state
};

// Spans go to `into` (grown to the kernel indices seen) until record(nullptr).
void record(KernelTimes* into);

}  // namespace nnc::profile
