// Attention over the KV cache: per (token, head) work item, scores -> softmax -> weighted V sum.
// Work items are spread over threads; each thread owns a slice of the scratch buffer.
#include "kernels/attention.h"

#include <algorithm>
#include <cstring>

#include "kernels/dispatch.h"

namespace pocket::kernels {

namespace {

// Queries handled together in prefill: one KV head's group of query heads over kTokBlock
// consecutive tokens. Each K and V row is converted from f16 once and used by all of them.
constexpr int kTokBlock = 4;

// One prefill work item: kTokBlock consecutive tokens x the query heads sharing KV head kvh,
// with their output rows and key counts (causal: each token sees its own number of keys).
struct BlockQueries {
  const uint16_t* kh;  // [n_keys, head_dim] f16 keys of this KV head
  const uint16_t* vh;  // [n_keys, head_dim] f16 values
  const float* qs[kTokBlock * 64];
  float* outs[kTokBlock * 64];
  int64_t nks[kTokBlock * 64];
  int nq = 0;
  int64_t nk_max = 0;

  BlockQueries(const AttentionArgs& a, int64_t item, int group) {
    const int64_t t0 = item / a.n_kv_heads * kTokBlock;
    const int kvh = static_cast<int>(item % a.n_kv_heads);
    const int nt = static_cast<int>(std::min<int64_t>(kTokBlock, a.n_tokens - t0));
    kh = a.k + kvh * a.kv_head_stride;
    vh = a.v + kvh * a.kv_head_stride;
    const int64_t q_stride = static_cast<int64_t>(a.n_heads) * a.head_dim;
    for (int i = 0; i < nt; ++i)
      for (int g = 0; g < group; ++g) {
        const int64_t off = (t0 + i) * q_stride + static_cast<int64_t>(kvh * group + g) * a.head_dim;
        qs[nq] = a.q + off;
        outs[nq] = a.out + off;
        nks[nq] = a.n_keys[t0 + i];
        nk_max = std::max(nk_max, nks[nq]);
        ++nq;
      }
  }

  // scores [nq, score_stride] -> probabilities, and the outputs zeroed for the value sums.
  void softmax_and_clear(const OpsTable& op, float* scores, int64_t score_stride, int head_dim) const {
    for (int j = 0; j < nq; ++j) {
      op.softmax(scores + j * score_stride, nks[j]);
      std::memset(outs[j], 0, sizeof(float) * head_dim);
    }
  }
};

// Prefill work items (token blocks x KV heads) and the per-query score row length.
int64_t n_block_items(const AttentionArgs& a) { return (a.n_tokens + kTokBlock - 1) / kTokBlock * a.n_kv_heads; }
int64_t score_stride_for(const AttentionArgs& a) {
  int64_t max_keys = 0;
  for (int64_t t = 0; t < a.n_tokens; ++t) max_keys = std::max<int64_t>(max_keys, a.n_keys[t]);
  return ((max_keys + 15) / 16) * 16;
}

void attention_rows(const AttentionArgs& a, AlignedBuffer<float>& scratch, ThreadPool& pool) {
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

void attention_blocked(const AttentionArgs& a, AlignedBuffer<float>& scratch, ThreadPool& pool) {
  const OpsTable& op = ops();
  const int group = a.n_heads / a.n_kv_heads;
  const int n_q = group * kTokBlock;  // queries per work item
  const int64_t score_stride = score_stride_for(a);
  const int64_t per_thread = score_stride * n_q + ((a.head_dim + 15) / 16) * 16;
  const size_t need = static_cast<size_t>(per_thread) * static_cast<size_t>(pool.size());
  if (scratch.size() < need) scratch.resize(need);
  const int64_t n_items = n_block_items(a);

  pool.parallel_for(n_items, [&](int64_t b, int64_t e, int ith) {
    float* scores = scratch.data() + per_thread * ith;  // [n_q, score_stride]
    float* row = scores + score_stride * n_q;            // [head_dim] converted K or V row
    for (int64_t it = b; it < e; ++it) {
      const BlockQueries bq(a, it, group);
      for (int64_t c = 0; c < bq.nk_max; ++c) {
        for (int d = 0; d < a.head_dim; ++d) row[d] = 0;
        op.axpy_f16(1.0f, bq.kh + c * a.head_dim, row, a.head_dim);  // f16 -> f32 once per key
        for (int j = 0; j < bq.nq; ++j)
          if (c < bq.nks[j]) scores[j * score_stride + c] = op.dot_f32(row, bq.qs[j], a.head_dim) * a.scale;
      }
      bq.softmax_and_clear(op, scores, score_stride, a.head_dim);
      for (int64_t c = 0; c < bq.nk_max; ++c) {
        for (int d = 0; d < a.head_dim; ++d) row[d] = 0;
        op.axpy_f16(1.0f, bq.vh + c * a.head_dim, row, a.head_dim);
        for (int j = 0; j < bq.nq; ++j)
          if (c < bq.nks[j]) op.axpy_f32(scores[j * score_stride + c], row, bq.outs[j], a.head_dim);
      }
    }
  });
}

// Keys converted from f16 per step of the tiled path: 32 rows of up to 128 floats stay in L1.
constexpr int64_t kKeyBlock = 32;

// attention_blocked with the AVX2 tiles (x86/attention_tile_avx2.h): keys and values are
// converted once per block of kKeyBlock rows, scores and value sums run without a call per
// (query, key), and each output keeps its 64-float strip in registers over a key block.
// Items are dealt round-robin: causal items late in the batch have more keys, and contiguous
// ranges left one thread with ~3/4 of the work at 2 threads.
void attention_tiled(const AttentionArgs& a, AlignedBuffer<float>& scratch, ThreadPool& pool) {
  const KernelTable& kt = active_kernels();
  const OpsTable& op = kt.ops;
  const int group = a.n_heads / a.n_kv_heads;
  const int n_q = group * kTokBlock;
  const int64_t score_stride = score_stride_for(a);
  const int64_t per_thread = score_stride * n_q + kKeyBlock * a.head_dim;
  const size_t need = static_cast<size_t>(per_thread) * static_cast<size_t>(pool.size());
  if (scratch.size() < need) scratch.resize(need);
  const int64_t n_items = n_block_items(a);

  pool.run([&](int ith, int nth) {
    float* scores = scratch.data() + per_thread * ith;  // [n_q, score_stride]
    float* buf = scores + score_stride * n_q;            // [kKeyBlock, head_dim] converted K or V rows
    for (int64_t it = ith; it < n_items; it += nth) {
      const BlockQueries bq(a, it, group);
      for (int64_t c0 = 0; c0 < bq.nk_max; c0 += kKeyBlock) {
        const int64_t nc = std::min<int64_t>(kKeyBlock, bq.nk_max - c0);
        kt.f16_to_f32(bq.kh + c0 * a.head_dim, buf, nc * a.head_dim);
        kt.attn_scores(buf, c0, nc, a.head_dim, bq.qs, bq.nks, bq.nq, a.scale, scores, score_stride);
      }
      bq.softmax_and_clear(op, scores, score_stride, a.head_dim);
      for (int64_t c0 = 0; c0 < bq.nk_max; c0 += kKeyBlock) {
        const int64_t nc = std::min<int64_t>(kKeyBlock, bq.nk_max - c0);
        kt.f16_to_f32(bq.vh + c0 * a.head_dim, buf, nc * a.head_dim);
        kt.attn_values(buf, c0, nc, a.head_dim, scores, score_stride, bq.nks, bq.nq, bq.outs);
      }
    }
  });
}

}  // namespace

void attention(const AttentionArgs& a, AlignedBuffer<float>& scratch, ThreadPool& pool) {
  // Decode (and tiny batches) spread single heads over threads; prefill shares K/V rows.
  if (a.n_tokens < kTokBlock || a.n_heads / a.n_kv_heads > 64) {
    attention_rows(a, scratch, pool);
  } else if (active_kernels().attn_scores && a.head_dim % 64 == 0) {  // the level has prefill tiles
    attention_tiled(a, scratch, pool);
  } else {
    attention_blocked(a, scratch, pool);
  }
}

}  // namespace pocket::kernels
