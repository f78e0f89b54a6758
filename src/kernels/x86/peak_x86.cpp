// The x86 loops behind kernels/peak.h: per call, `iters` iterations of 12 independent
// accumulator chains (enough to cover the latency of every unit measured: 4-6 cycles on two or
// more pipes). Compiled with AVX-512 VNNI + BF16 flags; peak.cpp calls each only where cpuid
// shows its instructions. Returns a value derived from the accumulators so nothing is elided.
// GCC 12 reports its own _mm512_reduce_* and extract helpers (undefined merge sources) here.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstdint>

#include "kernels/x86/peak_x86.h"

namespace pocket::kernels::peak_x86 {

#define POCKET_12_(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)

__attribute__((target("avx2,fma"))) float fma_ymm(int64_t iters) {
  const __m256 m = _mm256_set1_ps(0.999f), b = _mm256_set1_ps(1e-3f);
#define D(i) __m256 a##i = _mm256_set1_ps(static_cast<float>(i));
  POCKET_12_(D)
#undef D
  for (int64_t i = 0; i < iters; ++i) {
#define F(i) a##i = _mm256_fmadd_ps(a##i, m, b);
    POCKET_12_(F)
#undef F
  }
  __m256 s = _mm256_setzero_ps();
#define S(i) s = _mm256_add_ps(s, a##i);
  POCKET_12_(S)
#undef S
  return _mm256_cvtss_f32(s);
}

__attribute__((target("avx512f"))) float fma_zmm(int64_t iters) {
  const __m512 m = _mm512_set1_ps(0.999f), b = _mm512_set1_ps(1e-3f);
#define D(i) __m512 a##i = _mm512_set1_ps(static_cast<float>(i));
  POCKET_12_(D)
#undef D
  for (int64_t i = 0; i < iters; ++i) {
#define F(i) a##i = _mm512_fmadd_ps(a##i, m, b);
    POCKET_12_(F)
#undef F
  }
  __m512 s = _mm512_setzero_ps();
#define S(i) s = _mm512_add_ps(s, a##i);
  POCKET_12_(S)
#undef S
  return _mm512_reduce_add_ps(s);
}

__attribute__((target("avx512f,avx512bf16"))) float bf16_zmm(int64_t iters) {
  const __m512bh x = (__m512bh)_mm512_set1_epi32(0x3f803f80), y = (__m512bh)_mm512_set1_epi32(0x3c003c00);
#define D(i) __m512 a##i = _mm512_set1_ps(static_cast<float>(i));
  POCKET_12_(D)
#undef D
  for (int64_t i = 0; i < iters; ++i) {
#define F(i) a##i = _mm512_dpbf16_ps(a##i, x, y);
    POCKET_12_(F)
#undef F
  }
  __m512 s = _mm512_setzero_ps();
#define S(i) s = _mm512_add_ps(s, a##i);
  POCKET_12_(S)
#undef S
  return _mm512_reduce_add_ps(s);
}

__attribute__((target("avx512f,avx512vnni"))) float vnni_zmm(int64_t iters) {
  const __m512i x = _mm512_set1_epi8(3), y = _mm512_set1_epi8(-2);
#define D(i) __m512i a##i = _mm512_set1_epi32(i);
  POCKET_12_(D)
#undef D
  for (int64_t i = 0; i < iters; ++i) {
#define F(i) a##i = _mm512_dpbusd_epi32(a##i, x, y);
    POCKET_12_(F)
#undef F
  }
  __m512i s = _mm512_setzero_si512();
#define S(i) s = _mm512_add_epi32(s, a##i);
  POCKET_12_(S)
#undef S
  return static_cast<float>(_mm512_reduce_add_epi32(s));
}

__attribute__((target("avxvnni"))) float avxvnni_ymm(int64_t iters) {
  const __m256i x = _mm256_set1_epi8(3), y = _mm256_set1_epi8(-2);
#define D(i) __m256i a##i = _mm256_set1_epi32(i);
  POCKET_12_(D)
#undef D
  for (int64_t i = 0; i < iters; ++i) {
#define F(i) a##i = _mm256_dpbusd_avx_epi32(a##i, x, y);
    POCKET_12_(F)
#undef F
  }
  __m256i s = _mm256_setzero_si256();
#define S(i) s = _mm256_add_epi32(s, a##i);
  POCKET_12_(S)
#undef S
  return static_cast<float>(_mm256_extract_epi32(s, 0));
}

// AVX2 int8: vpmaddubsw (32 products, pairwise sums to int16), vpmaddwd by ones (to int32), add:
// the sequence the AVX2 int8 kernels use per 32 multiply-adds.
__attribute__((target("avx2"))) float maddubs_ymm(int64_t iters) {
  const __m256i x = _mm256_set1_epi8(3), y = _mm256_set1_epi8(-2), ones = _mm256_set1_epi16(1);
#define D(i) __m256i a##i = _mm256_set1_epi32(i);
  POCKET_12_(D)
#undef D
  for (int64_t i = 0; i < iters; ++i) {
#define F(i) a##i = _mm256_add_epi32(a##i, _mm256_madd_epi16(_mm256_maddubs_epi16(x, y), ones));
    POCKET_12_(F)
#undef F
  }
  __m256i s = _mm256_setzero_si256();
#define S(i) s = _mm256_add_epi32(s, a##i);
  POCKET_12_(S)
#undef S
  return static_cast<float>(_mm256_extract_epi32(s, 0));
}

#undef POCKET_12_

}  // namespace pocket::kernels::peak_x86
