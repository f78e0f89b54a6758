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
// Q8_0 weights on a level with the int8 entries (AVX512-VNNI) take an integer path instead
// (2-3x faster): activations
// are quantized to Q8_0 per 32 inputs, exactly as kernels::matmul and llama.cpp do, and each
// block's int8 dot product is scaled by both block scales (x86/gemm_q8_vnni.cpp).
//
// F16 / BF16 weights on a CPU with BF16 dot products (AVX512-BF16) take a BF16 path (about 2x
// the float one): weights and activations are rounded to BF16 (round to nearest even), the
// products summed in float. Relative error per product ~2^-9 / sqrt(terms); the towers'
// embeddings stay within the goldens' NMSE 1e-3 (x86/gemm_bf16_avx512.cpp).
//
// A kernel level without the blocked entries (KernelTable::gemm_f32_tile, e.g. ref) runs
// kernels::matmul (the reference path) followed by the bias.
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
  AlignedBuffer<uint16_t> bf16;     // BF16 path: activations, panels
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
// Whether F16 / BF16 weights take the BF16 path (CPU with BF16 dot products, and
// kernels::vision_bf16_allowed()).
bool gemm_f32_has_bf16();

// Layout of the int8 Q8_0 path's weight panels (KernelTable::q8_pack / q8_tile): 32 outputs;
// per 32-input block, 1280 bytes: the weights as [8 groups of 4 inputs][32 outputs][4 bytes]
// (offset by +128), then 32 float scales, then 32 int32 -128*sum(w).
constexpr int kQ8PanelWidth = 32;
constexpr int64_t kQ8PanelBlockBytes = 1280;

}  // namespace pocket::kernels
