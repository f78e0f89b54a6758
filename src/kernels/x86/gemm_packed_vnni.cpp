// VNNI kernels over repacked 8-row groups. Per block and token: 8 vpdpbusd (one per 4-byte
// chunk: unsigned weights of 8 rows against the activation chunk broadcast to all lanes)
// seeded with the offset correction, one conversion and one FMA with the 8 row scales
// times the token's scale.
#include "kernels/x86/gemm_packed_vnni.h"

#include <immintrin.h>


// GCC 12 reports its own _mm512 intrinsics (undefined pass-through operands of the masked
// builtins) as maybe-uninitialized; a known false positive.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "kernels/repack.h"
#include "kernels/x86/simd_util.h"
#include "quant/blocks.h"

namespace pocket::kernels::vnni {

namespace {

using x86::chunk4;

// One block of 8 rows for T tokens: the int32 lanes start at each token's offset correction
// (-128 or -8 times the block's activation sum), so after the 8 chunks they hold sum(w * a)
// exactly, as the signed kernels compute it.
template <int T, int kOffset>
inline void block_8xT(const __m256i (&w)[8], const uint16_t* d16, const BlockQ8_0* const* act, const int32_t* const* asum,
                      int64_t b, __m256 (&acc)[T]) {
  const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(d16)));
  for (int t = 0; t < T; ++t) {
    const BlockQ8_0& a = act[t][b];
    __m256i s = _mm256_set1_epi32(-kOffset * asum[t][b]);
    for (int k = 0; k < 8; ++k) s = _mm256_dpbusd_epi32(s, w[k], _mm256_set1_epi32(chunk4(a.qs + 4 * k)));
    acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_mul_ps(d, _mm256_set1_ps(_cvtsh_ss(a.d))), acc[t]);
  }
}

template <int T>
void q8_kernel(int64_t nb, const RepackedQ8* g, const BlockQ8_0* const* act, const int32_t* const* asum, float* y,
               int64_t y_stride) {
  __m256 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const RepackedQ8& blk = g[b];
    __m256i w[8];
    for (int k = 0; k < 8; ++k) w[k] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.q[k]));
    block_8xT<T, 128>(w, blk.d, act, asum, b, acc);
  }
  for (int t = 0; t < T; ++t) _mm256_storeu_ps(y + t * y_stride, acc[t]);
}

template <int T>
void q4_kernel(int64_t nb, const RepackedQ4* g, const BlockQ8_0* const* act, const int32_t* const* asum, float* y,
               int64_t y_stride) {
  __m256 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  for (int64_t b = 0; b < nb; ++b) {
    const RepackedQ4& blk = g[b];
    __m256i w[8];
    for (int k = 0; k < 4; ++k) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.q[k]));
      w[k] = _mm256_and_si256(v, m4);
      w[k + 4] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
    }
    block_8xT<T, 8>(w, blk.d, act, asum, b, acc);
  }
  for (int t = 0; t < T; ++t) _mm256_storeu_ps(y + t * y_stride, acc[t]);
}

// Two consecutive 8-row groups as one zmm (16 rows): each broadcast activation chunk feeds
// 16 rows, halving the activation loads per multiply-add (the 8-row ymm kernel is bound by
// them). Every lane runs exactly the op sequence of block_8xT (seed, 8 vpdpbusd in chunk
// order, conversion, scale product, FMA), so a row's result does not depend on which kernel
// or how many tokens computed it.
template <int T, int kOffset>
inline void block_16xT(const __m512i (&w)[8], const uint16_t* d_lo, const uint16_t* d_hi, const BlockQ8_0* const* act,
                       const int32_t* const* asum, int64_t b, __m512 (&acc)[T]) {
  const __m256i d16 = _mm256_inserti128_si256(
      _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(d_lo))),
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(d_hi)), 1);
  const __m512 d = _mm512_cvtph_ps(d16);
  // Tokens interleaved: T independent vpdpbusd chains instead of one 8-deep chain at a time
  // (the chain latency, not the throughput, bounded the token-after-token order). The int32
  // sums are exact (wrapping adds are associative), so the lanes' values do not change.
  __m512i s[T];
  for (int t = 0; t < T; ++t) s[t] = _mm512_set1_epi32(-kOffset * asum[t][b]);
  for (int k = 0; k < 8; ++k)
    for (int t = 0; t < T; ++t) s[t] = _mm512_dpbusd_epi32(s[t], w[k], _mm512_set1_epi32(chunk4(act[t][b].qs + 4 * k)));
  for (int t = 0; t < T; ++t)
    acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s[t]), _mm512_mul_ps(d, _mm512_set1_ps(_cvtsh_ss(act[t][b].d))), acc[t]);
}

inline __m512i load_pair(const uint8_t* lo, const uint8_t* hi) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(lo))),
                            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(hi)), 1);
}

template <int T>
void q8_kernel16(int64_t nb, const RepackedQ8* g, const BlockQ8_0* const* act, const int32_t* const* asum, float* y,
                 int64_t y_stride) {
  const RepackedQ8* g2 = g + nb;  // the next group follows the first's nb blocks
  __m512 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    __m512i w[8];
    for (int k = 0; k < 8; ++k) w[k] = load_pair(g[b].q[k][0], g2[b].q[k][0]);
    block_16xT<T, 128>(w, g[b].d, g2[b].d, act, asum, b, acc);
  }
  for (int t = 0; t < T; ++t) _mm512_storeu_ps(y + t * y_stride, acc[t]);
}

template <int T>
void q4_kernel16(int64_t nb, const RepackedQ4* g, const BlockQ8_0* const* act, const int32_t* const* asum, float* y,
                 int64_t y_stride) {
  const RepackedQ4* g2 = g + nb;
  __m512 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  for (int64_t b = 0; b < nb; ++b) {
    __m512i w[8];
    for (int k = 0; k < 4; ++k) {
      const __m512i v = load_pair(g[b].q[k][0], g2[b].q[k][0]);
      w[k] = _mm512_and_si512(v, m4);
      w[k + 4] = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
    }
    block_16xT<T, 8>(w, g[b].d, g2[b].d, act, asum, b, acc);
  }
  for (int t = 0; t < T; ++t) _mm512_storeu_ps(y + t * y_stride, acc[t]);
}

template <typename G, void (*K1)(int64_t, const G*, const BlockQ8_0* const*, const int32_t* const*, float*, int64_t),
          void (*K2)(int64_t, const G*, const BlockQ8_0* const*, const int32_t* const*, float*, int64_t),
          void (*K3)(int64_t, const G*, const BlockQ8_0* const*, const int32_t* const*, float*, int64_t),
          void (*K4)(int64_t, const G*, const BlockQ8_0* const*, const int32_t* const*, float*, int64_t)>
void run(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_stride, const int32_t* asum, int n_tok,
         float* y, int64_t y_stride) {
  const G* g = reinterpret_cast<const G*>(group);
  const BlockQ8_0* a[4];
  const int32_t* s[4];
  for (int t = 0; t < n_tok && t < 4; ++t) {
    a[t] = reinterpret_cast<const BlockQ8_0*>(act + t * act_stride);
    s[t] = asum + t * nb;
  }
  switch (n_tok) {
    case 1: K1(nb, g, a, s, y, y_stride); break;
    case 2: K2(nb, g, a, s, y, y_stride); break;
    case 3: K3(nb, g, a, s, y, y_stride); break;
    default: K4(nb, g, a, s, y, y_stride); break;
  }
}

}  // namespace

void packed_q8_0_8xT(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_stride, const int32_t* asum,
                     int n_tok, float* y, int64_t y_stride) {
  run<RepackedQ8, q8_kernel<1>, q8_kernel<2>, q8_kernel<3>, q8_kernel<4>>(nb, group, act, act_stride, asum, n_tok, y,
                                                                          y_stride);
}

void packed_q4_0_8xT(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_stride, const int32_t* asum,
                     int n_tok, float* y, int64_t y_stride) {
  run<RepackedQ4, q4_kernel<1>, q4_kernel<2>, q4_kernel<3>, q4_kernel<4>>(nb, group, act, act_stride, asum, n_tok, y,
                                                                          y_stride);
}

void packed_q8_0_16xT(int64_t nb, const uint8_t* groups, const uint8_t* act, size_t act_stride, const int32_t* asum,
                      int n_tok, float* y, int64_t y_stride) {
  run<RepackedQ8, q8_kernel16<1>, q8_kernel16<2>, q8_kernel16<3>, q8_kernel16<4>>(nb, groups, act, act_stride, asum,
                                                                                  n_tok, y, y_stride);
}

void packed_q4_0_16xT(int64_t nb, const uint8_t* groups, const uint8_t* act, size_t act_stride, const int32_t* asum,
                      int n_tok, float* y, int64_t y_stride) {
  run<RepackedQ4, q4_kernel16<1>, q4_kernel16<2>, q4_kernel16<3>, q4_kernel16<4>>(nb, groups, act, act_stride, asum,
                                                                                  n_tok, y, y_stride);
}

void q8_0_block_sums(const uint8_t* row, int64_t nb, int32_t* out) {
  const BlockQ8_0* blocks = reinterpret_cast<const BlockQ8_0*>(row);
  const __m256i ones = _mm256_set1_epi8(1);
  for (int64_t b = 0; b < nb; ++b) {
    const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blocks[b].qs));
    const __m256i s32 = _mm256_dpbusd_epi32(_mm256_setzero_si256(), ones, q);
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(s32), _mm256_extracti128_si256(s32, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    out[b] = _mm_cvtsi128_si32(s);
  }
}

}  // namespace pocket::kernels::vnni
