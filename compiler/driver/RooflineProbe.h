#pragma once
// The machine's roofline, measured rather than assumed: a peak-FMA probe (independent vector
// fused multiply-adds, as wide as this CPU has: AVX-512, AVX2 + FMA, else SSE multiply and
// add) and a bandwidth probe (a STREAM-style triad over arrays far larger than the caches),
// both on the runtime's threads. `bench --profile` rates each kernel against them.
namespace nnc::driver {

struct Roofline {
  double peakFlops = 0;      // FLOP/s, all threads (an FMA counts 2)
  double bandwidthBytes = 0; // bytes/s, all threads (triad: 12 bytes per element)
  const char* vectorUnit = "";  // "avx512", "avx2+fma" or "sse"
};

Roofline measureRoofline();

}  // namespace nnc::driver
