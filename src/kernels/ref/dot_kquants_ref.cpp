// Scalar reference dot products of K-quant weight rows with Q8_K activation rows: the oracle the
// SIMD kernels are tested against. Per super-block everything is exact integer arithmetic (quant
// x q8 products weighted by the 4/6/8-bit sub-block scales), and only the final per-block term
// d_w * d_x * isum - dmin_w * d_x * sum(min_j * bsum_j) is in float, as in ggml's generic kernels
// (ref: ggml/src/ggml-cpu/quants.c ggml_vec_dot_q*_K_q8_K_generic). The min term uses the Q8_K
// per-16 sums (bsums) instead of re-adding the activations, which is why Q8_K carries them.

#include "core/fp16.h"
#include "kernels/ref/dot_ref.h"
#include "quant/blocks.h"
#include "quant/kquants.h"

// Bit-exactness with ggml needs every a * b + c rounded twice: clang would contract it into an
// FMA on FMA-capable targets (GCC does not contract under -std=c++20).
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

namespace pocket::kernels::ref {

namespace {

using quant::scale_min_k4;

using quant::q3_k_scale;

// sum over the 16 sub-blocks of 16 values of min_j * bsum_j, for the per-16 mins of Q2_K.
inline int q8_k_min_sum16(const BlockQ8_K& y, const uint8_t* mins_nibbles_hi) {
  int s = 0;
  for (int j = 0; j < QK_K / 16; ++j) s += y.bsums[j] * (mins_nibbles_hi[j] >> 4);
  return s;
}

}  // namespace

float vec_dot_q2_k_q8_k(int64_t n, const void* w, const void* xv) {
  const auto* x = static_cast<const BlockQ2_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(xv);
  float sumf = 0;
  for (int64_t i = 0; i < n / QK_K; ++i) {
    const uint8_t* q2 = x[i].qs;
    const int8_t* q8 = y[i].qs;
    const int summs = q8_k_min_sum16(y[i], x[i].scales);
    int isum = 0, is = 0;
    // Value e of the block: 2-bit field (e % 128) / 32 of byte 32*(e / 128) + e % 32.
    for (int half = 0; half < 2; ++half, q2 += 32) {
      for (int shift = 0; shift < 8; shift += 2, q8 += 32) {
        for (int g = 0; g < 2; ++g) {
          int s = 0;
          for (int l = 16 * g; l < 16 * g + 16; ++l) s += q8[l] * ((q2[l] >> shift) & 3);
          isum += (x[i].scales[is++] & 0xF) * s;
        }
      }
    }
    const float dall = y[i].d * fp16_to_f32(x[i].d);
    const float dmin = y[i].d * fp16_to_f32(x[i].dmin);
    sumf += dall * isum - dmin * summs;
  }
  return sumf;
}

float vec_dot_q3_k_q8_k(int64_t n, const void* w, const void* xv) {
  const auto* x = static_cast<const BlockQ3_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(xv);
  float sumf = 0;
  for (int64_t i = 0; i < n / QK_K; ++i) {
    const uint8_t* q3 = x[i].qs;
    const uint8_t* hm = x[i].hmask;
    const int8_t* q8 = y[i].qs;
    int isum = 0, is = 0;
    uint8_t m = 1;
    for (int half = 0; half < 2; ++half, q3 += 32) {
      for (int shift = 0; shift < 8; shift += 2, q8 += 32, m = static_cast<uint8_t>(m << 1)) {
        for (int g = 0; g < 2; ++g) {
          int s = 0;
          for (int l = 16 * g; l < 16 * g + 16; ++l) {
            // A clear high bit means the value is 4 lower (ggml stores q + 4 with bit 2 in hmask).
            s += q8[l] * (((q3[l] >> shift) & 3) - ((hm[l] & m) ? 0 : 4));
          }
          isum += q3_k_scale(x[i].scales, is++) * s;
        }
      }
    }
    sumf += fp16_to_f32(x[i].d) * y[i].d * isum;
  }
  return sumf;
}

float vec_dot_q4_k_q8_k(int64_t n, const void* w, const void* xv) {
  const auto* x = static_cast<const BlockQ4_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(xv);
  float sumf = 0;
  for (int64_t i = 0; i < n / QK_K; ++i) {
    const uint8_t* q4 = x[i].qs;
    const int8_t* q8 = y[i].qs;
    int isum = 0, summs = 0;
    for (int j = 0; j < QK_K / 64; ++j, q4 += 32, q8 += 64) {
      int sc0, m0, sc1, m1;
      scale_min_k4(2 * j, x[i].scales, &sc0, &m0);
      scale_min_k4(2 * j + 1, x[i].scales, &sc1, &m1);
      int s0 = 0, s1 = 0;
      for (int l = 0; l < 32; ++l) {
        s0 += q8[l] * (q4[l] & 0xF);
        s1 += q8[l + 32] * (q4[l] >> 4);
      }
      isum += sc0 * s0 + sc1 * s1;
      // Each 32-value sub-block covers two 16-value bsums.
      summs += m0 * (y[i].bsums[4 * j] + y[i].bsums[4 * j + 1]) + m1 * (y[i].bsums[4 * j + 2] + y[i].bsums[4 * j + 3]);
    }
    const float d = fp16_to_f32(x[i].d) * y[i].d;
    const float dmin = fp16_to_f32(x[i].dmin) * y[i].d;
    sumf += d * isum - dmin * summs;
  }
  return sumf;
}

float vec_dot_q5_k_q8_k(int64_t n, const void* w, const void* xv) {
  const auto* x = static_cast<const BlockQ5_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(xv);
  float sumf = 0;
  for (int64_t i = 0; i < n / QK_K; ++i) {
    const uint8_t* q5 = x[i].qs;
    const uint8_t* qh = x[i].qh;
    const int8_t* q8 = y[i].qs;
    int isum = 0, summs = 0;
    for (int j = 0; j < QK_K / 64; ++j, q5 += 32, q8 += 64) {
      int sc0, m0, sc1, m1;
      scale_min_k4(2 * j, x[i].scales, &sc0, &m0);
      scale_min_k4(2 * j + 1, x[i].scales, &sc1, &m1);
      const int b0 = 2 * j, b1 = 2 * j + 1;  // fifth bit of sub-block s is bit s of qh[l]
      int s0 = 0, s1 = 0;
      for (int l = 0; l < 32; ++l) {
        s0 += q8[l] * ((q5[l] & 0xF) | (((qh[l] >> b0) & 1) << 4));
        s1 += q8[l + 32] * ((q5[l] >> 4) | (((qh[l] >> b1) & 1) << 4));
      }
      isum += sc0 * s0 + sc1 * s1;
      summs += m0 * (y[i].bsums[4 * j] + y[i].bsums[4 * j + 1]) + m1 * (y[i].bsums[4 * j + 2] + y[i].bsums[4 * j + 3]);
    }
    const float d = fp16_to_f32(x[i].d) * y[i].d;
    const float dmin = fp16_to_f32(x[i].dmin) * y[i].d;
    sumf += d * isum - dmin * summs;
  }
  return sumf;
}

float vec_dot_q6_k_q8_k(int64_t n, const void* w, const void* xv) {
  const auto* x = static_cast<const BlockQ6_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(xv);
  float sumf = 0;
  for (int64_t i = 0; i < n / QK_K; ++i) {
    const uint8_t* ql = x[i].ql;
    const uint8_t* qh = x[i].qh;
    const int8_t* q8 = y[i].qs;
    const int8_t* sc = x[i].scales;
    int isum = 0;
    for (int half = 0; half < 2; ++half, ql += 64, qh += 32, q8 += 128, sc += 8) {
      // Quarter k of the half: low nibble from ql[32*(k&1) + l] (low for k < 2, high otherwise),
      // top two bits from bits 2k..2k+1 of qh[l]; 16-value sub-block scale sc[2k + l/16].
      for (int k = 0; k < 4; ++k) {
        for (int g = 0; g < 2; ++g) {
          int s = 0;
          for (int l = 16 * g; l < 16 * g + 16; ++l) {
            const uint8_t lb = ql[32 * (k & 1) + l];
            const int lo = k < 2 ? (lb & 0xF) : (lb >> 4);
            const int q = (lo | (((qh[l] >> (2 * k)) & 3) << 4)) - 32;
            s += q8[32 * k + l] * q;
          }
          isum += sc[2 * k + g] * s;
        }
      }
    }
    sumf += fp16_to_f32(x[i].d) * y[i].d * isum;
  }
  return sumf;
}

}  // namespace pocket::kernels::ref
