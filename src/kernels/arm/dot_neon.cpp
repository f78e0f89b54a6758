// Row products at the neon level: float rows (FMLA, four accumulators) and the quantized ones
// of dot_quants.inc with widening int8 multiplies (no SDOT needed).
#include <arm_neon.h>

#include "core/fp16.h"
#include "kernels/arm/arm_kernels.h"
#include "kernels/arm/neon_util.h"
#include "quant/blocks.h"
#include "quant/kquants.h"

namespace pocket::kernels::neon {

namespace {

// sum_i load(w + i) * x[i], with the weight converted by `load` 4 at a time.
template <typename T, typename Load, typename Scalar>
float dot_float(int64_t n, const T* w, const float* x, Load load, Scalar scalar) {
  float32x4_t a0 = vdupq_n_f32(0), a1 = a0, a2 = a0, a3 = a0;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    a0 = vfmaq_f32(a0, load(w + i), vld1q_f32(x + i));
    a1 = vfmaq_f32(a1, load(w + i + 4), vld1q_f32(x + i + 4));
    a2 = vfmaq_f32(a2, load(w + i + 8), vld1q_f32(x + i + 8));
    a3 = vfmaq_f32(a3, load(w + i + 12), vld1q_f32(x + i + 12));
  }
  for (; i + 4 <= n; i += 4) a0 = vfmaq_f32(a0, load(w + i), vld1q_f32(x + i));
  float s = vaddvq_f32(vaddq_f32(vaddq_f32(a0, a1), vaddq_f32(a2, a3)));
  for (; i < n; ++i) s += scalar(w[i]) * x[i];
  return s;
}

}  // namespace

float vec_dot_f32_f32(int64_t n, const void* w, const void* x) {
  return dot_float(
      n, static_cast<const float*>(w), static_cast<const float*>(x), [](const float* p) { return vld1q_f32(p); },
      [](float v) { return v; });
}

float vec_dot_f16_f32(int64_t n, const void* w, const void* x) {
  return dot_float(n, static_cast<const uint16_t*>(w), static_cast<const float*>(x), arm::load_f16x4,
                   [](uint16_t v) { return fp16_to_f32(v); });
}

float vec_dot_bf16_f32(int64_t n, const void* w, const void* x) {
  return dot_float(n, static_cast<const uint16_t*>(w), static_cast<const float*>(x), arm::load_bf16x4,
                   [](uint16_t v) { return bf16_to_f32(v); });
}

#include "kernels/arm/dot_quants.inc"

}  // namespace pocket::kernels::neon
