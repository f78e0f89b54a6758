// Read-bandwidth probe: each thread sums its slice with wide loads (AVX2 when available, so
// the loop is limited by memory, not by the adds; elsewhere one touch per cache line).
#include "core/membw.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <vector>

#include "core/aligned.h"

namespace pocket {

namespace {

#if defined(__x86_64__)
__attribute__((target("avx2"))) float sum_avx2(const float* p, size_t n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  for (size_t i = 0; i + 32 <= n; i += 32) {
    a0 = _mm256_add_ps(a0, _mm256_load_ps(p + i));
    a1 = _mm256_add_ps(a1, _mm256_load_ps(p + i + 8));
    a2 = _mm256_add_ps(a2, _mm256_load_ps(p + i + 16));
    a3 = _mm256_add_ps(a3, _mm256_load_ps(p + i + 24));
  }
  alignas(32) float t[8];
  _mm256_store_ps(t, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  float s = 0;
  for (float v : t) s += v;
  return s;
}
#endif

float sum_scalar(const float* p, size_t n) {
  float s = 0;
  for (size_t i = 0; i < n; i += 16) s += p[i];  // one touch per cache line
  return s;
}

}  // namespace

double measure_read_bandwidth(int threads, size_t mib, int passes) {
  threads = std::max(1, threads);
  const size_t n = mib * 1024 * 1024 / sizeof(float);
  AlignedBuffer<float> buf(n);
  for (size_t i = 0; i < n; ++i) buf[i] = static_cast<float>(i & 7);
#if defined(__x86_64__)
  const bool avx2 = __builtin_cpu_supports("avx2");
#endif
  double best = 0;
  volatile float sink = 0;
  for (int pass = 0; pass < passes; ++pass) {
    std::vector<std::thread> ts;
    std::vector<float> part(threads);
    const size_t chunk = (n / threads) & ~size_t(31);
    const auto t0 = std::chrono::steady_clock::now();
    for (int t = 0; t < threads; ++t)
      ts.emplace_back([&, t] {
#if defined(__x86_64__)
        if (avx2) {
          part[t] = sum_avx2(buf.data() + t * chunk, chunk);
          return;
        }
#endif
        part[t] = sum_scalar(buf.data() + t * chunk, chunk);
      });
    for (auto& th : ts) th.join();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (float v : part) sink = sink + v;
    best = std::max(best, static_cast<double>(chunk) * threads * sizeof(float) / s);
  }
  return best;
}

}  // namespace pocket
