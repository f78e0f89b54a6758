// Scalar reference implementations of kernels/ops.h: the oracle for the SIMD versions.
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/fp16.h"
#include "kernels/dispatch.h"
#include "kernels/ops.h"

namespace pocket::kernels {

namespace ref {
namespace {

void rmsnorm(const float* x, const float* w, float* y, int64_t n, float eps) {
  double ss = 0;  // double accumulation: the reference should not be the noisy one
  for (int64_t i = 0; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
  const float scale = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(n) + eps));
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * scale * (w ? w[i] : 1.0f);
}

void layernorm(const float* x, const float* w, const float* b, float* y, int64_t n, float eps) {
  double mean = 0;
  for (int64_t i = 0; i < n; ++i) mean += x[i];
  mean /= static_cast<double>(n);
  double var = 0;
  for (int64_t i = 0; i < n; ++i) var += (x[i] - mean) * (x[i] - mean);
  var /= static_cast<double>(n);
  const double inv = 1.0 / std::sqrt(var + eps);
  for (int64_t i = 0; i < n; ++i) {
    float v = static_cast<float>((x[i] - mean) * inv);
    y[i] = v * (w ? w[i] : 1.0f) + (b ? b[i] : 0.0f);
  }
}

void swiglu(const float* g, const float* u, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
}

void gelu_tanh(float* x, int64_t n) {
  constexpr float kSqrt2OverPi = 0.79788456080286535588f;
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    x[i] = 0.5f * v * (1.0f + std::tanh(kSqrt2OverPi * v * (1.0f + 0.044715f * v * v)));
  }
}

void gelu_erf(float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = 0.5f * x[i] * (1.0f + std::erf(x[i] * 0.70710678118654752440f));
}

void softmax(float* x, int64_t n) {
  float mx = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < n; ++i) mx = std::max(mx, x[i]);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = (x[i] == -std::numeric_limits<float>::infinity()) ? 0.0f : std::exp(x[i] - mx);
    sum += x[i];
  }
  const float inv = sum > 0 ? static_cast<float>(1.0 / sum) : 0.0f;
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void add(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

float dot_f16(const uint16_t* k, const float* q, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += static_cast<double>(fp16_to_f32(k[i])) * q[i];
  return static_cast<float>(s);
}

float dot_f32(const float* a, const float* b, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += static_cast<double>(a[i]) * b[i];
  return static_cast<float>(s);
}

void axpy_f16(float a, const uint16_t* v, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * fp16_to_f32(v[i]);
}

void axpy_f32(float a, const float* v, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * v[i];
}

void to_f16(const float* src, uint16_t* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = f32_to_fp16(src[i]);
}

}  // namespace

const OpsTable kOps = {rmsnorm, layernorm, swiglu, gelu_tanh, gelu_erf, softmax, add,
                       dot_f16, dot_f32,   axpy_f16, axpy_f32, to_f16};
}  // namespace ref

const OpsTable& ops() { return active_kernels().ops; }

void rope_adjacent(float* x, int n_heads, int head_dim, int rot_dims, const float* cos_sin) {
  for (int h = 0; h < n_heads; ++h) {
    float* v = x + static_cast<int64_t>(h) * head_dim;
    for (int i = 0; i < rot_dims / 2; ++i) {
      const float c = cos_sin[2 * i], s = cos_sin[2 * i + 1];
      const float a = v[2 * i], b = v[2 * i + 1];
      v[2 * i] = a * c - b * s;
      v[2 * i + 1] = a * s + b * c;
    }
  }
}

}  // namespace pocket::kernels
