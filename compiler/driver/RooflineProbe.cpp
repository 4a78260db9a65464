#include "compiler/driver/RooflineProbe.h"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "runtime/include/nnc/runtime.h"

namespace nnc::driver {

namespace {

using Clock = std::chrono::steady_clock;

// Independent accumulators: enough to cover the FMA latency on every port, unrolled so they
// stay in registers. Returns a value that depends on every result, so nothing is optimised
// away.
__attribute__((target("avx512f"))) float fmaLoopAvx512(int64_t iterations) {
  __m512 acc[16];
  for (int i = 0; i < 16; ++i) acc[i] = _mm512_set1_ps(float(i) * 1e-3f);
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (int64_t it = 0; it < iterations; ++it) {
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  }
  __m512 s = acc[0];
  for (int i = 1; i < 16; ++i) s = _mm512_add_ps(s, acc[i]);
  float out[16];
  _mm512_storeu_ps(out, s);
  return out[0] + out[15];
}

__attribute__((target("avx2,fma"))) float fmaLoopAvx2(int64_t iterations) {
  __m256 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm256_set1_ps(float(i) * 1e-3f);
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (int64_t it = 0; it < iterations; ++it) {
#pragma GCC unroll 16
    for (int i = 0; i < 12; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  }
  float out[8];
  __m256 s = acc[0];
  for (int i = 1; i < 12; ++i) s = _mm256_add_ps(s, acc[i]);
  _mm256_storeu_ps(out, s);
  return out[0] + out[7];
}

float mulAddLoopSse(int64_t iterations) {
  __m128 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm_set1_ps(float(i) * 1e-3f);
  const __m128 a = _mm_set1_ps(0.999999f), b = _mm_set1_ps(1e-7f);
  for (int64_t it = 0; it < iterations; ++it) {
#pragma GCC unroll 16
    for (int i = 0; i < 12; ++i) acc[i] = _mm_add_ps(_mm_mul_ps(acc[i], a), b);
  }
  __m128 s = acc[0];
  for (int i = 1; i < 12; ++i) s = _mm_add_ps(s, acc[i]);
  return _mm_cvtss_f32(s);
}

struct FmaProbe {
  int kind = 0;  // 2: AVX-512, 1: AVX2 + FMA, 0: SSE
  int64_t iterations = 0;
  std::atomic<float> sink{0};
  double flopsPerIteration() const { return kind == 2 ? 16 * 16 * 2 : kind == 1 ? 12 * 8 * 2 : 12 * 4 * 2; }
};

void fmaTask(void* ctx, int64_t begin, int64_t end) {
  auto* p = static_cast<FmaProbe*>(ctx);
  for (int64_t t = begin; t < end; ++t) {
    float r = p->kind == 2 ? fmaLoopAvx512(p->iterations) : p->kind == 1 ? fmaLoopAvx2(p->iterations)
                                                                          : mulAddLoopSse(p->iterations);
    p->sink.store(r, std::memory_order_relaxed);
  }
}

struct Triad {
  float* a;
  const float* b;
  const float* c;
};

void triadTask(void* ctx, int64_t begin, int64_t end) {
  auto* t = static_cast<Triad*>(ctx);
  for (int64_t i = begin; i < end; ++i) t->a[i] = t->b[i] + 0.5f * t->c[i];
}

// The best of `repeats` timings of `run`, in seconds.
template <typename Run>
double bestSeconds(int repeats, Run run) {
  double best = 1e30;
  for (int r = 0; r < repeats; ++r) {
    auto t0 = Clock::now();
    run();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return best;
}

}  // namespace

Roofline measureRoofline() {
  Roofline r;
  const int threads = std::max(1, nnc_get_num_threads());

  FmaProbe fma;
  __builtin_cpu_init();
  fma.kind = __builtin_cpu_supports("avx512f") ? 2 : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 1 : 0;
  r.vectorUnit = fma.kind == 2 ? "avx512" : fma.kind == 1 ? "avx2+fma" : "sse";
  fma.iterations = 2000000;  // about 10 ms per thread
  // One task per thread, grain 1: every thread runs the loop once.
  double fmaSeconds = bestSeconds(5, [&] { nnc_parallel_for(&fmaTask, &fma, threads, 1); });
  r.peakFlops = fma.flopsPerIteration() * double(fma.iterations) * double(threads) / fmaSeconds;

  // 3 x 32 MiB: several times any last-level cache of a core pair.
  const int64_t n = int64_t(8) << 20;
  auto alloc = [&] { return std::unique_ptr<float[], decltype(&std::free)>(
                         static_cast<float*>(std::aligned_alloc(64, size_t(n) * sizeof(float))), &std::free); };
  auto a = alloc(), b = alloc(), c = alloc();
  if (!a || !b || !c) return r;
  Triad t{a.get(), b.get(), c.get()};
  auto fill = [](void* ctx, int64_t begin, int64_t end) {
    auto* tt = static_cast<Triad*>(ctx);
    for (int64_t i = begin; i < end; ++i) {
      tt->a[i] = 0.0f;
      const_cast<float*>(tt->b)[i] = 1.0f;
      const_cast<float*>(tt->c)[i] = 2.0f;
    }
  };
  nnc_parallel_for(fill, &t, n, n / threads + 1);  // pages first touched by the threads that stream them
  double triadSeconds = bestSeconds(5, [&] { nnc_parallel_for(&triadTask, &t, n, n / threads + 1); });
  r.bandwidthBytes = 12.0 * double(n) / triadSeconds;
  return r;
}

}  // namespace nnc::driver
