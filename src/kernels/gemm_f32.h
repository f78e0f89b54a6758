// Cache-blocked float GEMM for large batches of tokens (vision towers: ~700-4000 patches per
// image): y[t, o] = sum_i W[o, i] * x[t, i] (+ bias[o]) with float activations and float
// accumulation, for a weight matrix in any supported type.
//
// Unlike kernels/matmul.h (which converts activations to the weight type's dot format, e.g.
// Q8_0, and runs 2x4 dot-product tiles), the weights are dequantized to float in small panels
// of 16 output rows x 256 inputs, laid out [input][16 outputs] so a 6x16 broadcast micro-kernel
// (12 accumulators, every loaded weight vector used by 6 tokens) runs at close to the FMA
// peak (~90% measured on Zen 4 at the towers' shapes, vs ~55% for matmul's F16 tiles); each
// weight element is converted once per product. Results equal an exact float product up to
// float rounding (no activation quantization).
//
// Q8_0 weights on a CPU with AVX512-VNNI take an integer path instead (2-3x faster): activations
// are quantized to Q8_0 per 32 inputs, exactly as kernels::matmul and llama.cpp do, and each
// block's int8 dot product is scaled by both block scales (x86/gemm_q8_vnni.cpp).
//
// Under use_reference_kernels(true) or on a CPU without AVX2/FMA/F16C this is kernels::matmul
// (the reference path) followed by the bias.
#pragma once

#include <cstdint>

#include "core/aligned.h"
#include "core/thread_pool.h"
#include "kernels/matmul.h"

namespace pocket::kernels {

// Per-thread packed weight panels and converted activations; grows on first use, then reused.
struct GemmF32Scratch {
  AlignedBuffer<float> panels;
  AlignedBuffer<uint8_t> q8;        // Q8_0 path: offset activations, panels
  AlignedBuffer<float> q8_scales;   // Q8_0 path: activation block scales
  MatmulScratch fallback;           // for the reference path
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
// Whether Q8_0 weights take the integer path (VNNI CPU, SIMD dispatch, not disabled below).
bool gemm_f32_q8_is_int8();
// Disables the integer Q8_0 path (tests and benchmarks compare it with the float one).
void gemm_f32_disable_int8(bool on);

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

namespace vnni {
// Q8_0 weight panel: 32 outputs; per 32-input block, 1280 bytes: the weights as
// [8 groups of 4 inputs][32 outputs][4 bytes], then 32 float scales, then 32 int32 -128*sum(w).
constexpr int kQ8PanelWidth = 32;
constexpr int64_t kQ8PanelBlockBytes = 1280;
// Packs blocks [block0, block0 + n_blocks) of rows row0 + o*stride (o < n_rows <= 32; the rest
// zero) into consecutive panel blocks. panel is 64-byte aligned.
void q8_pack(const uint8_t* row0, size_t stride, int n_rows, int64_t block0, int64_t n_blocks, uint8_t* panel);
// Splits a row of n/32 BlockQ8_0 into offset bytes qa[i] = q[i] + 128 and float scales da[b].
void q8_split_act(const void* blocks, int64_t n, uint8_t* qa, float* da);
// c[r*ldc + j] (= or +=) sum over n_blocks blocks b of da[r*ldd + b] * dw[b][j] * sum_i
// (qa[r*lda + 32b + i] - 128) * w[b][j][i], for r < n_rows (1..4), j < 32.
void q8_tile(int n_rows, int64_t n_blocks, const uint8_t* qa, int64_t lda, const float* da, int64_t ldd,
             const uint8_t* panel, float* c, int64_t ldc, bool accumulate);
}  // namespace vnni

}  // namespace pocket::kernels
