// AVX2+FMA micro-kernels for kernels/attention_full.h. Compiled with ISA flags; called only
// when the CPU has AVX2 and FMA.
#include <immintrin.h>

#include "kernels/attention_full.h"

namespace pocket::kernels::avx2 {
namespace {

// R query rows x one 16-key tile per step: 2R accumulators + 2 K loads + 1 broadcast fit the
// 16 ymm registers for R <= 4; each K vector loaded is used R times.
template <int R>
void qk_tile_rows(const float* q, int head_dim, const float* kpack, int64_t n_tiles, float* s, int64_t lds) {
  for (int64_t t = 0; t < n_tiles; ++t) {
    const float* kt = kpack + t * head_dim * 16;
    __m256 acc0[R], acc1[R];
    for (int r = 0; r < R; ++r) acc0[r] = acc1[r] = _mm256_setzero_ps();
    for (int d = 0; d < head_dim; ++d) {
      const __m256 k0 = _mm256_load_ps(kt + d * 16);
      const __m256 k1 = _mm256_load_ps(kt + d * 16 + 8);
      for (int r = 0; r < R; ++r) {
        const __m256 b = _mm256_broadcast_ss(q + r * head_dim + d);
        acc0[r] = _mm256_fmadd_ps(b, k0, acc0[r]);
        acc1[r] = _mm256_fmadd_ps(b, k1, acc1[r]);
      }
    }
    for (int r = 0; r < R; ++r) {
      _mm256_storeu_ps(s + r * lds + t * 16, acc0[r]);
      _mm256_storeu_ps(s + r * lds + t * 16 + 8, acc1[r]);
    }
  }
}

// R query rows x W=8*NV output dims per pass over the keys; each V vector loaded is used R times.
template <int R, int NV>
void pv_cols(const float* p, int64_t ldp, const float* v, int64_t v_stride, int64_t n_keys, int d0, float* out,
             int64_t out_stride) {
  __m256 acc[R][NV];
  for (int r = 0; r < R; ++r)
    for (int i = 0; i < NV; ++i) acc[r][i] = _mm256_setzero_ps();
  for (int64_t j = 0; j < n_keys; ++j) {
    const float* vj = v + j * v_stride + d0;
    __m256 vv[NV];
    for (int i = 0; i < NV; ++i) vv[i] = _mm256_loadu_ps(vj + 8 * i);
    for (int r = 0; r < R; ++r) {
      const __m256 b = _mm256_broadcast_ss(p + r * ldp + j);
      for (int i = 0; i < NV; ++i) acc[r][i] = _mm256_fmadd_ps(b, vv[i], acc[r][i]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int i = 0; i < NV; ++i) _mm256_storeu_ps(out + r * out_stride + d0 + 8 * i, acc[r][i]);
}

template <int R>
void pv_rows(const float* p, int64_t ldp, const float* v, int64_t v_stride, int64_t n_keys, int head_dim, float* out,
             int64_t out_stride) {
  int d0 = 0;
  for (; d0 + 16 <= head_dim; d0 += 16) pv_cols<R, 2>(p, ldp, v, v_stride, n_keys, d0, out, out_stride);
  for (; d0 + 8 <= head_dim; d0 += 8) pv_cols<R, 1>(p, ldp, v, v_stride, n_keys, d0, out, out_stride);
  for (; d0 < head_dim; ++d0) {  // head_dim not a multiple of 8: scalar tail
    for (int r = 0; r < R; ++r) {
      float acc = 0;
      for (int64_t j = 0; j < n_keys; ++j) acc += p[r * ldp + j] * v[j * v_stride + d0];
      out[r * out_stride + d0] = acc;
    }
  }
}

}  // namespace

void attn_qk_rows(const float* q, int n_rows, int head_dim, const float* kpack, int64_t n_tiles, float* s,
                  int64_t lds) {
  switch (n_rows) {
    case 4: qk_tile_rows<4>(q, head_dim, kpack, n_tiles, s, lds); break;
    case 3: qk_tile_rows<3>(q, head_dim, kpack, n_tiles, s, lds); break;
    case 2: qk_tile_rows<2>(q, head_dim, kpack, n_tiles, s, lds); break;
    case 1: qk_tile_rows<1>(q, head_dim, kpack, n_tiles, s, lds); break;
    default: break;
  }
}

void attn_pv_rows(const float* p, int64_t ldp, int n_rows, const float* v, int64_t v_stride, int64_t n_keys,
                  int head_dim, float* out, int64_t out_stride) {
  switch (n_rows) {
    case 4: pv_rows<4>(p, ldp, v, v_stride, n_keys, head_dim, out, out_stride); break;
    case 3: pv_rows<3>(p, ldp, v, v_stride, n_keys, head_dim, out, out_stride); break;
    case 2: pv_rows<2>(p, ldp, v, v_stride, n_keys, head_dim, out, out_stride); break;
    case 1: pv_rows<1>(p, ldp, v, v_stride, n_keys, head_dim, out, out_stride); break;
    default: break;
  }
}

}  // namespace pocket::kernels::avx2
