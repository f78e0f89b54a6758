// 2x4 matrix-product tiles using AVX512-VNNI on 256-bit vectors (vpdpbusd, needs
// AVX512_VNNI + AVX512VL): same contract as kernels/x86/gemm_avx2.h, selected at start-up
// when the CPU has them.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pocket::kernels::vnni {

void gemm_q8_0_q8_0_2x4(int64_t n, const uint8_t* w, size_t w_stride, const uint8_t* a, size_t a_stride, float* y,
                        int64_t y_stride);
void gemm_q4_0_q8_0_2x4(int64_t n, const uint8_t* w, size_t w_stride, const uint8_t* a, size_t a_stride, float* y,
                        int64_t y_stride);

}  // namespace pocket::kernels::vnni
