// Scalar reference dot products: the oracle every SIMD kernel is tested against.
// w = weight row in the named format, x = activation row in the paired format.
#pragma once

#include <cstdint>

namespace pocket::kernels::ref {

float vec_dot_f32_f32(int64_t n, const void* w, const void* x);
float vec_dot_f16_f32(int64_t n, const void* w, const void* x);
float vec_dot_bf16_f32(int64_t n, const void* w, const void* x);
float vec_dot_q8_0_q8_0(int64_t n, const void* w, const void* x);
float vec_dot_q4_0_q8_0(int64_t n, const void* w, const void* x);
float vec_dot_q4_1_q8_1(int64_t n, const void* w, const void* x);
float vec_dot_q5_0_q8_0(int64_t n, const void* w, const void* x);
float vec_dot_q5_1_q8_1(int64_t n, const void* w, const void* x);

float vec_dot_q2_k_q8_k(int64_t n, const void* w, const void* x);
float vec_dot_q3_k_q8_k(int64_t n, const void* w, const void* x);
float vec_dot_q4_k_q8_k(int64_t n, const void* w, const void* x);
float vec_dot_q5_k_q8_k(int64_t n, const void* w, const void* x);
float vec_dot_q6_k_q8_k(int64_t n, const void* w, const void* x);

}  // namespace pocket::kernels::ref
