// Cache-blocked float GEMM for large batches of tokens (vision towers: ~700-4000 patches per
// image): y[t, o] = sum_i W[o, i] * x[t, i] (+ bias[o]) with float activations and float
// accumulation, for a weight matrix in any supported type.
//
// Unlike kernels/matmul.h (which converts activations to the weight type's dot format, e.g.
// Q8_0, and runs 2x4 dot-product tiles), the weights are dequantized to float in small panels
// of 16 output rows x 256 inputs, laid out [input][16 outputs] so a 6x16 broadcast micro-kernel
// (12 accumulators, every loaded weight vector used by 6 tokens) runs at close to the FMA
// peak; a panel is converted once per block of 192 tokens, so the conversion costs ~1% of the
// product. Results equal an exact float product up to float rounding (no activation
// quantization), so for quantized weights they are closer to the real model than llama.cpp's.
//
// Under use_reference_kernels(true) or on a CPU without AVX2/FMA/F16C this is kernels::matmul
// (the reference path) followed by the bias.
#pragma once

#include <cstdint>

#include "core/aligned.h"
#include "core/thread_pool.h"
#include "kernels/matmul.h"

namespace pocket::kernels {

// Per-thread packed weight panels; grows on first use, then reused.
struct GemmF32Scratch {
  AlignedBuffer<float> panels;
  MatmulScratch fallback;  // for the reference path
};

// x: [n_tokens, w.n_in] with row stride x_stride floats; y: [n_tokens, w.n_out] with row stride
// y_stride; bias: [w.n_out] or null. y must not alias x.
void gemm_f32(const WeightRef& w, const float* x, int64_t x_stride, int64_t n_tokens, float* y, int64_t y_stride,
              const float* bias, GemmF32Scratch& scratch, ThreadPool& pool);

inline void gemm_f32(const WeightRef& w, const float* x, int64_t n_tokens, float* y, const float* bias,
                     GemmF32Scratch& scratch, ThreadPool& pool) {
  gemm_f32(w, x, w.n_in, n_tokens, y, w.n_out, bias, scratch, pool);
}

// Whether gemm_f32 runs its blocked SIMD path under the current dispatch.
bool gemm_f32_is_simd();

namespace avx2 {
// Micro-kernel: c[r*ldc + j] (= or +=) sum_{k<kc} a[r*lda + k] * b[16k + j] for r < n_rows (1..6),
// j < 16. b is a packed panel, 32-byte aligned.
void gemm_f32_tile(int n_rows, int64_t kc, const float* a, int64_t lda, const float* b, float* c, int64_t ldc,
                   bool accumulate);
// Packs weight rows row0 + j*stride (j < n_rows <= 16), elements [k0, k0 + kc), into the panel
// b[16k + j] as float; rows n_rows..15 are zero. k0 is a multiple of the type's block size.
// Returns false when the type has no fast packer here.
bool gemm_f32_pack(DType type, const uint8_t* row0, size_t stride, int n_rows, int64_t k0, int64_t kc, float* b);
}  // namespace avx2

}  // namespace pocket::kernels
