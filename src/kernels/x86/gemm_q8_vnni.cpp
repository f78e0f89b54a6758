// AVX512-VNNI parts of the Q8_0 path of kernels/gemm_f32.h: weight panel packing, activation
// quantization and the 4x32 micro-kernel. Compiled with ISA flags (AVX-512F/BW/VL/VNNI); called
// only when the CPU reports them.
//
// vpdpbusd multiplies unsigned by signed bytes, so activations are stored offset to unsigned
// (q + 128) and each block's int32 accumulator starts at -128 * sum(w) (stored in the panel):
// sum((q + 128) w) - 128 sum(w) = sum(q w), exactly, as in x86/gemm_vnni.cpp. The block's
// integer dot is then scaled by d_w * d_a into float accumulators, which is llama.cpp's Q8_0 x
// Q8_0 arithmetic (ref: ggml-cpu ggml_vec_dot_q8_0_q8_0) up to float summation order.
#include <immintrin.h>

#include <cstring>

// GCC 12's _mm512_cvtepi32_ps passes an undefined vector as the (unused) merge source, which
// -Wmaybe-uninitialized reports once inlined; the result never depends on it.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "kernels/gemm_f32.h"
#include "kernels/x86/vision_x86.h"
#include "quant/blocks.h"

namespace pocket::kernels::vnni {
namespace {

// Named accumulators (see x86/gemm_f32_avx2.cpp: GCC 12 keeps arrays of vectors in memory).
#define POCKET_R4_(X) X(0) X(1) X(2) X(3)
#define POCKET_DECL_(r) __m512 f##r##0, f##r##1;
#define POCKET_IDECL_(r) __m512i i##r##0, i##r##1;
#define POCKET_INIT_(r)                                                         \
  if constexpr (R > r) {                                                        \
    f##r##0 = Acc ? _mm512_loadu_ps(c + (r) * ldc) : _mm512_setzero_ps();       \
    f##r##1 = Acc ? _mm512_loadu_ps(c + (r) * ldc + 16) : _mm512_setzero_ps();  \
  }
#define POCKET_SEED_(r) \
  if constexpr (R > r) { \
    i##r##0 = corr0;     \
    i##r##1 = corr1;     \
  }
#define POCKET_DOT_(r)                                                                             \
  if constexpr (R > r) {                                                                           \
    int32_t q4;                                                                                    \
    std::memcpy(&q4, qa + (r) * lda + b * 32 + 4 * g, 4);                                          \
    const __m512i av = _mm512_set1_epi32(q4);                                                      \
    i##r##0 = _mm512_dpbusd_epi32(i##r##0, av, w0);                                                \
    i##r##1 = _mm512_dpbusd_epi32(i##r##1, av, w1);                                                \
  }
#define POCKET_SCALE_(r)                                                                 \
  if constexpr (R > r) {                                                                 \
    const __m512 s = _mm512_set1_ps(da[(r) * ldd + b]);                                  \
    f##r##0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i##r##0), _mm512_mul_ps(dw0, s), f##r##0); \
    f##r##1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i##r##1), _mm512_mul_ps(dw1, s), f##r##1); \
  }
#define POCKET_STORE_(r)                             \
  if constexpr (R > r) {                             \
    _mm512_storeu_ps(c + (r) * ldc, f##r##0);        \
    _mm512_storeu_ps(c + (r) * ldc + 16, f##r##1);   \
  }

template <int R, bool Acc>
void tile(int64_t n_blocks, const uint8_t* qa, int64_t lda, const float* da, int64_t ldd, const uint8_t* panel,
          float* c, int64_t ldc) {
  POCKET_R4_(POCKET_DECL_)
  POCKET_R4_(POCKET_IDECL_)
  POCKET_R4_(POCKET_INIT_)
  for (int64_t b = 0; b < n_blocks; ++b) {
    const uint8_t* pb = panel + b * kQ8PanelBlockBytes;
    const __m512i corr0 = _mm512_load_si512(pb + 1152);
    const __m512i corr1 = _mm512_load_si512(pb + 1216);
    POCKET_R4_(POCKET_SEED_)
    for (int g = 0; g < 8; ++g) {
      const __m512i w0 = _mm512_load_si512(pb + 128 * g);
      const __m512i w1 = _mm512_load_si512(pb + 128 * g + 64);
      POCKET_R4_(POCKET_DOT_)
    }
    const __m512 dw0 = _mm512_load_ps(pb + 1024);
    const __m512 dw1 = _mm512_load_ps(pb + 1088);
    POCKET_R4_(POCKET_SCALE_)
  }
  POCKET_R4_(POCKET_STORE_)
}
#undef POCKET_R4_
#undef POCKET_DECL_
#undef POCKET_IDECL_
#undef POCKET_INIT_
#undef POCKET_SEED_
#undef POCKET_DOT_
#undef POCKET_SCALE_
#undef POCKET_STORE_

template <int R>
void tile(int64_t n_blocks, const uint8_t* qa, int64_t lda, const float* da, int64_t ldd, const uint8_t* panel,
          float* c, int64_t ldc, bool accumulate) {
  if (accumulate) {
    tile<R, true>(n_blocks, qa, lda, da, ldd, panel, c, ldc);
  } else {
    tile<R, false>(n_blocks, qa, lda, da, ldd, panel, c, ldc);
  }
}

}  // namespace

void q8_tile(int n_rows, int64_t n_blocks, const uint8_t* qa, int64_t lda, const float* da, int64_t ldd,
             const uint8_t* panel, float* c, int64_t ldc, bool accumulate) {
  switch (n_rows) {
    case 4: tile<4>(n_blocks, qa, lda, da, ldd, panel, c, ldc, accumulate); break;
    case 3: tile<3>(n_blocks, qa, lda, da, ldd, panel, c, ldc, accumulate); break;
    case 2: tile<2>(n_blocks, qa, lda, da, ldd, panel, c, ldc, accumulate); break;
    case 1: tile<1>(n_blocks, qa, lda, da, ldd, panel, c, ldc, accumulate); break;
    default: break;
  }
}

void q8_pack(const uint8_t* row0, size_t stride, int n_rows, int64_t block0, int64_t n_blocks, uint8_t* panel) {
  for (int64_t b = 0; b < n_blocks; ++b) {
    uint8_t* pb = panel + b * kQ8PanelBlockBytes;
    float* dw = reinterpret_cast<float*>(pb + 1024);
    int32_t* corr = reinterpret_cast<int32_t*>(pb + 1152);
    for (int o = 0; o < kQ8PanelWidth; ++o) {
      if (o >= n_rows) {
        for (int g = 0; g < 8; ++g) std::memset(pb + 128 * g + 4 * o, 0, 4);
        dw[o] = 0.0f;
        corr[o] = 0;
        continue;
      }
      const BlockQ8_0& blk = reinterpret_cast<const BlockQ8_0*>(row0 + static_cast<size_t>(o) * stride)[block0 + b];
      int32_t sum = 0;
      for (int i = 0; i < QK8_0; ++i) sum += blk.qs[i];
      for (int g = 0; g < 8; ++g) std::memcpy(pb + 128 * g + 4 * o, blk.qs + 4 * g, 4);
      dw[o] = _cvtsh_ss(blk.d);
      corr[o] = -128 * sum;
    }
  }
}

void q8_split_act(const void* blocks, int64_t n, uint8_t* qa, float* da) {
  const BlockQ8_0* src = static_cast<const BlockQ8_0*>(blocks);
  const __m256i bias = _mm256_set1_epi8(static_cast<char>(0x80));
  for (int64_t b = 0; b < n / QK8_0; ++b) {
    const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src[b].qs));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(qa + b * QK8_0), _mm256_xor_si256(q, bias));
    da[b] = _cvtsh_ss(src[b].d);
  }
}

}  // namespace pocket::kernels::vnni
