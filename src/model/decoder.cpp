// Forward pass of the shared decoder and the tensor-binding helpers.
#include "model/decoder.h"

#include <cmath>
#include <cstring>

#include "core/error.h"
#include "io/gguf.h"
#include "kernels/attention.h"
#include "kernels/ops.h"
#include "kernels/repack.h"

namespace pocket {

void KvCache::allocate(const TextHParams& hp, int64_t ctx) {
  n_ctx = ctx;
  n_kv_heads = hp.n_kv_heads;
  k.resize(hp.n_layers);
  v.resize(hp.n_layers);
  for (int64_t il = 0; il < hp.n_layers; ++il) {
    k[il].resize(static_cast<size_t>(hp.n_kv_heads * ctx * hp.head_dim));
    v[il].resize(static_cast<size_t>(hp.n_kv_heads * ctx * hp.head_dim_v));
  }
}

void KvCache::copy_prefix(const KvCache& from, int64_t n) {
  POCKET_CHECK(from.n_ctx == n_ctx && from.n_kv_heads == n_kv_heads && from.k.size() == k.size() && n >= 0 && n <= n_ctx,
               "KV caches of different shapes");
  // Each layer is [head][n_ctx][dim]: one contiguous run of n positions per head.
  auto copy = [&](const AlignedBuffer<uint16_t>& src, AlignedBuffer<uint16_t>& dst) {
    POCKET_CHECK(src.size() == dst.size(), "KV caches of different shapes");
    const size_t dim = src.size() / static_cast<size_t>(n_kv_heads * n_ctx);
    for (int64_t h = 0; h < n_kv_heads; ++h) {
      const size_t at = static_cast<size_t>(h * n_ctx) * dim;
      std::memcpy(dst.data() + at, src.data() + at, static_cast<size_t>(n) * dim * sizeof(uint16_t));
    }
  };
  for (size_t il = 0; il < k.size(); ++il) {
    copy(from.k[il], k[il]);
    copy(from.v[il], v[il]);
  }
}

size_t KvCache::bytes() const {
  size_t s = 0;
  for (const auto& b : k) s += b.size() * 2;
  for (const auto& b : v) s += b.size() * 2;
  return s;
}

void DecoderActivations::allocate(const TextHParams& hp, int64_t tokens, int64_t logit_rows) {
  max_tokens = tokens;
  max_logit_rows = logit_rows;
  const size_t n = static_cast<size_t>(tokens);
  x.resize(n * hp.d_model);
  xn.resize(n * hp.d_model);
  q.resize(n * hp.q_dim());
  k.resize(n * hp.kv_dim());
  v.resize(n * hp.v_dim());
  attn.resize(n * hp.n_heads * hp.head_dim_v);
  proj.resize(n * hp.d_model);
  gate.resize(n * hp.d_ff);
  up.resize(n * hp.d_ff);
  logits.resize(static_cast<size_t>(logit_rows) * hp.n_vocab);
  cos_sin.resize(n * static_cast<size_t>(hp.rope.n_dims));
  n_keys.resize(n);
}

DecoderModel::DecoderModel(TextHParams hp, DecoderWeights w) : hp_(std::move(hp)), w_(std::move(w)), rope_(hp_.rope) {}

size_t DecoderModel::repack_weights(ThreadPool& pool) {
  std::vector<kernels::WeightRef*> mats;
  for (DecoderLayerWeights& L : w_.layers)
    for (kernels::WeightRef* m : {&L.wq, &L.wk, &L.wv, &L.wo, &L.w_gate, &L.w_up, &L.w_down}) mats.push_back(m);
  mats.push_back(&w_.output);
  size_t bytes = 0;
  for (kernels::WeightRef* m : mats) {
    if (m->packed || !kernels::can_repack(*m)) continue;
    packed_.emplace_back();
    // The mapped original is dropped as it is repacked, also when the output matrix is tied to
    // the token embedding: lookups read single rows, which fault back in from the file.
    kernels::repack_weight(*m, packed_.back(), pool, /*release_source=*/true);
    bytes += packed_.back().size();
  }
  return bytes;
}

void DecoderModel::embed(int32_t token, float* out) const { kernels::dequantize_weight_row(w_.tok_embd, token, out); }

void DecoderModel::forward(const DecoderBatch& b, KvCache& kv, DecoderActivations& act, ThreadPool& pool) const {
  const TextHParams& hp = hp_;
  const kernels::OpsTable& op = kernels::ops();
  const int64_t n = b.n, d = hp.d_model;
  POCKET_CHECK(n > 0 && n <= act.max_tokens, "batch of {} tokens exceeds the activation buffers ({})", n, act.max_tokens);
  POCKET_CHECK(b.n_logits >= 0 && b.n_logits <= n && b.n_logits <= act.max_logit_rows, "bad logits row count {}", b.n_logits);
  POCKET_CHECK(b.pos0 >= 0 && b.pos0 + n <= kv.n_ctx, "context full: positions up to {} exceed n_ctx {}", b.pos0 + n, kv.n_ctx);

  float* x = act.x.data();    // [n, d_model]
  float* xn = act.xn.data();  // [n, d_model]
  float* q = act.q.data();    // [n, n_heads*head_dim]
  const int n_rope = hp.rope.n_dims;

  for (int64_t t = 0; t < n; ++t) {
    if (b.embd && b.embd[t]) {
      std::memcpy(x + t * d, b.embd[t], sizeof(float) * d);
    } else {
      const int32_t id = b.tokens[t];
      POCKET_CHECK(id >= 0 && id < hp.n_vocab, "token id {} out of range [0, {})", id, hp.n_vocab);
      embed(id, x + t * d);
    }
    rope_.cos_sin(b.pos0 + t, act.cos_sin.data() + t * n_rope);
    act.n_keys[t] = static_cast<int32_t>(b.pos0 + t + 1);
  }

  kernels::AttentionArgs aa;
  aa.q = q;
  aa.out = act.attn.data();
  aa.n_tokens = n;
  aa.n_heads = static_cast<int>(hp.n_heads);
  aa.n_kv_heads = static_cast<int>(hp.n_kv_heads);
  aa.head_dim = static_cast<int>(hp.head_dim);
  aa.kv_head_stride = kv.n_ctx * hp.head_dim;
  aa.n_keys = act.n_keys.data();
  aa.scale = 1.0f / std::sqrt(static_cast<float>(hp.head_dim));
  POCKET_CHECK(hp.head_dim == hp.head_dim_v, "different K and V head sizes are not supported");

  for (int64_t il = 0; il < hp.n_layers; ++il) {
    const DecoderLayerWeights& L = w_.layers[il];
    // --- attention block ---
    qkv_block(L, n, act, pool);

    pool.parallel_for(n, [&](int64_t t0, int64_t t1, int) {
      for (int64_t t = t0; t < t1; ++t) rope_and_store(il, t, b.pos0 + t, kv, act);
    });
    aa.k = kv.k[il].data();
    aa.v = kv.v[il].data();
    kernels::attention(aa, act.attn_scratch, pool);
    kernels::matmul(L.wo, act.attn.data(), n, act.proj.data(), act.mm, pool);
    mlp_block(L, n, act, pool);
  }

  if (b.n_logits > 0) {
    const int64_t first = n - b.n_logits;
    for (int64_t t = first; t < n; ++t) op.rmsnorm(x + t * d, w_.output_norm.data(), xn + t * d, d, hp.rms_eps);
    kernels::matmul(w_.output, xn + first * d, b.n_logits, act.logits.data(), act.mm, pool);
  }
}

// Q, K, V of n tokens from the normed residual stream: act.x -> act.xn -> act.q/k/v.
void DecoderModel::qkv_block(const DecoderLayerWeights& L, int64_t n, DecoderActivations& act, ThreadPool& pool) const {
  const kernels::OpsTable& op = kernels::ops();
  const int64_t d = hp_.d_model;
  float* x = act.x.data();
  float* xn = act.xn.data();
  pool.parallel_for(n, [&](int64_t t0, int64_t t1, int) {
    for (int64_t t = t0; t < t1; ++t) op.rmsnorm(x + t * d, L.attn_norm.data(), xn + t * d, d, hp_.rms_eps);
  });
  const kernels::MatmulJob qkv[3] = {{L.wq, xn, act.q.data()}, {L.wk, xn, act.k.data()}, {L.wv, xn, act.v.data()}};
  kernels::matmul_multi(qkv, 3, n, act.mm, pool);
}

// Row t of act.q/act.k at position pos: RoPE (cos/sin already in act.cos_sin row t), the
// query temperature past the original context, and K/V written as f16 into layer il of kv.
void DecoderModel::rope_and_store(int64_t il, int64_t t, int64_t pos, KvCache& kv, DecoderActivations& act) const {
  const TextHParams& hp = hp_;
  const kernels::OpsTable& op = kernels::ops();
  const int n_rope = hp.rope.n_dims;
  float* qt = act.q.data() + t * hp.q_dim();
  float* kt = act.k.data() + t * hp.kv_dim();
  const float* vt = act.v.data() + t * hp.v_dim();
  const float* cs = act.cos_sin.data() + t * n_rope;
  kernels::rope_adjacent(qt, static_cast<int>(hp.n_heads), static_cast<int>(hp.head_dim), n_rope, cs);
  kernels::rope_adjacent(kt, static_cast<int>(hp.n_kv_heads), static_cast<int>(hp.head_dim), n_rope, cs);
  if (hp.attn_temp_beta != 0.0f) {
    // ref: transformers ministral3 get_llama_4_attn_scale; llama.cpp llm_graph_input_attn_temp.
    const float s = 1.0f + hp.attn_temp_beta * std::log(1.0f + static_cast<float>(pos / hp.attn_temp_floor));
    for (int64_t i = 0; i < hp.q_dim(); ++i) qt[i] *= s;
  }
  uint16_t* kc = kv.k[il].data();
  uint16_t* vc = kv.v[il].data();
  for (int64_t h = 0; h < hp.n_kv_heads; ++h) {
    op.to_f16(kt + h * hp.head_dim, kc + (h * kv.n_ctx + pos) * hp.head_dim, hp.head_dim);
    op.to_f16(vt + h * hp.head_dim_v, vc + (h * kv.n_ctx + pos) * hp.head_dim_v, hp.head_dim_v);
  }
}

// The attention output (act.proj) joins the residual stream act.x, then the SwiGLU MLP
// adds its own output: x += proj; x += down(swiglu(gate(norm(x)), up(norm(x)))). [n, d_model]
void DecoderModel::mlp_block(const DecoderLayerWeights& L, int64_t n, DecoderActivations& act, ThreadPool& pool) const {
  const TextHParams& hp = hp_;
  const kernels::OpsTable& op = kernels::ops();
  const int64_t d = hp.d_model;
  float* x = act.x.data();
  float* xn = act.xn.data();
  pool.parallel_for(n, [&](int64_t t0, int64_t t1, int) {
    for (int64_t t = t0; t < t1; ++t) {
      op.add(x + t * d, act.proj.data() + t * d, d);
      op.rmsnorm(x + t * d, L.ffn_norm.data(), xn + t * d, d, hp.rms_eps);
    }
  });
  const kernels::MatmulJob gate_up[2] = {{L.w_gate, xn, act.gate.data()}, {L.w_up, xn, act.up.data()}};
  kernels::matmul_multi(gate_up, 2, n, act.mm, pool);
  pool.parallel_for(n, [&](int64_t t0, int64_t t1, int) {
    for (int64_t t = t0; t < t1; ++t)
      op.swiglu(act.gate.data() + t * hp.d_ff, act.up.data() + t * hp.d_ff, act.gate.data() + t * hp.d_ff, hp.d_ff);
  });
  kernels::matmul(L.w_down, act.gate.data(), n, act.proj.data(), act.mm, pool);
  pool.parallel_for(n, [&](int64_t t0, int64_t t1, int) {
    for (int64_t t = t0; t < t1; ++t) op.add(x + t * d, act.proj.data() + t * d, d);
  });
}

void DecoderModel::forward_multi(const DecoderRow* rows, int64_t n, KvCache* const* kvs, DecoderActivations& act,
                                 ThreadPool& pool) const {
  const TextHParams& hp = hp_;
  const kernels::OpsTable& op = kernels::ops();
  const int64_t d = hp.d_model;
  POCKET_CHECK(n > 0, "multi-sequence step of {} rows", n);
  POCKET_CHECK(n <= act.max_tokens && n <= act.max_logit_rows, "multi-sequence step of {} rows exceeds the buffers", n);
  POCKET_CHECK(hp.head_dim == hp.head_dim_v, "different K and V head sizes are not supported");
  // Every product per token alone (see MatmulScratch::row_invariant); restored on exit, since
  // the same activations may serve a prefill next.
  struct RowInvariant {
    kernels::MatmulScratch& mm;
    explicit RowInvariant(kernels::MatmulScratch& m) : mm(m) { mm.row_invariant = true; }
    ~RowInvariant() { mm.row_invariant = false; }
  } row_invariant(act.mm);
  for (int64_t t = 0; t < n; ++t) {
    POCKET_CHECK(rows[t].seq >= 0, "multi-sequence row {} has no sequence", t);
    const KvCache& kv = *kvs[rows[t].seq];
    POCKET_CHECK(rows[t].pos >= 0 && rows[t].pos < kv.n_ctx, "context full: position {} exceeds n_ctx {}", rows[t].pos,
                 kv.n_ctx);
  }

  float* x = act.x.data();    // [n, d_model]
  float* xn = act.xn.data();  // [n, d_model]
  float* q = act.q.data();    // [n, n_heads*head_dim]
  float* attn = act.attn.data();  // [n, n_heads*head_dim_v]
  const int n_rope = hp.rope.n_dims;
  const int64_t attn_dim = hp.n_heads * hp.head_dim_v;

  for (int64_t t = 0; t < n; ++t) {
    const int32_t id = rows[t].token;
    POCKET_CHECK(id >= 0 && id < hp.n_vocab, "token id {} out of range [0, {})", id, hp.n_vocab);
    embed(id, x + t * d);
    rope_.cos_sin(rows[t].pos, act.cos_sin.data() + t * n_rope);
    act.n_keys[t] = static_cast<int32_t>(rows[t].pos + 1);
  }

  kernels::AttentionArgs aa;
  aa.n_tokens = 1;
  aa.n_heads = static_cast<int>(hp.n_heads);
  aa.n_kv_heads = static_cast<int>(hp.n_kv_heads);
  aa.head_dim = static_cast<int>(hp.head_dim);
  aa.scale = 1.0f / std::sqrt(static_cast<float>(hp.head_dim));

  for (int64_t il = 0; il < hp.n_layers; ++il) {
    const DecoderLayerWeights& L = w_.layers[il];
    // --- attention block ---
    qkv_block(L, n, act, pool);

    pool.parallel_for(n, [&](int64_t t0, int64_t t1, int) {
      for (int64_t t = t0; t < t1; ++t) rope_and_store(il, t, rows[t].pos, *kvs[rows[t].seq], act);
    });
    // Attention per row: each sequence reads only its own cache, exactly as a one-token forward().
    for (int64_t t = 0; t < n; ++t) {
      const KvCache& kv = *kvs[rows[t].seq];
      aa.q = q + t * hp.q_dim();
      aa.out = attn + t * attn_dim;
      aa.k = kv.k[il].data();
      aa.v = kv.v[il].data();
      aa.kv_head_stride = kv.n_ctx * hp.head_dim;
      aa.n_keys = act.n_keys.data() + t;
      kernels::attention(aa, act.attn_scratch, pool);
    }
    kernels::matmul(L.wo, attn, n, act.proj.data(), act.mm, pool);
    mlp_block(L, n, act, pool);
  }

  for (int64_t t = 0; t < n; ++t) op.rmsnorm(x + t * d, w_.output_norm.data(), xn + t * d, d, hp.rms_eps);
  kernels::matmul(w_.output, xn, n, act.logits.data(), act.mm, pool);
}

}  // namespace pocket
