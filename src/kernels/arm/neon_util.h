// Shared NEON helpers for the arm/ kernels: exp for 4 floats, fp16/bf16 loads, and the int8
// dot product of 16 bytes, which is SDOT where the file is compiled with +dotprod and a pair
// of widening multiplies otherwise (the same kernel source serves the neon and dotprod levels).
#pragma once

#include <arm_neon.h>

#include <cstdint>
#include <limits>

namespace pocket::kernels::arm {

// exp(x): x = n ln2 + r with |r| <= ln2/2, then a degree-6 polynomial in r (relative error
// ~2e-7 over the float range); 0 below -87.3 (and for -inf), inf above 88.7 is clamped.
inline float32x4_t exp_f32(float32x4_t x) {
  const uint32x4_t neg_inf = vceqq_f32(x, vdupq_n_f32(-std::numeric_limits<float>::infinity()));
  const float32x4_t lo = vdupq_n_f32(-87.33654785156250f), hi = vdupq_n_f32(88.72283935546875f);
  const uint32x4_t under = vcltq_f32(x, lo);
  x = vminq_f32(vmaxq_f32(x, lo), hi);
  const float32x4_t n = vrndnq_f32(vmulq_f32(x, vdupq_n_f32(1.44269504088896341f)));
  float32x4_t r = vfmsq_f32(x, n, vdupq_n_f32(0.693359375f));  // r = x - n ln2, in two parts
  r = vfmsq_f32(r, n, vdupq_n_f32(-2.12194440e-4f));
  float32x4_t p = vdupq_n_f32(1.9875691500e-4f);
  p = vfmaq_f32(vdupq_n_f32(1.3981999507e-3f), p, r);
  p = vfmaq_f32(vdupq_n_f32(8.3334519073e-3f), p, r);
  p = vfmaq_f32(vdupq_n_f32(4.1665795894e-2f), p, r);
  p = vfmaq_f32(vdupq_n_f32(1.6666665459e-1f), p, r);
  p = vfmaq_f32(vdupq_n_f32(5.0000001201e-1f), p, r);
  p = vfmaq_f32(vaddq_f32(r, vdupq_n_f32(1.0f)), p, vmulq_f32(r, r));
  const int32x4_t e = vshlq_n_s32(vaddq_s32(vcvtnq_s32_f32(n), vdupq_n_s32(127)), 23);
  const float32x4_t res = vmulq_f32(p, vreinterpretq_f32_s32(e));
  return vreinterpretq_f32_u32(vbicq_u32(vreinterpretq_u32_f32(res), vorrq_u32(under, neg_inf)));
}

inline float32x4_t load_f16x4(const uint16_t* p) { return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p))); }
inline float32x4_t load_bf16x4(const uint16_t* p) {
  return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(p), 16));
}

// acc + the four partial sums of a[i] * b[i] over 16 int8 lanes (their total is what counts).
inline int32x4_t dot_i8x16(int32x4_t acc, int8x16_t a, int8x16_t b) {
#if defined(__ARM_FEATURE_DOTPROD)
  return vdotq_s32(acc, a, b);
#else
  const int16x8_t lo = vmull_s8(vget_low_s8(a), vget_low_s8(b));
  const int16x8_t hi = vmull_high_s8(a, b);
  return vpadalq_s16(vpadalq_s16(acc, lo), hi);
#endif
}

}  // namespace pocket::kernels::arm
