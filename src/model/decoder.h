// The shared decoder-only transformer (Llama family): pre-norm blocks of
// RMSNorm -> GQA attention with RoPE -> residual -> RMSNorm -> SwiGLU MLP -> residual.
// Architectures in models/ fill DecoderHParams-specific details and bind weights by name;
// the forward pass is written once here. State is split as gemma.cpp does:
// hyperparameters (immutable), weights (immutable, memory-mapped), KV cache (per session)
// and activations (scratch sized once per batch shape).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/aligned.h"
#include "core/thread_pool.h"
#include "kernels/matmul.h"
#include "model/hparams.h"
#include "model/rope.h"

namespace pocket {

class GgufFile;

struct DecoderLayerWeights {
  std::vector<float> attn_norm;       // [d_model]
  kernels::WeightRef wq;              // [d_model -> n_heads*head_dim]
  kernels::WeightRef wk;              // [d_model -> n_kv_heads*head_dim]
  kernels::WeightRef wv;              // [d_model -> n_kv_heads*head_dim_v]
  kernels::WeightRef wo;              // [n_heads*head_dim_v -> d_model]
  std::vector<float> ffn_norm;        // [d_model]
  kernels::WeightRef w_gate;          // [d_model -> d_ff]
  kernels::WeightRef w_up;            // [d_model -> d_ff]
  kernels::WeightRef w_down;          // [d_ff -> d_model]
};

struct DecoderWeights {
  kernels::WeightRef tok_embd;        // [n_vocab rows of d_model]
  std::vector<DecoderLayerWeights> layers;
  std::vector<float> output_norm;     // [d_model]
  kernels::WeightRef output;          // [d_model -> n_vocab]; == tok_embd when tied
};

// Per-session KV cache, f16: per layer, [n_kv_heads, n_ctx, head_dim] for K and V.
struct KvCache {
  int64_t n_ctx = 0;
  int64_t n_kv_heads = 0;
  std::vector<AlignedBuffer<uint16_t>> k;
  std::vector<AlignedBuffer<uint16_t>> v;
  void allocate(const TextHParams& hp, int64_t n_ctx);
  size_t bytes() const;
  // Positions [0, n) of `from` (same model and context size) into this cache: a sequence that
  // shares a prompt prefix with another starts from its KV instead of recomputing it.
  void copy_prefix(const KvCache& from, int64_t n);
};

// Scratch for one forward call of up to max_tokens tokens; reused across calls.
struct DecoderActivations {
  int64_t max_tokens = 0;
  int64_t max_logit_rows = 0;
  AlignedBuffer<float> x;         // [max_tokens, d_model] residual stream
  AlignedBuffer<float> xn;        // [max_tokens, d_model] normed input of a sub-block
  AlignedBuffer<float> q;         // [max_tokens, n_heads*head_dim]
  AlignedBuffer<float> k;         // [max_tokens, n_kv_heads*head_dim]
  AlignedBuffer<float> v;         // [max_tokens, n_kv_heads*head_dim_v]
  AlignedBuffer<float> attn;      // [max_tokens, n_heads*head_dim_v]
  AlignedBuffer<float> proj;      // [max_tokens, d_model] sub-block output
  AlignedBuffer<float> gate;      // [max_tokens, d_ff]
  AlignedBuffer<float> up;        // [max_tokens, d_ff]
  AlignedBuffer<float> logits;    // [max_logit_rows, n_vocab]
  AlignedBuffer<float> cos_sin;   // [max_tokens, rope pairs * 2]
  AlignedBuffer<float> attn_scratch;
  std::vector<int32_t> n_keys;    // [max_tokens]
  kernels::MatmulScratch mm;
  void allocate(const TextHParams& hp, int64_t max_tokens, int64_t max_logit_rows);
};

// One forward call: n tokens at consecutive positions pos0.. .
struct DecoderBatch {
  const int32_t* tokens = nullptr;        // [n] token ids
  const float* const* embd = nullptr;     // optional [n]: non-null entry = use this [d_model] vector instead of the token's embedding
  int64_t n = 0;
  int64_t pos0 = 0;
  // Logits are produced for the last `n_logits` tokens of the batch (0 = none).
  int64_t n_logits = 1;
};

// One row of a multi-sequence decode step: the next token of sequence `seq` at position
// `pos` of that sequence's own KV cache.
struct DecoderRow {
  int32_t token = 0;
  int64_t pos = 0;
  int32_t seq = -1;
};

class DecoderModel {
 public:
  DecoderModel(TextHParams hp, DecoderWeights w);
  const TextHParams& hparams() const { return hp_; }
  const DecoderWeights& weights() const { return w_; }
  const RopeTable& rope() const { return rope_; }

  // Runs the batch, appending its K/V at positions [pos0, pos0+n). Logits rows go to
  // act.logits ([n_logits, n_vocab]). Preconditions (checked): n <= act.max_tokens,
  // n_logits <= act.max_logit_rows, pos0 + n <= kv.n_ctx.
  void forward(const DecoderBatch& b, KvCache& kv, DecoderActivations& act, ThreadPool& pool) const;

  // Continuous batching: one decode token for each of several sequences, every row against
  // its own cache kvs[row.seq]. Matrix products run over all rows at once; attention runs
  // per row. Logits of every row go to act.logits ([n, n_vocab]); 0 < n <= act.max_tokens
  // and act.max_logit_rows. The products run row-invariant (MatmulScratch::row_invariant), so
  // each row's results are bit-identical whatever the other rows are, and equal to a
  // one-token forward() of that sequence.
  void forward_multi(const DecoderRow* rows, int64_t n, KvCache* const* kvs, DecoderActivations& act,
                     ThreadPool& pool) const;

  // Token embedding row (dequantized) into out [d_model].
  void embed(int32_t token, float* out) const;

  // Repacks every matrix the CPU has repacked kernels for (kernels/repack.h) and releases
  // the mapped pages of the originals (re-read from the file if the reference kernels are
  // used later). Returns the bytes of repacked weights.
  size_t repack_weights(ThreadPool& pool);

 private:
  void qkv_block(const DecoderLayerWeights& L, int64_t n, DecoderActivations& act, ThreadPool& pool) const;
  void rope_and_store(int64_t il, int64_t t, int64_t pos, KvCache& kv, DecoderActivations& act) const;
  void mlp_block(const DecoderLayerWeights& L, int64_t n, DecoderActivations& act, ThreadPool& pool) const;
  TextHParams hp_;
  DecoderWeights w_;
  RopeTable rope_;
  std::vector<AlignedBuffer<uint8_t>> packed_;
};

}  // namespace pocket
