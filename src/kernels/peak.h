// The machine's measured arithmetic peak (`pocket-peak`, and the fraction `pocket-vision-bench`
// reports): sustained FP32 FMA, BF16 dot product and int8 dot product throughput over all
// threads, each from a register-only loop of independent accumulators (no memory traffic), so
// it is the ceiling a GEMM micro-kernel can approach, as pocket-membw is the ceiling for decode.
#pragma once

#include <string>

namespace pocket::kernels {

struct ComputePeak {
  double fp32_gflops = 0;  // 2 x FMAs per second, the widest FMA the CPU has
  double fp32_256_gflops = 0;  // the same with 256-bit vectors (what the AVX2 float kernels use)
  double bf16_gflops = 0;  // 2 x BF16 multiply-adds per second (vdpbf16ps); 0 without BF16 dot products
  double int8_gops = 0;    // 2 x int8 multiply-adds per second (vpdpbusd, or AVX2 vpmaddubsw); 0 without
  std::string fp32_how, bf16_how, int8_how;  // the instruction each was measured with
};

// Runs each probe on `threads` threads at once for about `seconds`; best of `reps`.
ComputePeak measure_compute_peak(int threads, double seconds = 0.2, int reps = 3);

}  // namespace pocket::kernels
