// Bidirectional (non-causal) multi-head self-attention over f32 Q/K/V: every token attends to
// every token, as in the vision towers (SigLIP, Pixtral), where a whole image is one batch
// of up to ~12k patches. out = softmax(scale * Q K^T) V per head.
//
// The SIMD version works on blocks of queries per head so that its scratch is
// O(threads * block * n_tokens) rather than O(n_tokens^2), and packs K (16-key tiles) and V
// (16-dim chunks) once per call so the register-blocked micro-kernels stream them sequentially. The scalar reference is the plain
// triple loop with double accumulation (the oracle). Where the table has BF16 products and
// kernels::vision_bf16_allowed(), Q, K, the probabilities and V are rounded to BF16 (scores,
// softmax and outputs float): twice the multiply-add rate, within the towers' NMSE budget.
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
  bool bf16 = true;          // BF16 products allowed (a tower whose weights are not F32)
};

struct KernelTable;

// With the active level's micro-kernel (KernelTable::attn_tile_gemm), or the reference where
// the level has none. scratch grows on first use and is reused.
void attention_full(const FullAttentionArgs& a, AlignedBuffer<float>& scratch, ThreadPool& pool);
// With a given level's table (tests compare levels).
void attention_full(const KernelTable& table, const FullAttentionArgs& a, AlignedBuffer<float>& scratch,
                    ThreadPool& pool);


}  // namespace pocket::kernels
