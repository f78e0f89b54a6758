// Kernels over repacked Q4_K / Q5_K / Q6_K weights (kernels/repack.h, x86/packed_kquants.inc):
// PackedTileFn entries, 8 rows (one group) or 16 rows (two consecutive groups) x up to 4
// tokens of Q8_K activations; `asum` is unused.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pocket::kernels {

namespace avx2 {  // vpmaddubsw + vpmaddwd
void packed_q4_k_8xT(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_stride, const int32_t* asum,
                     int n_tok, float* y, int64_t y_stride);
void packed_q5_k_8xT(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_stride, const int32_t* asum,
                     int n_tok, float* y, int64_t y_stride);
void packed_q6_k_8xT(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_stride, const int32_t* asum,
                     int n_tok, float* y, int64_t y_stride);
}  // namespace avx2

namespace avxvnni {  // VEX vpdpbusd
void packed_q4_k_8xT(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_stride, const int32_t* asum,
                     int n_tok, float* y, int64_t y_stride);
void packed_q5_k_8xT(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_stride, const int32_t* asum,
                     int n_tok, float* y, int64_t y_stride);
void packed_q6_k_8xT(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_stride, const int32_t* asum,
                     int n_tok, float* y, int64_t y_stride);
}  // namespace avxvnni

namespace vnni {  // vpdpbusd on ymm (8 rows) and zmm (16 rows)
void packed_q4_k_8xT(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_stride, const int32_t* asum,
                     int n_tok, float* y, int64_t y_stride);
void packed_q5_k_8xT(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_stride, const int32_t* asum,
                     int n_tok, float* y, int64_t y_stride);
void packed_q6_k_8xT(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_stride, const int32_t* asum,
                     int n_tok, float* y, int64_t y_stride);
void packed_q4_k_16xT(int64_t nb, const uint8_t* groups, const uint8_t* act, size_t act_stride, const int32_t* asum,
                      int n_tok, float* y, int64_t y_stride);
void packed_q5_k_16xT(int64_t nb, const uint8_t* groups, const uint8_t* act, size_t act_stride, const int32_t* asum,
                      int n_tok, float* y, int64_t y_stride);
void packed_q6_k_16xT(int64_t nb, const uint8_t* groups, const uint8_t* act, size_t act_stride, const int32_t* asum,
                      int n_tok, float* y, int64_t y_stride);
}  // namespace vnni

}  // namespace pocket::kernels
