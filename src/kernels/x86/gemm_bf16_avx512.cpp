// AVX512-BF16 parts of the vision kernels' BF16 paths (F16 / BF16 towers): kernels/gemm_f32.h's
// 8x32 vdpbf16ps micro-kernel, weight panel packer and activation converter, and
// kernels/attention_full.h's 8-row x 16-column-tile micro-kernel for both of its products. Compiled with
// AVX-512 + BF16 flags; the table holds these entries only when the CPU reports AVX512_BF16.
//
// Why BF16: a tower's products are ~all of its time, and vdpbf16ps does two multiply-adds per
// float lane per instruction (twice the FP32 FMA rate). Both operands are rounded to BF16
// (8-bit mantissa, round to nearest even), products and sums are float: the embeddings stay
// within the vision goldens' NMSE (tests/kernels/test_gemm_bf16.cpp bounds each product).
// GCC 12's _mm512_cvtph_ps passes _mm512_undefined_ps() as its unused merge source, which
// -Wmaybe-uninitialized reports at every inlined call.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels/x86/vision_x86.h"

namespace pocket::kernels::bf16x {
namespace {

// One float to BF16, round to nearest even; NaN stays a (quiet) NaN.
inline uint16_t to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

// R token rows x 32 outputs: 2R accumulators (R <= 8: 16 zmm) + 2 panel vectors + a broadcast.
// Named accumulators, not arrays (see gemm_f32_avx2.cpp: GCC kept arrays in memory).
#define POCKET_ROW_(r)                                                                     \
  if constexpr (R > r) {                                                                 \
    int32_t w;                                                                           \
    std::memcpy(&w, a + (r) * lda + 2 * kp, 4);                                          \
    const __m512bh s = (__m512bh)_mm512_set1_epi32(w);                                   \
    c##r##0 = _mm512_dpbf16_ps(c##r##0, s, b0);                                          \
    c##r##1 = _mm512_dpbf16_ps(c##r##1, s, b1);                                          \
  }
#define POCKET_INIT_(r)                                                             \
  if constexpr (R > r) {                                                            \
    c##r##0 = Acc ? _mm512_loadu_ps(c + (r) * ldc) : _mm512_setzero_ps();           \
    c##r##1 = Acc ? _mm512_loadu_ps(c + (r) * ldc + 16) : _mm512_setzero_ps();      \
  }
#define POCKET_STORE_(r)                              \
  if constexpr (R > r) {                              \
    _mm512_storeu_ps(c + (r) * ldc, c##r##0);         \
    _mm512_storeu_ps(c + (r) * ldc + 16, c##r##1);    \
  }

template <int R, bool Acc>
void tile(int64_t n_pairs, const uint16_t* a, int64_t lda, const uint16_t* b, float* c, int64_t ldc) {
  __m512 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71;
  POCKET_INIT_(0) POCKET_INIT_(1) POCKET_INIT_(2) POCKET_INIT_(3)
  POCKET_INIT_(4) POCKET_INIT_(5) POCKET_INIT_(6) POCKET_INIT_(7)
  for (int64_t kp = 0; kp < n_pairs; ++kp) {
    const __m512bh b0 = (__m512bh)_mm512_load_si512(b + 64 * kp);
    const __m512bh b1 = (__m512bh)_mm512_load_si512(b + 64 * kp + 32);
    POCKET_ROW_(0) POCKET_ROW_(1) POCKET_ROW_(2) POCKET_ROW_(3)
    POCKET_ROW_(4) POCKET_ROW_(5) POCKET_ROW_(6) POCKET_ROW_(7)
  }
  POCKET_STORE_(0) POCKET_STORE_(1) POCKET_STORE_(2) POCKET_STORE_(3)
  POCKET_STORE_(4) POCKET_STORE_(5) POCKET_STORE_(6) POCKET_STORE_(7)
}
#undef POCKET_ROW_
#undef POCKET_INIT_
#undef POCKET_STORE_

template <int R>
void tile(int64_t n_pairs, const uint16_t* a, int64_t lda, const uint16_t* b, float* c, int64_t ldc, bool acc) {
  if (acc) {
    tile<R, true>(n_pairs, a, lda, b, c, ldc);
  } else {
    tile<R, false>(n_pairs, a, lda, b, c, ldc);
  }
}

// n floats to BF16 (n any; 16 at a time with vcvtneps2bf16).
void floats_to_bf16(const float* x, uint16_t* y, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i), (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(x + i)));
  for (; i < n; ++i) y[i] = to_bf16(x[i]);
}

// n F16 values to BF16 (exact through float: every F16 is a float).
void halves_to_bf16(const uint16_t* h, uint16_t* y, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 f = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(h + i)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i), (__m256i)_mm512_cvtneps_pbh(f));
  }
  for (; i < n; ++i) y[i] = to_bf16(_cvtsh_ss(h[i]));
}

// Attention tiles: R rows x two 16-output tiles (2R accumulators), then an odd last tile alone.
#define POCKET_AROW_(r)                                                      \
  if constexpr (R > r) {                                                   \
    int32_t w;                                                             \
    std::memcpy(&w, a + (r) * lda + 2 * p, 4);                             \
    const __m512bh s = (__m512bh)_mm512_set1_epi32(w);                     \
    c##r##0 = _mm512_dpbf16_ps(c##r##0, s, b0);                            \
    if constexpr (Two) c##r##1 = _mm512_dpbf16_ps(c##r##1, s, b1);         \
  }
#define POCKET_AINIT_(r)                                      \
  if constexpr (R > r) {                                      \
    c##r##0 = _mm512_setzero_ps();                            \
    c##r##1 = _mm512_setzero_ps();                            \
  }
#define POCKET_ASTORE_(r)                                             \
  if constexpr (R > r) {                                              \
    _mm512_storeu_ps(c + (r) * ldc, c##r##0);                         \
    if constexpr (Two) _mm512_storeu_ps(c + (r) * ldc + 16, c##r##1); \
  }

template <int R, bool Two>
void attn_pair(const uint16_t* a, int64_t lda, int64_t n_pairs, const uint16_t* t0, const uint16_t* t1, float* c,
               int64_t ldc) {
  __m512 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71;
  POCKET_AINIT_(0) POCKET_AINIT_(1) POCKET_AINIT_(2) POCKET_AINIT_(3)
  POCKET_AINIT_(4) POCKET_AINIT_(5) POCKET_AINIT_(6) POCKET_AINIT_(7)
  for (int64_t p = 0; p < n_pairs; ++p) {
    const __m512bh b0 = (__m512bh)_mm512_load_si512(t0 + 32 * p);
    __m512bh b1 = b0;
    if constexpr (Two) b1 = (__m512bh)_mm512_load_si512(t1 + 32 * p);
    POCKET_AROW_(0) POCKET_AROW_(1) POCKET_AROW_(2) POCKET_AROW_(3)
    POCKET_AROW_(4) POCKET_AROW_(5) POCKET_AROW_(6) POCKET_AROW_(7)
  }
  POCKET_ASTORE_(0) POCKET_ASTORE_(1) POCKET_ASTORE_(2) POCKET_ASTORE_(3)
  POCKET_ASTORE_(4) POCKET_ASTORE_(5) POCKET_ASTORE_(6) POCKET_ASTORE_(7)
}
#undef POCKET_AROW_
#undef POCKET_AINIT_
#undef POCKET_ASTORE_

template <int R>
void attn_rows(const uint16_t* a, int64_t lda, int64_t n_pairs, const uint16_t* b, int64_t n_tiles,
               int64_t tile_stride, float* c, int64_t ldc) {
  int64_t t = 0;
  for (; t + 2 <= n_tiles; t += 2)
    attn_pair<R, true>(a, lda, n_pairs, b + t * tile_stride, b + (t + 1) * tile_stride, c + 16 * t, ldc);
  if (t < n_tiles) attn_pair<R, false>(a, lda, n_pairs, b + t * tile_stride, nullptr, c + 16 * t, ldc);
}

// exp(x) for 16 floats x <= 0 (scores less their maximum): x = n ln2 + r, |r| <= ln2/2, the
// degree-6 polynomial of x86/ops_avx2.cpp's exp256 (relative error ~2e-7), scaled by 2^n with
// vscalefps; 0 below -87.3 (and for -inf).
inline __m512 exp_nonpos(__m512 x) {
  const __m512 lo = _mm512_set1_ps(-87.33654785156250f);
  const __mmask16 under = _mm512_cmp_ps_mask(x, lo, _CMP_LT_OQ);
  x = _mm512_max_ps(x, lo);
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_maskz_mov_ps(static_cast<__mmask16>(~under), _mm512_scalef_ps(p, n));
}

}  // namespace

void attn_bf16_softmax(float* s, int64_t n, uint16_t* p) {
  __m512 vmx = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) vmx = _mm512_max_ps(vmx, _mm512_loadu_ps(s + i));
  const __mmask16 tail = static_cast<__mmask16>((1u << (n - i)) - 1);
  if (i < n) vmx = _mm512_mask_max_ps(vmx, tail, vmx, _mm512_maskz_loadu_ps(tail, s + i));
  const float mx = _mm512_reduce_max_ps(vmx);
  if (mx == -std::numeric_limits<float>::infinity()) {  // no finite score: all zero, as ops.softmax
    std::memset(p, 0, static_cast<size_t>(n) * 2);
    return;
  }
  vmx = _mm512_set1_ps(mx);
  __m512 acc = _mm512_setzero_ps();
  for (i = 0; i + 16 <= n; i += 16) {
    const __m512 e = exp_nonpos(_mm512_sub_ps(_mm512_loadu_ps(s + i), vmx));
    _mm512_storeu_ps(s + i, e);
    acc = _mm512_add_ps(acc, e);
  }
  if (i < n) {
    const __m512 e = _mm512_maskz_mov_ps(tail, exp_nonpos(_mm512_sub_ps(_mm512_maskz_loadu_ps(tail, s + i), vmx)));
    _mm512_mask_storeu_ps(s + i, tail, e);
    acc = _mm512_add_ps(acc, e);
  }
  const __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(acc));
  for (i = 0; i + 16 <= n; i += 16)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p + i),
                        (__m256i)_mm512_cvtneps_pbh(_mm512_mul_ps(_mm512_loadu_ps(s + i), inv)));
  if (i < n)
    _mm256_mask_storeu_epi16(p + i, tail,
                             (__m256i)_mm512_cvtneps_pbh(_mm512_mul_ps(_mm512_maskz_loadu_ps(tail, s + i), inv)));
}

void attn_bf16_tiles(const uint16_t* a, int64_t lda, int n_rows, int64_t n_pairs, const uint16_t* b, int64_t n_tiles,
                     int64_t tile_stride, float* c, int64_t ldc) {
  switch (n_rows) {
    case 1: return attn_rows<1>(a, lda, n_pairs, b, n_tiles, tile_stride, c, ldc);
    case 2: return attn_rows<2>(a, lda, n_pairs, b, n_tiles, tile_stride, c, ldc);
    case 3: return attn_rows<3>(a, lda, n_pairs, b, n_tiles, tile_stride, c, ldc);
    case 4: return attn_rows<4>(a, lda, n_pairs, b, n_tiles, tile_stride, c, ldc);
    case 5: return attn_rows<5>(a, lda, n_pairs, b, n_tiles, tile_stride, c, ldc);
    case 6: return attn_rows<6>(a, lda, n_pairs, b, n_tiles, tile_stride, c, ldc);
    case 7: return attn_rows<7>(a, lda, n_pairs, b, n_tiles, tile_stride, c, ldc);
    default: return attn_rows<8>(a, lda, n_pairs, b, n_tiles, tile_stride, c, ldc);
  }
}

void gemm_bf16_tile(int n_rows, int64_t n_pairs, const uint16_t* a, int64_t lda, const uint16_t* b, float* c,
                    int64_t ldc, bool accumulate) {
  switch (n_rows) {
    case 1: return tile<1>(n_pairs, a, lda, b, c, ldc, accumulate);
    case 2: return tile<2>(n_pairs, a, lda, b, c, ldc, accumulate);
    case 3: return tile<3>(n_pairs, a, lda, b, c, ldc, accumulate);
    case 4: return tile<4>(n_pairs, a, lda, b, c, ldc, accumulate);
    case 5: return tile<5>(n_pairs, a, lda, b, c, ldc, accumulate);
    case 6: return tile<6>(n_pairs, a, lda, b, c, ldc, accumulate);
    case 7: return tile<7>(n_pairs, a, lda, b, c, ldc, accumulate);
    default: return tile<8>(n_pairs, a, lda, b, c, ldc, accumulate);
  }
}

void gemm_bf16_act(const float* x, uint16_t* y, int64_t n) { floats_to_bf16(x, y, n); }

bool gemm_bf16_pack(DType type, const uint8_t* row0, size_t stride, int n_rows, int64_t n_in, uint16_t* b,
                    int64_t slice_stride) {
  if (type != DType::F16 && type != DType::BF16) return false;
  // Whole rows first, each read front to back (one prefetch stream at a time: reading 32 rows
  // slice by slice was memory-stall bound), as BF16 into a per-thread buffer; then per slice the
  // word transpose: pair (2p, 2p+1) of output j goes to word 32p + j, by two gathers per pair.
  thread_local std::vector<uint16_t> buf;
  const size_t need = static_cast<size_t>(kBf16PanelWidth * n_in);
  if (buf.size() < need) buf.resize(need);
  for (int j = 0; j < kBf16PanelWidth; ++j) {
    uint16_t* row = buf.data() + j * n_in;
    if (j >= n_rows) {
      std::memset(row, 0, static_cast<size_t>(n_in) * 2);
    } else if (type == DType::F16) {
      halves_to_bf16(reinterpret_cast<const uint16_t*>(row0 + j * stride), row, n_in);
    } else {
      std::memcpy(row, row0 + j * stride, static_cast<size_t>(n_in) * 2);
    }
  }
  const int row_words = static_cast<int>(n_in / 2);
  const __m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                         _mm512_set1_epi32(row_words));
  const auto* words = reinterpret_cast<const int*>(buf.data());
  for (int64_t k0 = 0, s = 0; k0 < n_in; k0 += kBf16SliceMax, ++s) {
    const int64_t p0 = k0 / 2, n_pairs = std::min(kBf16SliceMax, n_in - k0) / 2;
    uint16_t* dst = b + s * slice_stride;
    for (int64_t p = 0; p < n_pairs; ++p) {
      _mm512_store_si512(dst + 64 * p, _mm512_i32gather_epi32(idx, words + p0 + p, 4));
      _mm512_store_si512(dst + 64 * p + 32, _mm512_i32gather_epi32(idx, words + 16 * row_words + p0 + p, 4));
    }
  }
  return true;
}

}  // namespace pocket::kernels::bf16x
