// 2-row x 4-token product tiles with SMMLA (ARMv8.6-A I8MM; compiled with +i8mm, selected only
// when the CPU reports it). One SMMLA multiplies a 2x8 int8 matrix by an 8x2 one into a 2x2
// int32 tile: with the two weight rows as one operand and two tokens' activations as the other,
// 8 SMMLAs give all 8 exact block dots of a 32-element block. The float steps are the
// reference's (kernels/ref), in its order, so each output equals the scalar oracle's bits.
#include <arm_neon.h>

#include "core/fp16.h"
#include "kernels/arm/arm_kernels.h"
#include "quant/blocks.h"

#if !defined(__ARM_FEATURE_MATMUL_INT8)
#error "gemm_i8mm.cpp must be compiled with +i8mm (src/kernels/CMakeLists.txt)"
#endif

namespace pocket::kernels::i8mm {

namespace {

// Exact block dots of weight rows (w0, w1) with tokens (x0..x3), 32 int8 each:
// d01 = [w0.x0, w0.x1, w1.x0, w1.x1], d23 = the same for x2, x3.
inline void block_dots(const int8x16_t w0[2], const int8x16_t w1[2], const int8_t* const x[4], int32x4_t& d01,
                       int32x4_t& d23) {
  d01 = vdupq_n_s32(0);
  d23 = vdupq_n_s32(0);
  for (int h = 0; h < 2; ++h) {
    // 8-byte chunks c = 2h, 2h + 1: the low and high halves of the 16-byte vectors.
    const int8x16_t wa = vcombine_s8(vget_low_s8(w0[h]), vget_low_s8(w1[h]));
    const int8x16_t wb = vcombine_s8(vget_high_s8(w0[h]), vget_high_s8(w1[h]));
    const int8x16_t x0 = vld1q_s8(x[0] + 16 * h), x1 = vld1q_s8(x[1] + 16 * h);
    const int8x16_t x2 = vld1q_s8(x[2] + 16 * h), x3 = vld1q_s8(x[3] + 16 * h);
    d01 = vmmlaq_s32(d01, wa, vcombine_s8(vget_low_s8(x0), vget_low_s8(x1)));
    d01 = vmmlaq_s32(d01, wb, vcombine_s8(vget_high_s8(x0), vget_high_s8(x1)));
    d23 = vmmlaq_s32(d23, wa, vcombine_s8(vget_low_s8(x2), vget_low_s8(x3)));
    d23 = vmmlaq_s32(d23, wb, vcombine_s8(vget_high_s8(x2), vget_high_s8(x3)));
  }
}

// Shared driver: `weights(row, block, out[2])` unpacks a block of a weight row to int8 and
// returns its scale; the float combination follows the reference for the type.
template <bool kQ4>
void tile_2x4(int64_t n, const uint8_t* w, size_t w_stride, const uint8_t* a, size_t a_stride, float* y,
              int64_t y_stride) {
  const int64_t nb = n / QK8_0;
  const BlockQ8_0* xb[4];
  for (int t = 0; t < 4; ++t) xb[t] = reinterpret_cast<const BlockQ8_0*>(a + t * a_stride);
  float sum[2][4] = {};
  const uint8x16_t m4 = vdupq_n_u8(0x0F);
  const int8x16_t eight = vdupq_n_s8(8);
  for (int64_t b = 0; b < nb; ++b) {
    int8x16_t wq[2][2];
    float dw[2];
    for (int r = 0; r < 2; ++r) {
      if constexpr (kQ4) {
        const BlockQ4_0& blk = reinterpret_cast<const BlockQ4_0*>(w + r * w_stride)[b];
        const uint8x16_t q = vld1q_u8(blk.qs);
        wq[r][0] = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(q, m4)), eight);
        wq[r][1] = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(q, 4)), eight);
        dw[r] = fp16_to_f32(blk.d);
      } else {
        const BlockQ8_0& blk = reinterpret_cast<const BlockQ8_0*>(w + r * w_stride)[b];
        wq[r][0] = vld1q_s8(blk.qs);
        wq[r][1] = vld1q_s8(blk.qs + 16);
        dw[r] = fp16_to_f32(blk.d);
      }
    }
    const int8_t* xq[4] = {xb[0][b].qs, xb[1][b].qs, xb[2][b].qs, xb[3][b].qs};
    int32x4_t d01, d23;
    block_dots(wq[0], wq[1], xq, d01, d23);
    int32_t s[8];
    vst1q_s32(s, d01);
    vst1q_s32(s + 4, d23);
    for (int t = 0; t < 4; ++t) {
      const float dx = fp16_to_f32(xb[t][b].d);
      for (int r = 0; r < 2; ++r) {
        const float sumi = static_cast<float>(s[4 * (t / 2) + 2 * r + (t % 2)]);
        // ref: Q8_0 adds sumi * (dw * dx); Q4_0 adds (sumi * dw) * dx.
        sum[r][t] += kQ4 ? sumi * dw[r] * dx : sumi * (dw[r] * dx);
      }
    }
  }
  for (int t = 0; t < 4; ++t)
    for (int r = 0; r < 2; ++r) y[t * y_stride + r] = sum[r][t];
}

}  // namespace

void gemm_q8_0_q8_0_2x4(int64_t n, const uint8_t* w, size_t w_stride, const uint8_t* a, size_t a_stride, float* y,
                        int64_t y_stride) {
  tile_2x4<false>(n, w, w_stride, a, a_stride, y, y_stride);
}

void gemm_q4_0_q8_0_2x4(int64_t n, const uint8_t* w, size_t w_stride, const uint8_t* a, size_t a_stride, float* y,
                        int64_t y_stride) {
  tile_2x4<true>(n, w, w_stride, a, a_stride, y, y_stride);
}

}  // namespace pocket::kernels::i8mm
