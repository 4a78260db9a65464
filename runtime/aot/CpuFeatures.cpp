#include "runtime/aot/CpuFeatures.h"

#include <cpuid.h>

#include <cstdint>
#include <cstdlib>

namespace nnc::aot {

namespace {

bool listed(std::string_view list, std::string_view name) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    if (list.substr(0, comma) == name) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

// XCR0: which register state the OS saves (bits 1-2 SSE and AVX, 5-7 AVX-512).
uint64_t enabledXcr0() {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return 0;  // no OSXSAVE: no xgetbv
  unsigned lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return uint64_t(hi) << 32 | lo;
}

bool hasFeature(const CpuFeature& f, uint64_t xcr0) {
  unsigned r[4] = {0, 0, 0, 0};
  if (__get_cpuid_max(f.leaf & 0x80000000u, nullptr) < f.leaf) return false;
  __cpuid_count(f.leaf, f.subleaf, r[0], r[1], r[2], r[3]);
  if (!(r[int(f.reg)] & (1u << f.bit))) return false;
  if (f.state == VectorState::Ymm) return (xcr0 & 0x6) == 0x6;
  if (f.state == VectorState::Zmm) return (xcr0 & 0xe6) == 0xe6;
  return true;
}

}  // namespace

std::string missingCpuFeatures(std::string_view required) {
  const char* hidden = std::getenv("NNC_AOT_HIDE_CPU_FEATURES");
  const uint64_t xcr0 = enabledXcr0();
  std::string missing;
  for (const CpuFeature& f : kCpuFeatures) {
    if (!listed(required, f.name)) continue;
    if (hasFeature(f, xcr0) && !(hidden && listed(hidden, f.name))) continue;
    if (!missing.empty()) missing += ',';
    missing += f.name;
  }
  return missing;
}

}  // namespace nnc::aot
