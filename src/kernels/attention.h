// Causal multi-head attention of a batch of query tokens against an f16 KV cache, with
// grouped-query heads (query head h reads KV head h / (n_heads / n_kv_heads), as HF repeat_kv).
#pragma once

#include <cstdint>

#include "core/aligned.h"
#include "core/thread_pool.h"

namespace pocket::kernels {

struct AttentionArgs {
  const float* q = nullptr;      // [n_tokens, n_heads, head_dim]
  float* out = nullptr;          // [n_tokens, n_heads, head_dim]
  int64_t n_tokens = 0;
  int n_heads = 0;
  int n_kv_heads = 0;
  int head_dim = 0;
  const uint16_t* k = nullptr;   // f16, element (kv_head h, cell c, dim d) at h*kv_head_stride + c*head_dim + d
  const uint16_t* v = nullptr;   // same layout as k
  int64_t kv_head_stride = 0;    // elements between KV heads (n_ctx * head_dim)
  const int32_t* n_keys = nullptr;  // [n_tokens]: token t attends to cells [0, n_keys[t])
  float scale = 1.0f;            // applied to q·k (1/sqrt(head_dim))
};

// scratch grows to n_threads * (max n_keys + head_dim) floats on first use.
void attention(const AttentionArgs& a, AlignedBuffer<float>& scratch, ThreadPool& pool);

}  // namespace pocket::kernels
