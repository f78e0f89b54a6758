// NEON versions of kernels/ops.h (ARMv8-A Advanced SIMD, every AArch64 core).
#include <arm_neon.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/fp16.h"
#include "kernels/arm/arm_kernels.h"
#include "kernels/arm/neon_util.h"

namespace pocket::kernels::neon {
namespace {

using arm::exp_f32;
using arm::load_f16x4;

void rmsnorm(const float* x, const float* w, float* y, int64_t n, float eps) {
  float32x4_t a0 = vdupq_n_f32(0), a1 = vdupq_n_f32(0);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const float32x4_t u = vld1q_f32(x + i), v = vld1q_f32(x + i + 4);
    a0 = vfmaq_f32(a0, u, u);
    a1 = vfmaq_f32(a1, v, v);
  }
  float ss = vaddvq_f32(vaddq_f32(a0, a1));
  for (; i < n; ++i) ss += x[i] * x[i];
  const float scale = 1.0f / std::sqrt(ss / static_cast<float>(n) + eps);
  i = 0;
  for (; i + 4 <= n; i += 4) {
    float32x4_t v = vmulq_n_f32(vld1q_f32(x + i), scale);
    if (w) v = vmulq_f32(v, vld1q_f32(w + i));
    vst1q_f32(y + i, v);
  }
  for (; i < n; ++i) y[i] = x[i] * scale * (w ? w[i] : 1.0f);
}

void layernorm(const float* x, const float* w, const float* b, float* y, int64_t n, float eps) {
  float32x4_t acc = vdupq_n_f32(0);
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) acc = vaddq_f32(acc, vld1q_f32(x + i));
  float sum = vaddvq_f32(acc);
  for (; i < n; ++i) sum += x[i];
  const float mean = sum / static_cast<float>(n);
  const float32x4_t vm = vdupq_n_f32(mean);
  acc = vdupq_n_f32(0);
  i = 0;
  for (; i + 4 <= n; i += 4) {
    const float32x4_t d = vsubq_f32(vld1q_f32(x + i), vm);
    acc = vfmaq_f32(acc, d, d);
  }
  float var = vaddvq_f32(acc);
  for (; i < n; ++i) var += (x[i] - mean) * (x[i] - mean);
  var /= static_cast<float>(n);
  const float inv = 1.0f / std::sqrt(var + eps);
  i = 0;
  for (; i + 4 <= n; i += 4) {
    float32x4_t v = vmulq_n_f32(vsubq_f32(vld1q_f32(x + i), vm), inv);
    if (w) v = vmulq_f32(v, vld1q_f32(w + i));
    if (b) v = vaddq_f32(v, vld1q_f32(b + i));
    vst1q_f32(y + i, v);
  }
  for (; i < n; ++i) y[i] = (x[i] - mean) * inv * (w ? w[i] : 1.0f) + (b ? b[i] : 0.0f);
}

void swiglu(const float* g, const float* u, float* y, int64_t n) {
  int64_t i = 0;
  const float32x4_t one = vdupq_n_f32(1.0f);
  for (; i + 4 <= n; i += 4) {
    const float32x4_t vg = vld1q_f32(g + i);
    const float32x4_t s = vdivq_f32(vg, vaddq_f32(one, exp_f32(vnegq_f32(vg))));
    vst1q_f32(y + i, vmulq_f32(s, vld1q_f32(u + i)));
  }
  for (; i < n; ++i) y[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
}

void gelu_tanh(float* x, int64_t n) {
  constexpr float kSqrt2OverPi = 0.79788456080286535588f;
  const float32x4_t one = vdupq_n_f32(1.0f), two = vdupq_n_f32(2.0f);
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const float32x4_t v = vld1q_f32(x + i);
    const float32x4_t inner =
        vmulq_n_f32(vmulq_f32(v, vfmaq_f32(one, vdupq_n_f32(0.044715f), vmulq_f32(v, v))), kSqrt2OverPi);
    // tanh(z) = 1 - 2 / (exp(2z) + 1): exp saturates cleanly at both ends.
    const float32x4_t t = vsubq_f32(one, vdivq_f32(two, vaddq_f32(exp_f32(vmulq_f32(two, inner)), one)));
    vst1q_f32(x + i, vmulq_f32(vmulq_n_f32(v, 0.5f), vaddq_f32(one, t)));
  }
  for (; i < n; ++i) {
    const float v = x[i];
    x[i] = 0.5f * v * (1.0f + std::tanh(kSqrt2OverPi * v * (1.0f + 0.044715f * v * v)));
  }
}

void softmax(float* x, int64_t n) {
  float mx = -std::numeric_limits<float>::infinity();
  int64_t i = 0;
  float32x4_t vmx = vdupq_n_f32(mx);
  for (; i + 4 <= n; i += 4) vmx = vmaxq_f32(vmx, vld1q_f32(x + i));
  mx = vmaxvq_f32(vmx);
  for (; i < n; ++i) mx = std::max(mx, x[i]);
  if (mx == -std::numeric_limits<float>::infinity()) {
    for (i = 0; i < n; ++i) x[i] = 0.0f;
    return;
  }
  vmx = vdupq_n_f32(mx);
  float32x4_t acc = vdupq_n_f32(0);
  i = 0;
  for (; i + 4 <= n; i += 4) {
    const float32x4_t e = exp_f32(vsubq_f32(vld1q_f32(x + i), vmx));
    vst1q_f32(x + i, e);
    acc = vaddq_f32(acc, e);
  }
  float sum = vaddvq_f32(acc);
  for (; i < n; ++i) {
    x[i] = std::exp(x[i] - mx);
    sum += x[i];
  }
  const float s = 1.0f / sum;
  i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(x + i, vmulq_n_f32(vld1q_f32(x + i), s));
  for (; i < n; ++i) x[i] *= s;
}

void add(float* y, const float* x, int64_t n) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vaddq_f32(vld1q_f32(y + i), vld1q_f32(x + i)));
  for (; i < n; ++i) y[i] += x[i];
}

// The row products of dot_neon.cpp (same sums, argument order of the weight-row kernels).
float dot_f16(const uint16_t* k, const float* q, int64_t n) { return vec_dot_f16_f32(n, k, q); }
float dot_f32(const float* a, const float* b, int64_t n) { return vec_dot_f32_f32(n, a, b); }

void axpy_f16(float a, const uint16_t* v, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vfmaq_n_f32(vld1q_f32(y + i), load_f16x4(v + i), a));
  for (; i < n; ++i) y[i] += a * fp16_to_f32(v[i]);
}

void axpy_f32(float a, const float* v, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vfmaq_n_f32(vld1q_f32(y + i), vld1q_f32(v + i), a));
  for (; i < n; ++i) y[i] += a * v[i];
}

void to_f16(const float* src, uint16_t* dst, int64_t n) {
  int64_t i = 0;  // FCVTN rounds to nearest even, as f32_to_fp16 does
  for (; i + 4 <= n; i += 4) vst1_u16(dst + i, vreinterpret_u16_f16(vcvt_f16_f32(vld1q_f32(src + i))));
  for (; i < n; ++i) dst[i] = f32_to_fp16(src[i]);
}

}  // namespace

// gelu_erf is left null (table_arm.cpp keeps the reference's): erf has no cheap vector form that
// matches std::erf to float precision, and it runs on the projector only (a few thousand values
// per image).
const OpsTable kOps = {rmsnorm, layernorm, swiglu, gelu_tanh, nullptr, softmax, add,
                       dot_f16, dot_f32,   axpy_f16, axpy_f32, to_f16};

}  // namespace pocket::kernels::neon
