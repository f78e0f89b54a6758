// Bidirectional (non-causal) multi-head self-attention over f32 Q/K/V: every token attends to
// every token, as in the vision towers (SigLIP, Pixtral), where a whole image is one batch
// of up to ~12k patches. out = softmax(scale * Q K^T) V per head.
//
// The SIMD version works on blocks of queries per head so that its scratch is
// O(threads * block * n_tokens) rather than O(n_tokens^2), and packs K into 16-key tiles so a
// register-blocked micro-kernel streams them sequentially. The scalar reference is the plain
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
// Micro-kernels of the blocked SIMD path (x86/attention_full_avx2.cpp).
// s[r*lds + j] = sum_d q[r*head_dim + d] * K[j][d] for r < n_rows (<= 4), j < n_tiles*16, where
// kpack holds n_tiles tiles of [head_dim][16] floats (key j of tile t at column j - 16t).
void attn_qk_rows(const float* q, int n_rows, int head_dim, const float* kpack, int64_t n_tiles, float* s,
                  int64_t lds);
// out[r*out_stride + d] = sum_j p[r*ldp + j] * v[j*v_stride + d] for r < n_rows (<= 4), j < n_keys.
void attn_pv_rows(const float* p, int64_t ldp, int n_rows, const float* v, int64_t v_stride, int64_t n_keys,
                  int head_dim, float* out, int64_t out_stride);
}  // namespace avx2

}  // namespace pocket::kernels
