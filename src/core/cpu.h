// CPU feature detection, done once; kernels/ picks its dispatch table from it.
#pragma once

#include <string>

namespace pocket {

struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512vnni = false;
  bool avx512bf16 = false;  // vdpbf16ps, vcvtne2ps2bf16 (Zen 4, Cooper Lake, Sapphire Rapids)
  bool avxvnni = false;
  bool bmi2 = false;
  // AArch64
  bool neon = false;     // Advanced SIMD
  bool dotprod = false;  // SDOT/UDOT
  bool i8mm = false;     // SMMLA/UMMLA
  bool fp16 = false;     // half-precision vector arithmetic
  // Number of online logical CPUs.
  int n_cpus = 1;
  std::string summary() const;
};

const CpuFeatures& cpu_features();

// Default worker count: physical cores this process may run on (SMT siblings counted once),
// as llama.cpp defaults to. Matrix kernels saturate a core's execution units with one thread,
// and a second thread on the sibling only competes for them and for bandwidth.
int default_thread_count();

}  // namespace pocket
