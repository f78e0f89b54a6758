// Attention over the KV cache: per (token, head) work item, scores -> softmax -> weighted V sum.
// Work items are spread over threads; each thread owns a slice of the scratch buffer.
#include "kernels/attention.h"

#include <algorithm>
#include <cstring>

#include "kernels/ops.h"

namespace pocket::kernels {

void attention(const AttentionArgs& a, AlignedBuffer<float>& scratch, ThreadPool& pool) {
  const OpsTable& op = ops();
  int64_t max_keys = 0;
  for (int64_t t = 0; t < a.n_tokens; ++t) max_keys = std::max<int64_t>(max_keys, a.n_keys[t]);
  const int64_t per_thread = ((max_keys + a.head_dim + 15) / 16) * 16;
  const size_t need = static_cast<size_t>(per_thread) * static_cast<size_t>(pool.size());
  if (scratch.size() < need) scratch.resize(need);
  const int group = a.n_heads / a.n_kv_heads;
  const int64_t n_items = a.n_tokens * a.n_heads;
  const int64_t q_stride = static_cast<int64_t>(a.n_heads) * a.head_dim;

  pool.parallel_for(n_items, [&](int64_t b, int64_t e, int ith) {
    float* scores = scratch.data() + per_thread * ith;
    for (int64_t it = b; it < e; ++it) {
      const int64_t t = it / a.n_heads;
      const int h = static_cast<int>(it % a.n_heads);
      const int kvh = h / group;
      const float* q = a.q + t * q_stride + static_cast<int64_t>(h) * a.head_dim;
      float* out = a.out + t * q_stride + static_cast<int64_t>(h) * a.head_dim;
      const uint16_t* kh = a.k + kvh * a.kv_head_stride;
      const uint16_t* vh = a.v + kvh * a.kv_head_stride;
      const int64_t nk = a.n_keys[t];
      for (int64_t c = 0; c < nk; ++c) scores[c] = op.dot_f16(kh + c * a.head_dim, q, a.head_dim) * a.scale;
      op.softmax(scores, nk);
      std::memset(out, 0, sizeof(float) * a.head_dim);
      for (int64_t c = 0; c < nk; ++c) op.axpy_f16(scores[c], vh + c * a.head_dim, out, a.head_dim);
    }
  });
}

}  // namespace pocket::kernels
