// Bidirectional (non-causal) multi-head self-attention over f32 Q/K/V: every token attends to
// every token, as in the vision towers (SigLIP, Pixtral), where a whole image is one batch
// of up to ~12k patches. out = softmax(scale * Q K^T) V per head.
//
// The SIMD version works on blocks of queries per head so that its scratch is
// O(threads * block * n_tokens) rather than O(n_tokens^2), and packs K (16-key tiles) and V
// (16-dim chunks) once per call so the register-blocked micro-kernels stream them sequentially. The scalar reference is the plain
// triple loop with double accumulation (the oracle).
#pragma once

#include <cstdint>

#include "core/aligned.h"
#include "core/thread_pool.h"

namespace pocket::kernels {

struct FullAttentionArgs {
  const float* q = nullptr;  // token t, head h at q + t*q_stride + h*head_dim
  const float* k = nullptr;  // same layout with k_stride
  const float* v = nullptr;  // same layout with v_stride
  float* out = nullptr;      // same layout with out_stride; must not alias q/k/v
  int64_t n_tokens = 0;
  int n_heads = 0;
  int head_dim = 0;
  int64_t q_stride = 0, k_stride = 0, v_stride = 0, out_stride = 0;  // floats between tokens
  float scale = 1.0f;        // applied to q·k (1/sqrt(head_dim))
};

// Active dispatch (reference when use_reference_kernels(true) or the CPU lacks AVX2/FMA).
// scratch grows on first use and is reused.
void attention_full(const FullAttentionArgs& a, AlignedBuffer<float>& scratch, ThreadPool& pool);
// Explicit versions, for tests.
void attention_full_ref(const FullAttentionArgs& a, AlignedBuffer<float>& scratch, ThreadPool& pool);
void attention_full_simd(const FullAttentionArgs& a, AlignedBuffer<float>& scratch, ThreadPool& pool);

namespace avx2 {
// The micro-kernel of the blocked SIMD path (x86/attention_full_avx2.cpp), used for both products:
// c[r*ldc + 16t + i] = sum_{x<k} a[r*lda + x] * b[t*tile_stride + 16x + i] for r < n_rows (<= 6),
// t < n_tiles, i < 16, where each tile of b is [k][16] floats, 64-byte aligned.
//  - scores:  a = scaled Q rows, k = head_dim, tiles = K packed 16 keys at a time;
//  - outputs: a = probability rows, k = n_tokens, tiles = V packed 16 dims at a time.
void attn_tile_gemm(const float* a, int64_t lda, int n_rows, int64_t k, const float* b, int64_t n_tiles,
                    int64_t tile_stride, float* c, int64_t ldc);
}  // namespace avx2

}  // namespace pocket::kernels
