// Prefill attention micro-kernels (AVX2): scores and value sums of a group of queries over a
// block of keys already converted to f32. Each (query, key) score and each output element
// runs exactly the op sequence of the AVX2 ops table's dot_f16 / axpy_f16 (two 8-lane FMA
// chains over 16-element steps, the same horizontal sum, then one FMA per key in key
// order), so a token's attention is bit-identical whether it is computed alone (decode,
// attention_rows) or inside a prefill block. Requires head_dim % 64 == 0.
#pragma once

#include <cstdint>

namespace pocket::kernels::avx2 {

// dst[i] = f16 src[i] as f32, n % 8 == 0.
void f16_to_f32(const uint16_t* src, float* dst, int64_t n);

// kbuf: keys [c0, c0 + nc) as f32 rows of head_dim. For each query j (qs[j]) and key c < nks[j]:
// scores[j * stride + c] = dot(k_c, q_j) * scale.
void attn_scores(const float* kbuf, int64_t c0, int64_t nc, int head_dim, const float* const* qs, const int64_t* nks,
                 int nq, float scale, float* scores, int64_t stride);

// vbuf: values [c0, c0 + nc) as f32 rows. For each query j: outs[j] += scores[j * stride + c] * v_c,
// one FMA per element and key, keys in increasing order, for c < nks[j].
void attn_values(const float* vbuf, int64_t c0, int64_t nc, int head_dim, const float* scores, int64_t stride,
                 const int64_t* nks, int nq, float* const* outs);

}  // namespace pocket::kernels::avx2
