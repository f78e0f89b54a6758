// Measures this machine's sustained memory read bandwidth (the ceiling for decode speed:
// tokens/s <= bandwidth / weight bytes per token). Streams a buffer much larger than the
// caches with N threads, AVX2 loads where available, and reports the best of several passes.
//   pocket-membw [threads] [MiB]
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

__attribute__((target("avx2"))) static double sum_avx2(const float* p, size_t n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
  for (size_t i = 0; i + 32 <= n; i += 32) {
    a0 = _mm256_add_ps(a0, _mm256_load_ps(p + i));
    a1 = _mm256_add_ps(a1, _mm256_load_ps(p + i + 8));
    a2 = _mm256_add_ps(a2, _mm256_load_ps(p + i + 16));
    a3 = _mm256_add_ps(a3, _mm256_load_ps(p + i + 24));
  }
  alignas(32) float t[8];
  _mm256_store_ps(t, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  double s = 0;
  for (float v : t) s += v;
  return s;
}

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::max(1, std::atoi(argv[1])) : static_cast<int>(std::thread::hardware_concurrency());
  const size_t mib = argc > 2 ? static_cast<size_t>(std::atol(argv[2])) : 1024;
  const size_t n = mib * 1024 * 1024 / sizeof(float);
  float* buf = static_cast<float*>(std::aligned_alloc(64, n * sizeof(float)));
  if (!buf) return 1;
  for (size_t i = 0; i < n; ++i) buf[i] = static_cast<float>(i & 7);
  double best = 0, sink = 0;
  for (int pass = 0; pass < 5; ++pass) {
    std::vector<std::thread> ts;
    std::vector<double> part(threads);
    const auto t0 = std::chrono::steady_clock::now();
    for (int t = 0; t < threads; ++t)
      ts.emplace_back([&, t] {
        const size_t chunk = (n / threads) & ~size_t(31);
        part[t] = sum_avx2(buf + t * chunk, chunk);
      });
    for (auto& th : ts) th.join();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (double v : part) sink += v;
    best = std::max(best, n * sizeof(float) / s / 1e9);
  }
  std::printf("read bandwidth: %.2f GB/s (%d threads, %zu MiB, best of 5)%s\n", best, threads, mib, sink == 42 ? " " : "");
  std::free(buf);
  return 0;
}
