// VNNI tiles for Q8_0/Q4_0 weights against Q8_0 activations. vpdpbusd multiplies unsigned by
// signed bytes and accumulates into int32 without the int16 saturation of maddubs, so the
// activations are offset to unsigned (a + 128, one XOR per load, shared by both rows) and the
// weights stay signed: sum((a + 128) w) = sum(a w) + 128 sum(w). The accumulator of each block
// is seeded with -128 sum(w) (one vpdpbusd per weight block, shared by the four tokens), so
// each row x token pair costs one vpdpbusd, one conversion and one FMA per block.
#include "kernels/x86/gemm_vnni.h"

#include <immintrin.h>

#include "kernels/x86/simd_util.h"
#include "quant/blocks.h"

namespace pocket::kernels::vnni {

namespace {

using x86::hsum;

using x86::LoadQ4_0;
using x86::LoadQ8_0;

template <typename L>
void gemm_2x4(int64_t n, const uint8_t* w, size_t w_stride, const uint8_t* a, size_t a_stride, float* y,
              int64_t y_stride) {
  using WB = typename L::Block;
  const int64_t nb = n / QK8_0;
  const WB* w0 = reinterpret_cast<const WB*>(w);
  const WB* w1 = reinterpret_cast<const WB*>(w + w_stride);
  const BlockQ8_0* act[4];
  for (int t = 0; t < 4; ++t) act[t] = reinterpret_cast<const BlockQ8_0*>(a + t * a_stride);
  const __m256i bias = _mm256_set1_epi8(static_cast<char>(0x80));
  __m256 c0[4], c1[4];
  for (int t = 0; t < 4; ++t) c0[t] = c1[t] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const __m256i s0 = L::load(w0[b]);
    const __m256i s1 = L::load(w1[b]);
    // -128 * sum(w) per 4-byte lane group.
    const __m256i seed0 = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_dpbusd_epi32(_mm256_setzero_si256(), bias, s0));
    const __m256i seed1 = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_dpbusd_epi32(_mm256_setzero_si256(), bias, s1));
    const float d0 = _cvtsh_ss(w0[b].d), d1 = _cvtsh_ss(w1[b].d);
    for (int t = 0; t < 4; ++t) {
      const __m256i au = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(act[t][b].qs)), bias);
      const float da = _cvtsh_ss(act[t][b].d);
      const __m256i p0 = _mm256_dpbusd_epi32(seed0, au, s0);
      const __m256i p1 = _mm256_dpbusd_epi32(seed1, au, s1);
      c0[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p0), _mm256_set1_ps(d0 * da), c0[t]);
      c1[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p1), _mm256_set1_ps(d1 * da), c1[t]);
    }
  }
  for (int t = 0; t < 4; ++t) {
    y[t * y_stride] = hsum(c0[t]);
    y[t * y_stride + 1] = hsum(c1[t]);
  }
}

}  // namespace

void gemm_q8_0_q8_0_2x4(int64_t n, const uint8_t* w, size_t w_stride, const uint8_t* a, size_t a_stride, float* y,
                        int64_t y_stride) {
  gemm_2x4<LoadQ8_0>(n, w, w_stride, a, a_stride, y, y_stride);
}

void gemm_q4_0_q8_0_2x4(int64_t n, const uint8_t* w, size_t w_stride, const uint8_t* a, size_t a_stride, float* y,
                        int64_t y_stride) {
  gemm_2x4<LoadQ4_0>(n, w, w_stride, a, a_stride, y, y_stride);
}

}  // namespace pocket::kernels::vnni
