// AVX2 + FMA + F16C dot products and activation quantizers. Same contracts as ref/dot_ref.h;
// compiled with -mavx2 -mfma -mf16c and only called when the CPU has those features.
#pragma once

#include <cstdint>

#include "kernels/ops.h"

namespace pocket::kernels::avx2 {

float vec_dot_f32_f32(int64_t n, const void* w, const void* x);
float vec_dot_f16_f32(int64_t n, const void* w, const void* x);
float vec_dot_bf16_f32(int64_t n, const void* w, const void* x);
float vec_dot_q8_0_q8_0(int64_t n, const void* w, const void* x);
float vec_dot_q4_0_q8_0(int64_t n, const void* w, const void* x);
float vec_dot_q4_1_q8_1(int64_t n, const void* w, const void* x);
float vec_dot_q5_0_q8_0(int64_t n, const void* w, const void* x);
float vec_dot_q5_1_q8_1(int64_t n, const void* w, const void* x);
void quantize_row_q8_0(const float* src, void* dst, int64_t n);
void quantize_row_q8_1(const float* src, void* dst, int64_t n);

float vec_dot_q2_k_q8_k(int64_t n, const void* w, const void* x);
float vec_dot_q3_k_q8_k(int64_t n, const void* w, const void* x);
float vec_dot_q4_k_q8_k(int64_t n, const void* w, const void* x);
float vec_dot_q5_k_q8_k(int64_t n, const void* w, const void* x);
float vec_dot_q6_k_q8_k(int64_t n, const void* w, const void* x);
void quantize_row_q8_k(const float* src, void* dst, int64_t n);

// The float ops (x86/ops_avx2.cpp).
extern const OpsTable kOps;

}  // namespace pocket::kernels::avx2
