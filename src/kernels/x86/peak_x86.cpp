// The x86 loops behind kernels/peak.h: per call, `iters` iterations of 12 independent
// accumulator chains (enough to cover the latency of every unit measured: 4-6 cycles on two or
// more pipes). Each function names its instructions (target attributes); peak.cpp calls one only where cpuid
// shows its instructions. Returns a value derived from the accumulators so nothing is elided.
// GCC 12 reports its own _mm512_reduce_* and extract helpers (undefined merge sources) here.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstdint>

#include "kernels/x86/peak_x86.h"

namespace pocket::kernels::peak_x86 {

// One probe: 12 accumulators of vector type V starting at INIT(i), each updated by STEP(acc)
// per iteration, then summed with ADD and turned into a float by OUT.
#define POCKET_PEAK_LOOP(NAME, TARGET, V, INIT, STEP, ADD, OUT)                                        \
  __attribute__((target(TARGET))) float NAME(int64_t iters) {                                         \
    V a0 = INIT(0), a1 = INIT(1), a2 = INIT(2), a3 = INIT(3), a4 = INIT(4), a5 = INIT(5), a6 = INIT(6), \
      a7 = INIT(7), a8 = INIT(8), a9 = INIT(9), a10 = INIT(10), a11 = INIT(11);                        \
    for (int64_t i = 0; i < iters; ++i) {                                                              \
      a0 = STEP(a0), a1 = STEP(a1), a2 = STEP(a2), a3 = STEP(a3), a4 = STEP(a4), a5 = STEP(a5);        \
      a6 = STEP(a6), a7 = STEP(a7), a8 = STEP(a8), a9 = STEP(a9), a10 = STEP(a10), a11 = STEP(a11);    \
    }                                                                                                  \
    const V s = ADD(ADD(ADD(ADD(a0, a1), ADD(a2, a3)), ADD(ADD(a4, a5), ADD(a6, a7))),                 \
                    ADD(ADD(a8, a9), ADD(a10, a11)));                                                  \
    return OUT(s);                                                                                     \
  }

#define F256_INIT(i) _mm256_set1_ps(static_cast<float>(i))
#define F256_FMA(a) _mm256_fmadd_ps(a, _mm256_set1_ps(0.999f), _mm256_set1_ps(1e-3f))
#define F512_INIT(i) _mm512_set1_ps(static_cast<float>(i))
#define F512_FMA(a) _mm512_fmadd_ps(a, _mm512_set1_ps(0.999f), _mm512_set1_ps(1e-3f))
// BF16 pairs (1.0, 1.0) and (2^-7, 2^-7).
#define F512_DPBF16(a) \
  _mm512_dpbf16_ps(a, (__m512bh)_mm512_set1_epi32(0x3f803f80), (__m512bh)_mm512_set1_epi32(0x3c003c00))
#define I512_INIT(i) _mm512_set1_epi32(i)
#define I512_DPBUSD(a) _mm512_dpbusd_epi32(a, _mm512_set1_epi8(3), _mm512_set1_epi8(-2))
#define I256_INIT(i) _mm256_set1_epi32(i)
#define I256_DPBUSD(a) _mm256_dpbusd_avx_epi32(a, _mm256_set1_epi8(3), _mm256_set1_epi8(-2))
// AVX2 int8: vpmaddubsw (32 products, pairwise sums to int16), vpmaddwd by ones (to int32), add:
// the sequence the AVX2 int8 kernels use per 32 multiply-adds.
#define I256_MADDUBS(a) \
  _mm256_add_epi32(a, _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(3), _mm256_set1_epi8(-2)), _mm256_set1_epi16(1)))
#define I256_OUT(s) static_cast<float>(_mm256_extract_epi32(s, 0))
#define I512_OUT(s) static_cast<float>(_mm512_reduce_add_epi32(s))

POCKET_PEAK_LOOP(fma_ymm, "avx2,fma", __m256, F256_INIT, F256_FMA, _mm256_add_ps, _mm256_cvtss_f32)
POCKET_PEAK_LOOP(fma_zmm, "avx512f", __m512, F512_INIT, F512_FMA, _mm512_add_ps, _mm512_reduce_add_ps)
POCKET_PEAK_LOOP(bf16_zmm, "avx512f,avx512bf16", __m512, F512_INIT, F512_DPBF16, _mm512_add_ps, _mm512_reduce_add_ps)
POCKET_PEAK_LOOP(vnni_zmm, "avx512f,avx512vnni", __m512i, I512_INIT, I512_DPBUSD, _mm512_add_epi32, I512_OUT)
POCKET_PEAK_LOOP(avxvnni_ymm, "avxvnni", __m256i, I256_INIT, I256_DPBUSD, _mm256_add_epi32, I256_OUT)
POCKET_PEAK_LOOP(maddubs_ymm, "avx2", __m256i, I256_INIT, I256_MADDUBS, _mm256_add_epi32, I256_OUT)

}  // namespace pocket::kernels::peak_x86
