// Compute peak probes (kernels/peak.h): each loop runs on every thread at once, started
// together; throughput = work of all threads / the slowest thread's time, best of reps.
#include "kernels/peak.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <thread>
#include <vector>

#include "core/cpu.h"
#ifdef POCKET_KERNELS_X86
#include "kernels/x86/peak_x86.h"
#endif

namespace pocket::kernels {
namespace {

std::atomic<float> g_sink{0};

// Portable FP32 loop: 16 independent multiply-adds per iteration, which compilers vectorize
// for the baseline SIMD (NEON on ARM64).
float fma_portable(int64_t iters) {
  float a[16];
  for (int i = 0; i < 16; ++i) a[i] = static_cast<float>(i);
  for (int64_t it = 0; it < iters; ++it)
    for (float& x : a) x = x * 0.999f + 1e-3f;
  float s = 0;
  for (float x : a) s += x;
  return s;
}

// ops: operations (2 per multiply-add) of one iteration of `loop`. Returns G ops per second.
double probe(const std::function<float(int64_t)>& loop, double ops_per_iter, int threads, double seconds, int reps) {
  // Calibrate the iterations for `seconds` on one thread.
  int64_t iters = 1 << 16;
  for (;;) {
    const auto t0 = std::chrono::steady_clock::now();
    g_sink.store(loop(iters));
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (dt > seconds / 4 || iters > (int64_t{1} << 40)) {
      iters = static_cast<int64_t>(static_cast<double>(iters) * seconds / std::max(dt, 1e-9));
      break;
    }
    iters *= 4;
  }
  double best = 0;
  for (int r = 0; r < reps; ++r) {
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::vector<double> secs(static_cast<size_t>(threads));
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t)
      ts.emplace_back([&, t] {
        ready.fetch_add(1);
        while (!go.load()) std::this_thread::yield();
        const auto t0 = std::chrono::steady_clock::now();
        g_sink.store(loop(iters));
        secs[static_cast<size_t>(t)] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      });
    while (ready.load() < threads) std::this_thread::yield();
    go.store(true);
    for (auto& t : ts) t.join();
    const double slowest = *std::max_element(secs.begin(), secs.end());
    best = std::max(best, ops_per_iter * static_cast<double>(iters) * threads / slowest / 1e9);
  }
  return best;
}

}  // namespace

ComputePeak measure_compute_peak(int threads, double seconds, int reps) {
  ComputePeak p;
  threads = std::max(1, threads);
  p.fp32_gflops = probe(fma_portable, 2.0 * 16, threads, seconds, reps);
  p.fp32_how = "compiler-vectorized FMA";
  p.fp32_256_gflops = p.fp32_gflops;
#ifdef POCKET_KERNELS_X86
  const CpuFeatures& c = cpu_features();
  if (c.avx2 && c.fma) {
    const double y = probe(peak_x86::fma_ymm, 2.0 * 8 * 12, threads, seconds, reps);
    p.fp32_256_gflops = y;
    if (y > p.fp32_gflops) p.fp32_gflops = y, p.fp32_how = "vfmadd231ps ymm";
  }
  if (c.avx512f) {
    const double z = probe(peak_x86::fma_zmm, 2.0 * 16 * 12, threads, seconds, reps);
    if (z > p.fp32_gflops) p.fp32_gflops = z, p.fp32_how = "vfmadd231ps zmm";
  }
  if (c.avx512bf16) {
    p.bf16_gflops = probe(peak_x86::bf16_zmm, 2.0 * 32 * 12, threads, seconds, reps);
    p.bf16_how = "vdpbf16ps zmm";
  }
  if (c.avx512vnni) {
    p.int8_gops = probe(peak_x86::vnni_zmm, 2.0 * 64 * 12, threads, seconds, reps);
    p.int8_how = "vpdpbusd zmm";
  } else if (c.avxvnni) {
    p.int8_gops = probe(peak_x86::avxvnni_ymm, 2.0 * 32 * 12, threads, seconds, reps);
    p.int8_how = "vpdpbusd ymm (AVX-VNNI)";
  } else if (c.avx2) {
    p.int8_gops = probe(peak_x86::maddubs_ymm, 2.0 * 32 * 12, threads, seconds, reps);
    p.int8_how = "vpmaddubsw + vpmaddwd + vpaddd ymm";
  }
#endif
  return p;
}

}  // namespace pocket::kernels
