// Prefill attention micro-kernels (see attention_tile_avx2.h for the bit-identity contract
// with x86/ops_avx2.cpp's dot_f16 / axpy_f16, which decode uses).
#include "kernels/x86/attention_tile_avx2.h"

#include <immintrin.h>

#include <algorithm>
#include "kernels/x86/simd_util.h"

namespace pocket::kernels::avx2 {

namespace {

using x86::hsum_ops;

// Two keys at once against one query: two independent pairs of chains for the out-of-order
// core, each pair exactly dot_f16's (a0 over the first 8 of every 16 elements, a1 the rest).
template <int D>
inline void dot2(const float* k0, const float* k1, const float* q, float& s0, float& s1) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  __m256 b0 = _mm256_setzero_ps(), b1 = _mm256_setzero_ps();
  for (int i = 0; i < D; i += 16) {
    const __m256 q0 = _mm256_loadu_ps(q + i), q1 = _mm256_loadu_ps(q + i + 8);
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(k0 + i), q0, a0);
    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(k0 + i + 8), q1, a1);
    b0 = _mm256_fmadd_ps(_mm256_loadu_ps(k1 + i), q0, b0);
    b1 = _mm256_fmadd_ps(_mm256_loadu_ps(k1 + i + 8), q1, b1);
  }
  s0 = hsum_ops(_mm256_add_ps(a0, a1));
  s1 = hsum_ops(_mm256_add_ps(b0, b1));
}

template <int D>
inline float dot1(const float* k, const float* q) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  for (int i = 0; i < D; i += 16) {
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(k + i), _mm256_loadu_ps(q + i), a0);
    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(k + i + 8), _mm256_loadu_ps(q + i + 8), a1);
  }
  return hsum_ops(_mm256_add_ps(a0, a1));
}

template <int D>
void scores_d(const float* kbuf, int64_t c0, int64_t nc, const float* const* qs, const int64_t* nks, int nq,
              float scale, float* scores, int64_t stride) {
  for (int j = 0; j < nq; ++j) {
    const int64_t n = std::min<int64_t>(nc, nks[j] - c0);
    const float* q = qs[j];
    float* s = scores + j * stride + c0;
    int64_t c = 0;
    for (; c + 2 <= n; c += 2) {
      float x0, x1;
      dot2<D>(kbuf + c * D, kbuf + (c + 1) * D, q, x0, x1);
      s[c] = x0 * scale;
      s[c + 1] = x1 * scale;
    }
    for (; c < n; ++c) s[c] = dot1<D>(kbuf + c * D, q) * scale;
  }
}

// 64 output dims held in 8 registers across the whole key block.
inline void values_strip(const float* vbuf, int64_t n, int64_t head_dim, const float* s, float* out) {
  __m256 o[8];
  for (int i = 0; i < 8; ++i) o[i] = _mm256_loadu_ps(out + 8 * i);
  for (int64_t c = 0; c < n; ++c) {
    const __m256 a = _mm256_set1_ps(s[c]);
    const float* v = vbuf + c * head_dim;
    for (int i = 0; i < 8; ++i) o[i] = _mm256_fmadd_ps(a, _mm256_loadu_ps(v + 8 * i), o[i]);
  }
  for (int i = 0; i < 8; ++i) _mm256_storeu_ps(out + 8 * i, o[i]);
}

}  // namespace

void f16_to_f32(const uint16_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; i += 8)
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
}

void attn_scores(const float* kbuf, int64_t c0, int64_t nc, int head_dim, const float* const* qs, const int64_t* nks,
                 int nq, float scale, float* scores, int64_t stride) {
  switch (head_dim) {
    case 64: scores_d<64>(kbuf, c0, nc, qs, nks, nq, scale, scores, stride); break;
    case 128: scores_d<128>(kbuf, c0, nc, qs, nks, nq, scale, scores, stride); break;
    default:
      for (int j = 0; j < nq; ++j) {
        const int64_t n = std::min<int64_t>(nc, nks[j] - c0);
        for (int64_t c = 0; c < n; ++c) {
          __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
          const float* k = kbuf + c * head_dim;
          for (int i = 0; i < head_dim; i += 16) {
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(k + i), _mm256_loadu_ps(qs[j] + i), a0);
            a1 = _mm256_fmadd_ps(_mm256_loadu_ps(k + i + 8), _mm256_loadu_ps(qs[j] + i + 8), a1);
          }
          scores[j * stride + c0 + c] = hsum_ops(_mm256_add_ps(a0, a1)) * scale;
        }
      }
  }
}

void attn_values(const float* vbuf, int64_t c0, int64_t nc, int head_dim, const float* scores, int64_t stride,
                 const int64_t* nks, int nq, float* const* outs) {
  for (int j = 0; j < nq; ++j) {
    const int64_t n = std::min<int64_t>(nc, nks[j] - c0);
    if (n <= 0) continue;
    for (int d = 0; d < head_dim; d += 64) values_strip(vbuf + d, n, head_dim, scores + j * stride + c0, outs[j] + d);
  }
}

}  // namespace pocket::kernels::avx2
