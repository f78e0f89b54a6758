// Repacked Q4_K / Q5_K / Q6_K kernels at the AVX-VNNI level: the VEX-encoded vpdpbusd on 8 rows
// (ymm), for the Intel client cores (Alder Lake and later) and AMD Zen 5 that have 256-bit
// VNNI without AVX-512.
#include <immintrin.h>

#include <cstring>
#include <type_traits>

#include "kernels/repack.h"
#include "kernels/x86/gemm_packed_kquants.h"
#include "quant/blocks.h"

namespace pocket::kernels::avxvnni {

namespace {
struct VexDot {
  static __m256i dot(__m256i s, __m256i w, __m256i a) { return _mm256_dpbusd_avx_epi32(s, w, a); }
};
}  // namespace

#include "kernels/x86/packed_kquants.inc"

void packed_q4_k_8xT(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_stride, const int32_t*,
                     int n_tok, float* y, int64_t y_stride) {
  run_packed<Ymm8<VexDot>, RepackedQ4K, Q4K>(nb, group, act, act_stride, n_tok, y, y_stride);
}

void packed_q5_k_8xT(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_stride, const int32_t*,
                     int n_tok, float* y, int64_t y_stride) {
  run_packed<Ymm8<VexDot>, RepackedQ5K, Q5K>(nb, group, act, act_stride, n_tok, y, y_stride);
}

void packed_q6_k_8xT(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_stride, const int32_t*,
                     int n_tok, float* y, int64_t y_stride) {
  run_packed<Ymm8<VexDot>, RepackedQ6K, Q6K>(nb, group, act, act_stride, n_tok, y, y_stride);
}

}  // namespace pocket::kernels::avxvnni
