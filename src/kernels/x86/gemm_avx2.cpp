// AVX2 2x4 tile kernels for the 32-element block formats against Q8_0 activations.
// Integer dot per block as in the row kernels (|w| * sign(a, w) through maddubs, pairs
// summed by madd), converted to float and scaled by d_w * d_a; 8 independent float
// accumulators (one per row x token) keep the FMA pipes busy.
#include "kernels/x86/gemm_avx2.h"

#include <immintrin.h>

#include "kernels/x86/simd_util.h"
#include "quant/blocks.h"

namespace pocket::kernels::avx2 {

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
  const BlockQ8_0* a0 = reinterpret_cast<const BlockQ8_0*>(a);
  const BlockQ8_0* a1 = reinterpret_cast<const BlockQ8_0*>(a + a_stride);
  const BlockQ8_0* a2 = reinterpret_cast<const BlockQ8_0*>(a + 2 * a_stride);
  const BlockQ8_0* a3 = reinterpret_cast<const BlockQ8_0*>(a + 3 * a_stride);
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c02 = c00, c03 = c00;
  __m256 c10 = c00, c11 = c00, c12 = c00, c13 = c00;
  for (int64_t b = 0; b < nb; ++b) {
    const __m256i s0 = L::load(w0[b]);
    const __m256i s1 = L::load(w1[b]);
    const __m256i u0 = _mm256_sign_epi8(s0, s0);  // |w|
    const __m256i u1 = _mm256_sign_epi8(s1, s1);
    const float d0 = _cvtsh_ss(w0[b].d), d1 = _cvtsh_ss(w1[b].d);
    auto step = [&](const BlockQ8_0& ab, __m256& acc0, __m256& acc1) {
      const __m256i av = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ab.qs));
      const float da = _cvtsh_ss(ab.d);
      const __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(u0, _mm256_sign_epi8(av, s0)), ones);
      const __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(u1, _mm256_sign_epi8(av, s1)), ones);
      acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p0), _mm256_set1_ps(d0 * da), acc0);
      acc1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p1), _mm256_set1_ps(d1 * da), acc1);
    };
    step(a0[b], c00, c10);
    step(a1[b], c01, c11);
    step(a2[b], c02, c12);
    step(a3[b], c03, c13);
  }
  y[0] = hsum(c00);
  y[1] = hsum(c10);
  y[y_stride] = hsum(c01);
  y[y_stride + 1] = hsum(c11);
  y[2 * y_stride] = hsum(c02);
  y[2 * y_stride + 1] = hsum(c12);
  y[3 * y_stride] = hsum(c03);
  y[3 * y_stride + 1] = hsum(c13);
}

// Float weights: 8 elements per step, converted once and used for 4 tokens.
struct LoadF32 {
  using T = float;
  static __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
  static float load1(const float* p) { return *p; }
};
struct LoadF16 {
  using T = uint16_t;
  static __m256 load8(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
  static float load1(const uint16_t* p) { return _cvtsh_ss(*p); }
};
struct LoadBF16 {
  using T = uint16_t;
  static __m256 load8(const uint16_t* p) {
    return _mm256_castsi256_ps(
        _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))), 16));
  }
  static float load1(const uint16_t* p) {
    const uint32_t u = static_cast<uint32_t>(*p) << 16;
    float f;
    __builtin_memcpy(&f, &u, 4);
    return f;
  }
};

template <typename L>
void gemm_float_2x4(int64_t n, const uint8_t* w, size_t w_stride, const uint8_t* a, size_t a_stride, float* y,
                    int64_t y_stride) {
  using T = typename L::T;
  const T* w0 = reinterpret_cast<const T*>(w);
  const T* w1 = reinterpret_cast<const T*>(w + w_stride);
  const float* x[4];
  for (int t = 0; t < 4; ++t) x[t] = reinterpret_cast<const float*>(a + t * a_stride);
  __m256 c0[4], c1[4];
  for (int t = 0; t < 4; ++t) c0[t] = c1[t] = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v0 = L::load8(w0 + i), v1 = L::load8(w1 + i);
    for (int t = 0; t < 4; ++t) {
      const __m256 xv = _mm256_loadu_ps(x[t] + i);
      c0[t] = _mm256_fmadd_ps(v0, xv, c0[t]);
      c1[t] = _mm256_fmadd_ps(v1, xv, c1[t]);
    }
  }
  for (int t = 0; t < 4; ++t) {
    float s0 = hsum(c0[t]), s1 = hsum(c1[t]);
    for (int64_t j = i; j < n; ++j) {
      s0 += L::load1(w0 + j) * x[t][j];
      s1 += L::load1(w1 + j) * x[t][j];
    }
    y[t * y_stride] = s0;
    y[t * y_stride + 1] = s1;
  }
}

}  // namespace

void gemm_f32_f32_2x4(int64_t n, const uint8_t* w, size_t w_stride, const uint8_t* a, size_t a_stride, float* y,
                      int64_t y_stride) {
  gemm_float_2x4<LoadF32>(n, w, w_stride, a, a_stride, y, y_stride);
}
void gemm_f16_f32_2x4(int64_t n, const uint8_t* w, size_t w_stride, const uint8_t* a, size_t a_stride, float* y,
                      int64_t y_stride) {
  gemm_float_2x4<LoadF16>(n, w, w_stride, a, a_stride, y, y_stride);
}
void gemm_bf16_f32_2x4(int64_t n, const uint8_t* w, size_t w_stride, const uint8_t* a, size_t a_stride, float* y,
                       int64_t y_stride) {
  gemm_float_2x4<LoadBF16>(n, w, w_stride, a, a_stride, y, y_stride);
}

void gemm_q8_0_q8_0_2x4(int64_t n, const uint8_t* w, size_t w_stride, const uint8_t* a, size_t a_stride, float* y,
                        int64_t y_stride) {
  gemm_2x4<LoadQ8_0>(n, w, w_stride, a, a_stride, y, y_stride);
}

void gemm_q4_0_q8_0_2x4(int64_t n, const uint8_t* w, size_t w_stride, const uint8_t* a, size_t a_stride, float* y,
                        int64_t y_stride) {
  gemm_2x4<LoadQ4_0>(n, w, w_stride, a, a_stride, y, y_stride);
}

}  // namespace pocket::kernels::avx2
