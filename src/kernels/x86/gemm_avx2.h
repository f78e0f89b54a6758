// Register-tiled matrix-product micro-kernels (AVX2): 2 weight rows x 4 activation rows per
// call. Each weight block is loaded and unpacked once and used for 4 tokens, each activation
// block once for 2 rows — the prefill path, where the plain row dot products are bound by
// unpacking and loads rather than by arithmetic.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pocket::kernels::avx2 {

// y[t * y_stride + r] = dot(weight row r, activation row t), r < 2, t < 4; n elements per row.
// w: weight rows (stride w_stride bytes); a: Q8_0 activation rows (stride a_stride bytes).
void gemm_q8_0_q8_0_2x4(int64_t n, const uint8_t* w, size_t w_stride, const uint8_t* a, size_t a_stride, float* y,
                        int64_t y_stride);
void gemm_q4_0_q8_0_2x4(int64_t n, const uint8_t* w, size_t w_stride, const uint8_t* a, size_t a_stride, float* y,
                        int64_t y_stride);

// Float weights against F32 activations (a_stride in bytes; any n).
void gemm_f32_f32_2x4(int64_t n, const uint8_t* w, size_t w_stride, const uint8_t* a, size_t a_stride, float* y,
                      int64_t y_stride);
void gemm_f16_f32_2x4(int64_t n, const uint8_t* w, size_t w_stride, const uint8_t* a, size_t a_stride, float* y,
                      int64_t y_stride);
void gemm_bf16_f32_2x4(int64_t n, const uint8_t* w, size_t w_stride, const uint8_t* a, size_t a_stride, float* y,
                       int64_t y_stride);

// Repacked Q8_0 groups (kernels/repack.h), 8 rows x n_tok <= 4 tokens (gemm_packed_q8_avx2.cpp);
// the PackedTileFn contract, block sums unused.
void packed_q8_0_8xT(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_stride, const int32_t* asum,
                     int n_tok, float* y, int64_t y_stride);

// K-quant weights against Q8_K activations (defined in dot_kquants_avx2.cpp, beside the
// helpers they share with the row kernels).
void gemm_q4_k_q8_k_2x4(int64_t n, const uint8_t* w, size_t w_stride, const uint8_t* a, size_t a_stride, float* y,
                        int64_t y_stride);
void gemm_q6_k_q8_k_2x4(int64_t n, const uint8_t* w, size_t w_stride, const uint8_t* a, size_t a_stride, float* y,
                        int64_t y_stride);

}  // namespace pocket::kernels::avx2
