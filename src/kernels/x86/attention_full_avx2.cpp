// AVX2+FMA micro-kernel for kernels/attention_full.h. Compiled with ISA flags; called only when
// the CPU has AVX2 and FMA.
#include <immintrin.h>

#include "kernels/x86/vision_x86.h"

namespace pocket::kernels::avx2 {
namespace {

// R rows of A x one 16-column tile of packed B per step: 2R accumulators + 2 B loads + 1
// broadcast fit the 16 ymm registers for R <= 6; each B vector loaded is used R times and 12
// independent accumulators cover the FMA latency. (GCC 12 keeps everything in registers in
// this exact shape; extra live values after the loop, e.g. store masks, made it spill.)
template <int R>
void tile_gemm_rows(const float* a, int64_t lda, int64_t k, const float* b, int64_t n_tiles, int64_t tile_stride,
                    float* c, int64_t ldc) {
  for (int64_t t = 0; t < n_tiles; ++t) {
    const float* bt = b + t * tile_stride;
    __m256 acc0[R], acc1[R];
    for (int r = 0; r < R; ++r) acc0[r] = acc1[r] = _mm256_setzero_ps();
    for (int64_t x = 0; x < k; ++x) {
      const __m256 b0 = _mm256_load_ps(bt + x * 16);
      const __m256 b1 = _mm256_load_ps(bt + x * 16 + 8);
      for (int r = 0; r < R; ++r) {
        const __m256 s = _mm256_broadcast_ss(a + r * lda + x);
        acc0[r] = _mm256_fmadd_ps(s, b0, acc0[r]);
        acc1[r] = _mm256_fmadd_ps(s, b1, acc1[r]);
      }
    }
    for (int r = 0; r < R; ++r) {
      _mm256_storeu_ps(c + r * ldc + t * 16, acc0[r]);
      _mm256_storeu_ps(c + r * ldc + t * 16 + 8, acc1[r]);
    }
  }
}

}  // namespace

void attn_tile_gemm(const float* a, int64_t lda, int n_rows, int64_t k, const float* b, int64_t n_tiles,
                    int64_t tile_stride, float* c, int64_t ldc) {
  switch (n_rows) {
    case 6: tile_gemm_rows<6>(a, lda, k, b, n_tiles, tile_stride, c, ldc); break;
    case 5: tile_gemm_rows<5>(a, lda, k, b, n_tiles, tile_stride, c, ldc); break;
    case 4: tile_gemm_rows<4>(a, lda, k, b, n_tiles, tile_stride, c, ldc); break;
    case 3: tile_gemm_rows<3>(a, lda, k, b, n_tiles, tile_stride, c, ldc); break;
    case 2: tile_gemm_rows<2>(a, lda, k, b, n_tiles, tile_stride, c, ldc); break;
    case 1: tile_gemm_rows<1>(a, lda, k, b, n_tiles, tile_stride, c, ldc); break;
    default: break;
  }
}

}  // namespace pocket::kernels::avx2
