// `llama` architecture (SmolLM2, the SmolVLM2 text models, Llama/Mistral-7B style GGUFs):
// GQA, RoPE on adjacent pairs (llama.cpp's converter permutes HF's rotate_half Q/K rows),
// RMSNorm, SwiGLU, tied or separate output. ref: llama.cpp src/models/llama.cpp.
#include <algorithm>

#include "core/error.h"
#include "io/gguf.h"
#include "model/weights.h"
#include "models/registry.h"

namespace pocket {

namespace {

int64_t require_int(const GgufFile& f, const std::string& key) {
  auto v = f.get_int(key);
  POCKET_CHECK(v.has_value(), "{}: missing metadata key '{}'", f.path(), key);
  return *v;
}

}  // namespace

TextHParams read_llama_family_hparams(const GgufFile& f, const std::string& arch) {
  TextHParams hp;
  hp.arch = arch;
  const std::string p = arch + ".";
  hp.d_model = require_int(f, p + "embedding_length");
  hp.n_layers = require_int(f, p + "block_count");
  hp.d_ff = require_int(f, p + "feed_forward_length");
  hp.n_heads = require_int(f, p + "attention.head_count");
  hp.n_kv_heads = f.get_int_or(p + "attention.head_count_kv", hp.n_heads);
  hp.n_ctx_train = f.get_int_or(p + "context_length", 4096);
  POCKET_CHECK(hp.d_model > 0 && hp.d_model <= (1 << 16) && hp.n_layers > 0 && hp.n_layers <= 1024 && hp.d_ff > 0 &&
                   hp.d_ff <= (1 << 20) && hp.n_heads > 0 && hp.n_heads <= 1024 && hp.n_kv_heads > 0 &&
                   hp.n_heads % hp.n_kv_heads == 0,
               "{}: implausible hyperparameters (d_model {}, layers {}, d_ff {}, heads {}/{})", f.path(), hp.d_model,
               hp.n_layers, hp.d_ff, hp.n_heads, hp.n_kv_heads);
  hp.head_dim = f.get_int_or(p + "attention.key_length", hp.d_model / hp.n_heads);
  hp.head_dim_v = f.get_int_or(p + "attention.value_length", hp.head_dim);
  POCKET_CHECK(hp.head_dim > 0 && hp.head_dim <= 1024 && hp.head_dim % 2 == 0 && hp.head_dim_v > 0 && hp.head_dim_v <= 1024,
               "{}: implausible head size {}", f.path(), hp.head_dim);
  hp.rms_eps = static_cast<float>(f.get_float_or(p + "attention.layer_norm_rms_epsilon", 1e-5));
  hp.rope.theta = static_cast<float>(f.get_float_or(p + "rope.freq_base", 10000.0));
  hp.rope.n_dims = static_cast<int>(f.get_int_or(p + "rope.dimension_count", hp.head_dim));
  POCKET_CHECK(hp.rope.n_dims > 0 && hp.rope.n_dims <= hp.head_dim && hp.rope.n_dims % 2 == 0,
               "{}: rope dimension {} invalid for head size {}", f.path(), hp.rope.n_dims, hp.head_dim);
  const std::string scaling = f.get_string_or(p + "rope.scaling.type", "none");
  if (scaling == "linear") {
    hp.rope.scaling = RopeScaling::Linear;
    hp.rope.factor = static_cast<float>(f.get_float_or(p + "rope.scaling.factor", 1.0));
  } else if (scaling == "yarn") {
    hp.rope.scaling = RopeScaling::Yarn;
    hp.rope.factor = static_cast<float>(f.get_float_or(p + "rope.scaling.factor", 1.0));
    hp.rope.n_ctx_orig = f.get_int_or(p + "rope.scaling.original_context_length", hp.n_ctx_train);
    hp.rope.beta_fast = static_cast<float>(f.get_float_or(p + "rope.scaling.yarn_beta_fast", 32.0));
    hp.rope.beta_slow = static_cast<float>(f.get_float_or(p + "rope.scaling.yarn_beta_slow", 1.0));
    hp.rope.yarn_log_mul = static_cast<float>(f.get_float_or(p + "rope.scaling.yarn_log_multiplier", 0.0));
    POCKET_CHECK(hp.rope.n_ctx_orig > 0 && hp.rope.factor >= 1.0f, "{}: invalid YaRN parameters", f.path());
  } else if (scaling != "none") {
    fail("{}: rope scaling '{}' is not supported", f.path(), scaling);
  }
  return hp;
}

DecoderWeights bind_llama_family_weights(const GgufFile& f, TextHParams& hp) {
  const GgufTensorInfo* emb = f.find_tensor("token_embd.weight");
  POCKET_CHECK(emb && emb->n_dims == 2, "{}: missing or malformed token_embd.weight", f.path());
  hp.n_vocab = emb->ne[1];
  DecoderWeights w;
  w.tok_embd = bind_matrix(f, "token_embd.weight", hp.d_model, hp.n_vocab);
  w.layers.resize(hp.n_layers);
  for (int64_t il = 0; il < hp.n_layers; ++il) {
    const std::string b = "blk." + std::to_string(il) + ".";
    DecoderLayerWeights& L = w.layers[il];
    L.attn_norm = load_vector(f, b + "attn_norm.weight", hp.d_model);
    L.wq = bind_matrix(f, b + "attn_q.weight", hp.d_model, hp.q_dim());
    L.wk = bind_matrix(f, b + "attn_k.weight", hp.d_model, hp.kv_dim());
    L.wv = bind_matrix(f, b + "attn_v.weight", hp.d_model, hp.v_dim());
    L.wo = bind_matrix(f, b + "attn_output.weight", hp.n_heads * hp.head_dim_v, hp.d_model);
    L.ffn_norm = load_vector(f, b + "ffn_norm.weight", hp.d_model);
    L.w_gate = bind_matrix(f, b + "ffn_gate.weight", hp.d_model, hp.d_ff);
    L.w_up = bind_matrix(f, b + "ffn_up.weight", hp.d_model, hp.d_ff);
    L.w_down = bind_matrix(f, b + "ffn_down.weight", hp.d_ff, hp.d_model);
  }
  w.output_norm = load_vector(f, "output_norm.weight", hp.d_model);
  if (has_tensor(f, "output.weight")) {
    w.output = bind_matrix(f, "output.weight", hp.d_model, hp.n_vocab);
    hp.tied_output = false;
  } else {
    w.output = w.tok_embd;  // tied embeddings
    hp.tied_output = true;
  }
  return w;
}

std::unique_ptr<DecoderModel> load_llama(const GgufFile& f) {
  TextHParams hp = read_llama_family_hparams(f, "llama");
  DecoderWeights w = bind_llama_family_weights(f, hp);
  return std::make_unique<DecoderModel>(std::move(hp), std::move(w));
}

}  // namespace pocket
