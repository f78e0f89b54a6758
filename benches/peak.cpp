// Prints this machine's measured arithmetic peak (see kernels/peak.h), the ceiling the vision
// towers' products approach (pocket-vision-bench reports its fraction of it).
//   pocket-peak [threads]
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "core/cpu.h"
#include "kernels/peak.h"

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : pocket::default_thread_count();
  const pocket::kernels::ComputePeak p = pocket::kernels::measure_compute_peak(threads);
  std::printf("%d threads (%s)\n", threads, pocket::cpu_features().summary().c_str());
  std::printf("FP32 FMA:  %8.1f GFLOP/s  (%s)\n", p.fp32_gflops, p.fp32_how.c_str());
  if (p.fp32_256_gflops != p.fp32_gflops) std::printf("FP32 FMA:  %8.1f GFLOP/s  (256-bit vectors)\n", p.fp32_256_gflops);
  if (p.bf16_gflops > 0) std::printf("BF16 dot:  %8.1f GFLOP/s  (%s)\n", p.bf16_gflops, p.bf16_how.c_str());
  if (p.int8_gops > 0) std::printf("int8 dot:  %8.1f GOP/s    (%s)\n", p.int8_gops, p.int8_how.c_str());
  return 0;
}
