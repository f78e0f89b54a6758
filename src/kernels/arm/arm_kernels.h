// The AArch64 kernels behind the neon, dotprod and i8mm levels' tables (arm/table_arm.cpp).
// Contracts as kernels/dot.h (products), kernels/ops.h (float ops) and the drivers
// kernels/gemm_f32.h and kernels/attention_full.h (vision micro-kernels).
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/ops.h"

namespace pocket::kernels {

// One set of quantized products per level: dot_quants.inc compiled plainly (neon: widening
// multiplies) and with +dotprod (dotprod: SDOT).
#define POCKET_ARM_QUANT_DOTS                                         \
  float vec_dot_q8_0_q8_0(int64_t n, const void* w, const void* x); \
  float vec_dot_q4_0_q8_0(int64_t n, const void* w, const void* x); \
  float vec_dot_q4_k_q8_k(int64_t n, const void* w, const void* x); \
  float vec_dot_q5_k_q8_k(int64_t n, const void* w, const void* x); \
  float vec_dot_q6_k_q8_k(int64_t n, const void* w, const void* x);

namespace neon {
extern const OpsTable kOps;  // gelu_erf null: the reference's is kept
float vec_dot_f32_f32(int64_t n, const void* w, const void* x);
float vec_dot_f16_f32(int64_t n, const void* w, const void* x);
float vec_dot_bf16_f32(int64_t n, const void* w, const void* x);
POCKET_ARM_QUANT_DOTS
// Vision GEMM micro-kernel (6 x 16 floats, FMLA) and the attention one built on it.
void gemm_f32_tile(int n_rows, int64_t kc, const float* a, int64_t lda, const float* b, float* c, int64_t ldc,
                   bool accumulate);
void attn_tile_gemm(const float* a, int64_t lda, int n_rows, int64_t k, const float* b, int64_t n_tiles,
                    int64_t tile_stride, float* c, int64_t ldc);
}  // namespace neon

namespace dotprod {
POCKET_ARM_QUANT_DOTS
}  // namespace dotprod

namespace i8mm {
// 2 rows x 4 tokens with SMMLA (kernels/dot.h GemmTileFn).
void gemm_q8_0_q8_0_2x4(int64_t n, const uint8_t* w, size_t w_stride, const uint8_t* a, size_t a_stride, float* y,
                        int64_t y_stride);
void gemm_q4_0_q8_0_2x4(int64_t n, const uint8_t* w, size_t w_stride, const uint8_t* a, size_t a_stride, float* y,
                        int64_t y_stride);
}  // namespace i8mm

#undef POCKET_ARM_QUANT_DOTS

}  // namespace pocket::kernels
