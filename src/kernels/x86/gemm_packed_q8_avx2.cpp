// Repacked Q8_0 (kernels/repack.h RepackedQ8) at the AVX2 level, 8 rows x up to 4 tokens.
// Without vpdpbusd the unsigned x signed byte product is vpmaddubsw, whose int16 pair sums
// saturate for the stored w + 128 (255 * 127 * 2 > 32767). So each chunk is flipped back to
// the signed w (xor 0x80, shared by the tokens) and the sign moves onto the activation:
// |w| x sign(a, w) pairs stay under 2 * 128 * 127 < 32767 (Q8_0 activations are within
// +-127), vpmaddwd widens them to the 8 rows' int32 lanes. The block's int32 sums are exact,
// then converted and scaled exactly as the VNNI 8-row kernel does (gemm_packed_vnni.cpp), so
// both levels give a row the same bits. No offset correction: the kernels ignore asum.
//
// Against the 2x4 row tile (gemm_avx2.cpp) one weight chunk feeds 8 rows' products with one
// broadcast activation dword, and the float conversion + FMA happen once per 8 rows and block
// instead of once per row: about 40% fewer instructions per multiply-add.
#include <immintrin.h>

#include "kernels/repack.h"
#include "kernels/x86/gemm_avx2.h"
#include "kernels/x86/simd_util.h"
#include "quant/blocks.h"

namespace pocket::kernels::avx2 {

namespace {

using x86::chunk4;

template <int T>
void q8_kernel(int64_t nb, const RepackedQ8* g, const BlockQ8_0* const* act, float* y, int64_t y_stride) {
  __m256 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
  const __m256i flip = _mm256_set1_epi8(static_cast<char>(0x80));
  const __m256i ones = _mm256_set1_epi16(1);
  for (int64_t b = 0; b < nb; ++b) {
    const RepackedQ8& blk = g[b];
    __m256i s[T];  // [8 rows] int32 sum(w * a) of this block, per token
    for (int t = 0; t < T; ++t) s[t] = _mm256_setzero_si256();
    for (int k = 0; k < 8; ++k) {
      const __m256i ws = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.q[k])), flip);
      const __m256i wa = _mm256_sign_epi8(ws, ws);  // |w| (-128 stays 0x80 = 128 unsigned)
      for (int t = 0; t < T; ++t) {
        const __m256i a = _mm256_set1_epi32(chunk4(act[t][b].qs + 4 * k));
        const __m256i p = _mm256_maddubs_epi16(wa, _mm256_sign_epi8(a, ws));
        s[t] = _mm256_add_epi32(s[t], _mm256_madd_epi16(p, ones));
      }
    }
    const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk.d)));
    for (int t = 0; t < T; ++t)
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s[t]), _mm256_mul_ps(d, _mm256_set1_ps(_cvtsh_ss(act[t][b].d))),
                               acc[t]);
  }
  for (int t = 0; t < T; ++t) _mm256_storeu_ps(y + t * y_stride, acc[t]);
}

}  // namespace

void packed_q8_0_8xT(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_stride, const int32_t*,
                     int n_tok, float* y, int64_t y_stride) {
  const RepackedQ8* g = reinterpret_cast<const RepackedQ8*>(group);
  const BlockQ8_0* a[4];
  for (int t = 0; t < n_tok && t < 4; ++t) a[t] = reinterpret_cast<const BlockQ8_0*>(act + t * act_stride);
  switch (n_tok) {
    case 1: q8_kernel<1>(nb, g, a, y, y_stride); break;
    case 2: q8_kernel<2>(nb, g, a, y, y_stride); break;
    case 3: q8_kernel<3>(nb, g, a, y, y_stride); break;
    default: q8_kernel<4>(nb, g, a, y, y_stride); break;
  }
}

}  // namespace pocket::kernels::avx2
