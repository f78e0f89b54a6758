// Scalar reference dot products for the plain and 32-element block formats: the oracle the
// SIMD kernels are tested against. The quantized ones follow ggml's generic kernels
// operation for operation (ref: llama.cpp ggml/src/ggml-cpu/quants.c,
// ggml_vec_dot_q4_0_q8_0_generic etc.): an exact integer dot per block, then
// sumf += sumi * d_w * d_x (+ m_w * s_x for the _1 formats) in float, block after block.
#include <cstring>

#include "core/fp16.h"
#include "kernels/ref/dot_ref.h"
#include "quant/blocks.h"

// The reference must give the same bits whatever the compiler: keep a * b + c as two
// roundings (clang would otherwise fuse it into an FMA when the target has one; GCC does
// not contract under -std=c++20).
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

namespace pocket::kernels::ref {

namespace {

inline uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

}  // namespace

// Float products summed in double, as ggml_vec_dot_f32/_f16/_bf16 do with ggml_float, so
// the oracle's own summation error is negligible next to any float-accumulating kernel.
float vec_dot_f32_f32(int64_t n, const void* w, const void* x) {
  const auto* a = static_cast<const float*>(w);
  const auto* b = static_cast<const float*>(x);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(a[i] * b[i]);
  return static_cast<float>(sum);
}

float vec_dot_f16_f32(int64_t n, const void* w, const void* x) {
  const auto* a = static_cast<const uint16_t*>(w);
  const auto* b = static_cast<const float*>(x);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(fp16_to_f32(a[i]) * b[i]);
  return static_cast<float>(sum);
}

float vec_dot_bf16_f32(int64_t n, const void* w, const void* x) {
  const auto* a = static_cast<const uint16_t*>(w);
  const auto* b = static_cast<const float*>(x);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(bf16_to_f32(a[i]) * b[i]);
  return static_cast<float>(sum);
}

float vec_dot_q8_0_q8_0(int64_t n, const void* w, const void* x) {
  const auto* bw = static_cast<const BlockQ8_0*>(w);
  const auto* bx = static_cast<const BlockQ8_0*>(x);
  float sumf = 0.0f;
  for (int64_t i = 0; i < n / QK8_0; ++i) {
    int sumi = 0;
    for (int j = 0; j < QK8_0; ++j) sumi += bw[i].qs[j] * bx[i].qs[j];
    sumf += static_cast<float>(sumi) * (fp16_to_f32(bw[i].d) * fp16_to_f32(bx[i].d));
  }
  return sumf;
}

float vec_dot_q4_0_q8_0(int64_t n, const void* w, const void* x) {
  const auto* bw = static_cast<const BlockQ4_0*>(w);
  const auto* bx = static_cast<const BlockQ8_0*>(x);
  float sumf = 0.0f;
  for (int64_t i = 0; i < n / QK8_0; ++i) {
    int sumi = 0;
    for (int j = 0; j < QK4_0 / 2; ++j) {
      sumi += ((bw[i].qs[j] & 0x0F) - 8) * bx[i].qs[j];
      sumi += ((bw[i].qs[j] >> 4) - 8) * bx[i].qs[j + QK4_0 / 2];
    }
    sumf += static_cast<float>(sumi) * fp16_to_f32(bw[i].d) * fp16_to_f32(bx[i].d);
  }
  return sumf;
}

// With w = q * d_w + m_w and x = q8 * d_x: sum(w x) = d_w d_x sum(q q8) + m_w (d_x sum(q8)),
// and the last factor is the precomputed s of the Q8_1 block.
float vec_dot_q4_1_q8_1(int64_t n, const void* w, const void* x) {
  const auto* bw = static_cast<const BlockQ4_1*>(w);
  const auto* bx = static_cast<const BlockQ8_1*>(x);
  float sumf = 0.0f;
  for (int64_t i = 0; i < n / QK8_1; ++i) {
    int sumi = 0;
    for (int j = 0; j < QK4_1 / 2; ++j) {
      sumi += (bw[i].qs[j] & 0x0F) * bx[i].qs[j];
      sumi += (bw[i].qs[j] >> 4) * bx[i].qs[j + QK4_1 / 2];
    }
    sumf += (fp16_to_f32(bw[i].d) * fp16_to_f32(bx[i].d)) * static_cast<float>(sumi) +
            fp16_to_f32(bw[i].m) * fp16_to_f32(bx[i].s);
  }
  return sumf;
}

float vec_dot_q5_0_q8_0(int64_t n, const void* w, const void* x) {
  const auto* bw = static_cast<const BlockQ5_0*>(w);
  const auto* bx = static_cast<const BlockQ8_0*>(x);
  float sumf = 0.0f;
  for (int64_t i = 0; i < n / QK8_0; ++i) {
    const uint32_t qh = load_u32(bw[i].qh);
    int sumi = 0;
    for (int j = 0; j < QK5_0 / 2; ++j) {
      const int h0 = static_cast<int>((qh >> j) & 1u) << 4;
      const int h1 = static_cast<int>((qh >> (j + 16)) & 1u) << 4;
      sumi += (((bw[i].qs[j] & 0x0F) | h0) - 16) * bx[i].qs[j];
      sumi += (((bw[i].qs[j] >> 4) | h1) - 16) * bx[i].qs[j + QK5_0 / 2];
    }
    sumf += (fp16_to_f32(bw[i].d) * fp16_to_f32(bx[i].d)) * static_cast<float>(sumi);
  }
  return sumf;
}

float vec_dot_q5_1_q8_1(int64_t n, const void* w, const void* x) {
  const auto* bw = static_cast<const BlockQ5_1*>(w);
  const auto* bx = static_cast<const BlockQ8_1*>(x);
  float sumf = 0.0f;
  for (int64_t i = 0; i < n / QK8_1; ++i) {
    const uint32_t qh = load_u32(bw[i].qh);
    int sumi = 0;
    for (int j = 0; j < QK5_1 / 2; ++j) {
      const int h0 = static_cast<int>((qh >> j) & 1u) << 4;
      const int h1 = static_cast<int>((qh >> (j + 16)) & 1u) << 4;
      sumi += ((bw[i].qs[j] & 0x0F) | h0) * bx[i].qs[j];
      sumi += ((bw[i].qs[j] >> 4) | h1) * bx[i].qs[j + QK5_1 / 2];
    }
    sumf += (fp16_to_f32(bw[i].d) * fp16_to_f32(bx[i].d)) * static_cast<float>(sumi) +
            fp16_to_f32(bw[i].m) * fp16_to_f32(bx[i].s);
  }
  return sumf;
}

}  // namespace pocket::kernels::ref
