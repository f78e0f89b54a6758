// The vision towers' float micro-kernels at the neon level: the blocked GEMM's 6 x 16 tile
// (24 FMLA accumulators, each loaded weight vector used by every token row) and the blocked
// attention's products, which have the same shape.
#include <arm_neon.h>

#include "kernels/arm/arm_kernels.h"

namespace pocket::kernels::neon {

namespace {

// c[r*ldc + j] (= or +=) sum_{k<kc} a[r*lda + k] * b[16k + j], r < R, j < 16.
template <int R>
void tile(int64_t kc, const float* a, int64_t lda, const float* b, float* c, int64_t ldc, bool accumulate) {
  float32x4_t acc[R][4];
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < 4; ++j) acc[r][j] = vdupq_n_f32(0);
  for (int64_t k = 0; k < kc; ++k) {
    const float* bk = b + 16 * k;
    const float32x4_t b0 = vld1q_f32(bk), b1 = vld1q_f32(bk + 4), b2 = vld1q_f32(bk + 8), b3 = vld1q_f32(bk + 12);
    for (int r = 0; r < R; ++r) {
      const float av = a[r * lda + k];
      acc[r][0] = vfmaq_n_f32(acc[r][0], b0, av);
      acc[r][1] = vfmaq_n_f32(acc[r][1], b1, av);
      acc[r][2] = vfmaq_n_f32(acc[r][2], b2, av);
      acc[r][3] = vfmaq_n_f32(acc[r][3], b3, av);
    }
  }
  for (int r = 0; r < R; ++r) {
    float* cr = c + r * ldc;
    for (int j = 0; j < 4; ++j) {
      const float32x4_t v = accumulate ? vaddq_f32(vld1q_f32(cr + 4 * j), acc[r][j]) : acc[r][j];
      vst1q_f32(cr + 4 * j, v);
    }
  }
}

using TileFn = void (*)(int64_t, const float*, int64_t, const float*, float*, int64_t, bool);
constexpr TileFn kTiles[7] = {nullptr, tile<1>, tile<2>, tile<3>, tile<4>, tile<5>, tile<6>};

}  // namespace

void gemm_f32_tile(int n_rows, int64_t kc, const float* a, int64_t lda, const float* b, float* c, int64_t ldc,
                   bool accumulate) {
  kTiles[n_rows](kc, a, lda, b, c, ldc, accumulate);
}

void attn_tile_gemm(const float* a, int64_t lda, int n_rows, int64_t k, const float* b, int64_t n_tiles,
                    int64_t tile_stride, float* c, int64_t ldc) {
  for (int64_t t = 0; t < n_tiles; ++t) kTiles[n_rows](k, a, lda, b + t * tile_stride, c + 16 * t, ldc, false);
}

}  // namespace pocket::kernels::neon
