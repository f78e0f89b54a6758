// Hyperparameters of a decoder-only text model, read once from the file and immutable.
// Per-session settings (context size, threads, batch) live in runtime/, not here.
#pragma once

#include <cstdint>
#include <string>

namespace pocket {

enum class RopeScaling { None, Linear, Yarn };

struct RopeParams {
  float theta = 10000.0f;       // base
  int n_dims = 0;               // rotated dims per head (pairs = n_dims / 2)
  RopeScaling scaling = RopeScaling::None;
  float factor = 1.0f;          // context extension factor (freq_scale = 1 / factor)
  int64_t n_ctx_orig = 0;       // original training context (YaRN correction range)
  float beta_fast = 32.0f;
  float beta_slow = 1.0f;
  float yarn_log_mul = 0.0f;    // mscale_all_dim; 0 = absent
};

struct TextHParams {
  std::string arch;             // "llama", "mistral3", ...
  int64_t n_vocab = 0;
  int64_t d_model = 0;
  int64_t n_layers = 0;
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;
  int64_t head_dim = 0;         // key/query head size (may differ from d_model / n_heads)
  int64_t head_dim_v = 0;       // value head size
  int64_t d_ff = 0;
  int64_t n_ctx_train = 0;
  float rms_eps = 1e-5f;
  RopeParams rope;
  // Position-dependent query temperature (Mistral 3 "llama 4 scaling"):
  // q *= 1 + beta * ln(1 + floor(pos / floor_len)); beta 0 = off.
  float attn_temp_beta = 0.0f;
  int64_t attn_temp_floor = 0;
  bool tied_output = false;

  int64_t q_dim() const { return n_heads * head_dim; }
  int64_t kv_dim() const { return n_kv_heads * head_dim; }
  int64_t v_dim() const { return n_kv_heads * head_dim_v; }
  // KV cache bytes per token with f16 storage.
  int64_t kv_bytes_per_token() const { return n_layers * (kv_dim() + v_dim()) * 2; }
};

}  // namespace pocket
