// Checkpoint folder -> GGUF conversion shared by every architecture: config parsing, tensor
// transforms (dequantize, RoPE row permutation, quantize), the architecture table, and the
// GGUF -> GGUF requantization behind `pocket quantize`.
#include "models/hf_checkpoint.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <thread>

#include "core/error.h"
#include "core/thread_pool.h"

namespace pocket {

namespace {

using json = nlohmann::json;

struct HfArch {
  const char* name;
  bool (*matches)(const json&);
  void (*convert)(HfConversion&);
};
constexpr HfArch kHfArchs[] = {
    {"llama (LlamaForCausalLM, MistralForCausalLM, SmolVLM/Idefics3 text model)", hf_llama_matches, hf_llama_convert},
    {"mistral3 (Ministral 3: Mistral3ForConditionalGeneration, Ministral3ForCausalLM)", hf_mistral3_matches,
     hf_mistral3_convert},
};

json read_json_file(const std::string& path) {
  MappedFile m(path);
  POCKET_CHECK(m.size() <= (64u << 20), "'{}' is larger than 64 MiB", path);
  try {
    return json::parse(reinterpret_cast<const char*>(m.data()), reinterpret_cast<const char*>(m.data()) + m.size());
  } catch (const json::exception& e) {
    fail("'{}' is not valid JSON: {}", path, e.what());
  }
}

std::string shape_str(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

// llama.cpp's LLAMA_FTYPE for general.file_type (ref: llama.cpp include/llama.h llama_ftype).
int file_type_of(DType t) {
  switch (t) {
    case DType::F32: return 0;
    case DType::F16: return 1;
    case DType::Q4_0: return 2;
    case DType::Q4_1: return 3;
    case DType::Q8_0: return 7;
    case DType::Q5_0: return 8;
    case DType::Q5_1: return 9;
    case DType::Q2_K: return 10;
    case DType::Q3_K: return 12;
    case DType::Q4_K: return 15;
    case DType::Q5_K: return 17;
    case DType::Q6_K: return 18;
    case DType::BF16: return 32;
    default: return -1;
  }
}

void add_file_type(GgufWriter& w, DType t) {
  if (const int ft = file_type_of(t); ft >= 0) w.set_u32("general.file_type", static_cast<uint32_t>(ft));
  if (type_traits(t).quantized) w.set_u32("general.quantization_version", 2);
}

int threads_or_all(int n) { return n > 0 ? n : std::max(1, static_cast<int>(std::thread::hardware_concurrency())); }

void check_target_type(DType t) {
  const TypeTraits& tt = type_traits(t);
  POCKET_CHECK(tt.supported && t != DType::Q8_1 && t != DType::Q8_K,
               "type {} cannot be used for model weights (use Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K..Q6_K, F16, BF16 or F32)",
               tt.name);
}

// Reads config.json, picks the architecture and fills the conversion (tensors and metadata).
std::unique_ptr<HfConversion> prepare(const std::string& dir, const ConvertOptions& opt, ThreadPool& pool) {
  namespace fs = std::filesystem;
  check_target_type(opt.quant);
  const fs::path cfg = fs::path(dir) / "config.json";
  std::error_code ec;
  POCKET_CHECK(fs::is_regular_file(cfg, ec), "'{}' has no config.json: not a Hugging Face checkpoint folder", dir);
  auto c = std::make_unique<HfConversion>();
  c->dir = dir;
  c->config = read_json_file(cfg.string());
  POCKET_CHECK(c->config.is_object(), "'{}' is not a JSON object", cfg.string());
  c->quant = opt.quant;
  c->pool = &pool;
  if (const auto q = c->config.find("quantization_config"); q != c->config.end() && q->is_object()) {
    const std::string method = q->value("quant_method", "");
    POCKET_CHECK(method == "fp8", "{}: quantization method '{}' is not supported (only fp8 checkpoints are)", dir, method);
    if (const auto bs = q->find("weight_block_size"); bs != q->end() && !bs->is_null()) {
      POCKET_CHECK(bs->is_array() && bs->size() == 2 && (*bs)[0].is_number_unsigned() && (*bs)[1].is_number_unsigned() &&
                       (*bs)[0].get<int64_t>() > 0 && (*bs)[1].get<int64_t>() > 0,
                   "{}: quantization_config.weight_block_size must be two positive integers", dir);
      c->fp8_block = {(*bs)[0].get<int64_t>(), (*bs)[1].get<int64_t>()};
    }
  }
  const HfArch* arch = nullptr;
  for (const HfArch& a : kHfArchs)
    if (a.matches(c->config)) arch = &a;
  if (!arch) {
    std::string archs = c->config.contains("architectures") ? c->config["architectures"].dump() : "none";
    std::string names;
    for (const HfArch& a : kHfArchs) names += std::string(names.empty() ? "" : "; ") + a.name;
    fail("checkpoint '{}': architecture {} (model_type '{}') is not supported (supported: {})", dir, archs,
         c->config.value("model_type", std::string("?")), names);
  }
  c->st = SafetensorsCheckpoint::open_dir(dir);
  arch->convert(*c);
  c->meta.set_string("general.name", c->config.value("_name_or_path", fs::path(dir).filename().string()));
  add_file_type(c->meta, opt.quant);
  return c;
}

// A config field of the wrong JSON type surfaces as json::type_error: report it as a bad file.
std::unique_ptr<HfConversion> prepare_checked(const std::string& dir, const ConvertOptions& opt, ThreadPool& pool) {
  try {
    return prepare(dir, opt, pool);
  } catch (const json::exception& e) {
    fail("checkpoint '{}': malformed config: {}", dir, e.what());
  }
}

// Serializes the metadata built in `c.meta` into the stream writer.
void finish_metadata(HfConversion& c) {
  const std::vector<uint8_t> bytes = c.meta.to_bytes();
  auto parsed = GgufFile::parse(bytes.data(), bytes.size(), "<metadata>");
  c.out.copy_metadata(*parsed);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Config helpers

int64_t cfg_int(const json& j, const char* key, const std::string& where) {
  const auto it = j.find(key);
  POCKET_CHECK(it != j.end() && it->is_number_integer(), "{}: config has no integer '{}'", where, key);
  return it->get<int64_t>();
}

int64_t cfg_int_or(const json& j, const char* key, int64_t def) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return def;
  POCKET_CHECK(it->is_number_integer(), "config field '{}' is not an integer", key);
  return it->get<int64_t>();
}

std::string first_architecture(const json& config) {
  const auto a = config.find("architectures");
  if (a == config.end() || !a->is_array() || a->empty() || !(*a)[0].is_string()) return "";
  return (*a)[0].get<std::string>();
}

double cfg_float_or(const json& j, const char* key, double def) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return def;
  POCKET_CHECK(it->is_number(), "config field '{}' is not a number", key);
  return it->get<double>();
}

DType matrix_type_for(DType want, int64_t n_in) {
  auto fits = [&](DType t) { return n_in % type_traits(t).block_size == 0; };
  if (fits(want)) return want;
  DType fb = DType::F16;
  switch (want) {
    case DType::Q2_K: case DType::Q3_K: fb = DType::Q4_0; break;
    case DType::Q4_K: fb = DType::Q5_0; break;
    case DType::Q5_K: fb = DType::Q5_1; break;
    case DType::Q6_K: fb = DType::Q8_0; break;
    default: break;
  }
  return fits(fb) ? fb : DType::F16;
}

// ---------------------------------------------------------------------------------------------
// Tensor transforms

void HfConversion::add_matrix(const std::string& name, const std::string& hf_name, int64_t n_in, int64_t n_out,
                              int64_t permute_heads) {
  const StTensor& w = st->get(hf_name);
  POCKET_CHECK(w.shape.size() == 2 && w.shape[0] == n_out && w.shape[1] == n_in,
               "checkpoint '{}': tensor '{}' has shape {} but the config implies [{}, {}]", dir, hf_name,
               shape_str(w.shape), n_out, n_in);
  POCKET_CHECK(st_dtype_is_float(w.dtype), "checkpoint '{}': tensor '{}' has dtype {}, expected a float type", dir,
               hf_name, st_dtype_name(w.dtype));
  if (permute_heads > 0) {
    POCKET_CHECK(n_out % permute_heads == 0 && (n_out / permute_heads) % 2 == 0,
                 "checkpoint '{}': tensor '{}' rows {} do not split into {} heads of even size", dir, hf_name, n_out,
                 permute_heads);
  }
  // FP8 weights carry a scale that multiplies them back (despite the "_inv" in the name).
  // ref: llama.cpp convert_hf_to_gguf.py ModelBase.dequant_model (quant_method "fp8":
  // weight.float() * scale_inv, repeated over weight_block_size blocks; activation_scale unused).
  std::vector<float> scale;
  int64_t scale_rows = 0, scale_cols = 0;  // grid of the scale: 1x1, n_out x 1, or blocks
  if (w.dtype == StDType::F8_E4M3 || w.dtype == StDType::F8_E5M2) {
    const StTensor* s = st->find(hf_name + "_scale_inv");  // "<x>.weight_scale_inv" (HF fp8)
    if (!s) s = st->find(hf_name + "_scale");              // "<x>.weight_scale" (compressed-tensors)
    if (s) {
      POCKET_CHECK(st_dtype_is_float(s->dtype), "checkpoint '{}': scale '{}' is not a float tensor", dir, s->name);
      const int64_t n = s->n_elements();
      if (n == 1) {
        scale_rows = scale_cols = 1;
      } else if (fp8_block.empty() && n == n_out && (s->shape.size() == 1 || (s->shape.size() == 2 && s->shape[1] == 1))) {
        scale_rows = n_out;
        scale_cols = 1;
      } else if (!fp8_block.empty() && s->shape.size() == 2 && s->shape[0] == (n_out + fp8_block[0] - 1) / fp8_block[0] &&
                 s->shape[1] == (n_in + fp8_block[1] - 1) / fp8_block[1]) {
        scale_rows = s->shape[0];
        scale_cols = s->shape[1];
      } else {
        fail("checkpoint '{}': scale '{}' has shape {}, which fits neither a per-tensor, per-row nor block scale of {}",
             dir, s->name, shape_str(s->shape), hf_name);
      }
      scale.resize(static_cast<size_t>(n));
      s->read_f32(0, n, scale.data());
    }
  }
  const DType type = matrix_type_for(quant, n_in);
  const int64_t head = permute_heads > 0 ? n_out / permute_heads : 0;
  const int64_t bh = fp8_block.empty() ? 1 : fp8_block[0], bw = fp8_block.empty() ? 1 : fp8_block[1];
  const StTensor* src = &w;
  ThreadPool* tp = pool;
  out.add_tensor(name, type, {n_in, n_out}, [=](uint8_t* dst) {
    const size_t rb = row_bytes(type, n_in);
    tp->parallel_for(n_out, [&](int64_t r0, int64_t r1, int) {
      std::vector<float> row(static_cast<size_t>(n_in));
      for (int64_t r = r0; r < r1; ++r) {
        // Inverse of HF's rotate_half split: GGUF row 2i+j of a head is HF row j*head/2 + i.
        // ref: llama.cpp convert_hf_to_gguf.py LlamaModel.permute (reshape(n_head, 2, hd/2, ...)
        // .swapaxes(1, 2)), applied to q_proj with n_head and to k_proj with n_head_kv.
        int64_t sr = r;
        if (head > 0) {
          const int64_t h = r / head, k = r % head;
          sr = h * head + (k % 2) * (head / 2) + k / 2;
        }
        src->read_f32(sr * n_in, n_in, row.data());
        if (scale_rows == 1 && scale_cols == 1) {
          for (float& v : row) v *= scale[0];
        } else if (scale_cols == 1 && scale_rows > 1) {
          for (float& v : row) v *= scale[static_cast<size_t>(sr)];
        } else if (scale_rows > 0) {
          const float* srow = scale.data() + (sr / bh) * scale_cols;
          for (int64_t k = 0; k < n_in; ++k) row[k] *= srow[k / bw];
        }
        quantize_row(type, row.data(), dst + static_cast<size_t>(r) * rb, n_in);
      }
    });
  });
}

void HfConversion::add_vector(const std::string& name, const std::string& hf_name, int64_t n) {
  const StTensor& v = st->get(hf_name);
  POCKET_CHECK(v.shape.size() == 1 && v.shape[0] == n, "checkpoint '{}': tensor '{}' has shape {} but the config implies [{}]",
               dir, hf_name, shape_str(v.shape), n);
  POCKET_CHECK(st_dtype_is_float(v.dtype), "checkpoint '{}': tensor '{}' has dtype {}, expected a float type", dir,
               hf_name, st_dtype_name(v.dtype));
  const StTensor* src = &v;
  out.add_tensor(name, DType::F32, {n}, [src, n](uint8_t* dst) {
    std::vector<float> tmp(static_cast<size_t>(n));
    src->read_f32(0, n, tmp.data());
    std::memcpy(dst, tmp.data(), tmp.size() * 4);
  });
}

json read_json_or_empty(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return json::object();
  return read_json_file(path);
}

void add_tensor_as(GgufStreamWriter& out, const SafetensorsCheckpoint& st, const std::string& name, const std::string& hf,
                   const std::vector<int64_t>& shape, DType type, int64_t permute_heads) {
  const StTensor& t = st.get(hf);
  POCKET_CHECK(t.shape == shape, "checkpoint '{}': tensor '{}' has shape {} but the config implies {}", st.dir(), hf,
               shape_str(t.shape), shape_str(shape));
  POCKET_CHECK(st_dtype_is_float(t.dtype), "checkpoint '{}': tensor '{}' has dtype {}, expected a float type", st.dir(),
               hf, st_dtype_name(t.dtype));
  const int64_t rows = shape.size() == 2 ? shape[0] : 1, cols = shape.size() == 2 ? shape[1] : t.n_elements();
  const int64_t head = permute_heads > 0 ? rows / permute_heads : 0;
  POCKET_CHECK(permute_heads == 0 || (shape.size() == 2 && rows % permute_heads == 0 && head % 2 == 0),
               "checkpoint '{}': tensor '{}' does not split into {} heads of even size", st.dir(), hf, permute_heads);
  const StTensor* src = &t;
  out.add_tensor(name, type, std::vector<int64_t>(shape.rbegin(), shape.rend()), [=](uint8_t* dst) {
    std::vector<float> row(static_cast<size_t>(cols));
    const size_t rb = row_bytes(type, cols);
    for (int64_t r = 0; r < rows; ++r) {
      int64_t sr = r;  // same row order as HfConversion::add_matrix
      if (head > 0) sr = (r / head) * head + (r % head % 2) * (head / 2) + (r % head) / 2;
      src->read_f32(sr * cols, cols, row.data());
      quantize_row(type, row.data(), dst + static_cast<size_t>(r) * rb, cols);
    }
  });
}


// ---------------------------------------------------------------------------------------------
// Llama-family hyperparameters and tensors

int64_t convert_llama_family(HfConversion& c, const std::string& arch, const std::string& prefix,
                             const std::string& lm_head) {
  const json& t = c.text;
  const std::string& w = c.dir;
  // hidden_size and intermediate_size fall back to the weights' shapes: some multimodal
  // text_configs leave them to the class defaults.
  auto dim_of = [&](const std::string& name, size_t axis) -> int64_t {
    const StTensor* x = c.st->find(name);
    return x && x->shape.size() == 2 ? x->shape[axis] : -1;
  };
  const int64_t d_model = t.contains("hidden_size") ? cfg_int(t, "hidden_size", w) : dim_of(prefix + "embed_tokens.weight", 1);
  const int64_t n_layers = cfg_int(t, "num_hidden_layers", w);
  const int64_t d_ff = t.contains("intermediate_size") ? cfg_int(t, "intermediate_size", w)
                                                        : dim_of(prefix + "layers.0.mlp.gate_proj.weight", 0);
  const int64_t n_heads = cfg_int(t, "num_attention_heads", w);
  const int64_t n_kv = cfg_int_or(t, "num_key_value_heads", n_heads);
  POCKET_CHECK(d_model > 0 && d_model <= (1 << 16) && n_layers > 0 && n_layers <= 1024 && d_ff > 0 && d_ff <= (1 << 20) &&
                   n_heads > 0 && n_heads <= 1024 && n_kv > 0 && n_heads % n_kv == 0,
               "checkpoint '{}': implausible config (hidden_size {}, layers {}, intermediate_size {}, heads {}/{})", w,
               d_model, n_layers, d_ff, n_heads, n_kv);
  const int64_t head_dim = cfg_int_or(t, "head_dim", d_model / n_heads);
  POCKET_CHECK(head_dim > 0 && head_dim <= 1024 && head_dim % 2 == 0, "checkpoint '{}': implausible head_dim {}", w, head_dim);
  POCKET_CHECK(cfg_float_or(t, "partial_rotary_factor", 1.0) == 1.0, "checkpoint '{}': partial rotary embeddings are not supported", w);
  POCKET_CHECK(!t.value("attention_bias", false) && !t.value("mlp_bias", false),
               "checkpoint '{}': attention/MLP biases are not supported", w);
  const std::string act = t.value("hidden_act", std::string("silu"));
  POCKET_CHECK(act == "silu", "checkpoint '{}': activation '{}' is not supported (SwiGLU with silu only)", w, act);
  POCKET_CHECK(t.value("sliding_window", json()).is_null() || !t.value("use_sliding_window", true) ||
                   cfg_int_or(t, "sliding_window", 0) >= cfg_int_or(t, "max_position_embeddings", 0),
               "checkpoint '{}': sliding-window attention is not supported", w);

  const std::string p = arch + ".";
  GgufWriter& m = c.meta;
  m.set_string("general.architecture", arch);
  m.set_u32(p + "context_length", static_cast<uint32_t>(cfg_int_or(t, "max_position_embeddings", 4096)));
  m.set_u32(p + "embedding_length", static_cast<uint32_t>(d_model));
  m.set_u32(p + "block_count", static_cast<uint32_t>(n_layers));
  m.set_u32(p + "feed_forward_length", static_cast<uint32_t>(d_ff));
  m.set_u32(p + "attention.head_count", static_cast<uint32_t>(n_heads));
  m.set_u32(p + "attention.head_count_kv", static_cast<uint32_t>(n_kv));
  m.set_u32(p + "attention.key_length", static_cast<uint32_t>(head_dim));
  m.set_u32(p + "attention.value_length", static_cast<uint32_t>(head_dim));
  m.set_u32(p + "rope.dimension_count", static_cast<uint32_t>(head_dim));
  m.set_f32(p + "attention.layer_norm_rms_epsilon", static_cast<float>(cfg_float_or(t, "rms_norm_eps", 1e-5)));

  // RoPE: transformers v5 keeps everything in rope_parameters, v4 in rope_theta + rope_scaling.
  json rp = json::object();
  if (t.contains("rope_parameters") && t["rope_parameters"].is_object()) rp = t["rope_parameters"];
  else if (t.contains("rope_scaling") && t["rope_scaling"].is_object()) rp = t["rope_scaling"];
  const double theta = cfg_float_or(t, "rope_theta", cfg_float_or(rp, "rope_theta", 10000.0));
  m.set_f32(p + "rope.freq_base", static_cast<float>(theta));
  std::string rtype = rp.value("rope_type", rp.value("type", std::string("default")));
  if (rtype == "linear") {
    m.set_string(p + "rope.scaling.type", "linear");
    m.set_f32(p + "rope.scaling.factor", static_cast<float>(cfg_float_or(rp, "factor", 1.0)));
  } else if (rtype == "yarn") {
    // ref: transformers modeling_rope_utils.py _compute_yarn_parameters; llama.cpp stores
    // mscale_all_dim as yarn_log_multiplier (ministral-spec.md §1.3).
    const double mscale = cfg_float_or(rp, "mscale", 1.0);
    const double mscale_all = cfg_float_or(rp, "mscale_all_dim", 0.0);
    POCKET_CHECK(mscale == 1.0 || mscale_all == 0.0 || mscale == mscale_all,
                 "checkpoint '{}': YaRN with mscale {} != mscale_all_dim {} is not supported", w, mscale, mscale_all);
    m.set_string(p + "rope.scaling.type", "yarn");
    m.set_f32(p + "rope.scaling.factor", static_cast<float>(cfg_float_or(rp, "factor", 1.0)));
    m.set_u32(p + "rope.scaling.original_context_length",
              static_cast<uint32_t>(cfg_int(rp, "original_max_position_embeddings", w)));
    m.set_f32(p + "rope.scaling.yarn_beta_fast", static_cast<float>(cfg_float_or(rp, "beta_fast", 32.0)));
    m.set_f32(p + "rope.scaling.yarn_beta_slow", static_cast<float>(cfg_float_or(rp, "beta_slow", 1.0)));
    if (mscale_all != 0.0) m.set_f32(p + "rope.scaling.yarn_log_multiplier", static_cast<float>(mscale_all));
  } else if (rtype != "default") {
    fail("checkpoint '{}': rope type '{}' is not supported (default, linear and yarn are)", w, rtype);
  }

  const StTensor& emb = c.st->get(prefix + "embed_tokens.weight");
  POCKET_CHECK(emb.shape.size() == 2 && emb.shape[1] == d_model,
               "checkpoint '{}': '{}' has shape {}, expected [vocab, {}]", w, emb.name, shape_str(emb.shape), d_model);
  const int64_t n_vocab = emb.shape[0];
  const int64_t cfg_vocab = cfg_int_or(t, "vocab_size", n_vocab);
  POCKET_CHECK(cfg_vocab == n_vocab, "checkpoint '{}': vocab_size {} but the embedding has {} rows", w, cfg_vocab, n_vocab);
  m.set_u32(p + "vocab_size", static_cast<uint32_t>(n_vocab));

  c.add_matrix("token_embd.weight", prefix + "embed_tokens.weight", d_model, n_vocab);
  for (int64_t il = 0; il < n_layers; ++il) {
    const std::string b = "blk." + std::to_string(il) + ".";
    const std::string h = prefix + "layers." + std::to_string(il) + ".";
    c.add_vector(b + "attn_norm.weight", h + "input_layernorm.weight", d_model);
    c.add_matrix(b + "attn_q.weight", h + "self_attn.q_proj.weight", d_model, n_heads * head_dim, n_heads);
    c.add_matrix(b + "attn_k.weight", h + "self_attn.k_proj.weight", d_model, n_kv * head_dim, n_kv);
    c.add_matrix(b + "attn_v.weight", h + "self_attn.v_proj.weight", d_model, n_kv * head_dim);
    c.add_matrix(b + "attn_output.weight", h + "self_attn.o_proj.weight", n_heads * head_dim, d_model);
    c.add_vector(b + "ffn_norm.weight", h + "post_attention_layernorm.weight", d_model);
    c.add_matrix(b + "ffn_gate.weight", h + "mlp.gate_proj.weight", d_model, d_ff);
    c.add_matrix(b + "ffn_up.weight", h + "mlp.up_proj.weight", d_model, d_ff);
    c.add_matrix(b + "ffn_down.weight", h + "mlp.down_proj.weight", d_ff, d_model);
  }
  c.add_vector("output_norm.weight", prefix + "norm.weight", d_model);
  // tie_word_embeddings may sit in the text config or at the top (multimodal wrappers).
  bool tied = t.value("tie_word_embeddings", c.config.value("tie_word_embeddings", false));
  if (!tied) {
    POCKET_CHECK(c.has(lm_head), "checkpoint '{}': tie_word_embeddings is false but there is no '{}'", w, lm_head);
    c.add_matrix("output.weight", lm_head, d_model, n_vocab);
  }
  return n_vocab;
}

// ---------------------------------------------------------------------------------------------
// Entry points

bool is_checkpoint_dir(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_directory(path, ec);
}

std::unique_ptr<GgufFile> load_checkpoint(const std::string& dir, const ConvertOptions& opt) {
  ThreadPool pool(threads_or_all(opt.n_threads));
  auto c = prepare_checked(dir, opt, pool);
  finish_metadata(*c);
  return c->out.to_memory(dir);
}

void quantize_model(const std::string& in, const std::string& out, DType type, int n_threads) {
  check_target_type(type);
  ThreadPool pool(threads_or_all(n_threads));
  if (is_checkpoint_dir(in)) {
    ConvertOptions opt;
    opt.quant = type;
    auto c = prepare_checked(in, opt, pool);
    POCKET_CHECK(c->has_tokenizer,
                 "checkpoint '{}': its tokenizer.json has no GGUF form Pocket can write (a normalizer, or a "
                 "pre-tokenizer other than smollm, gpt-2, llama-bpe, tekken or qwen2); run the folder directly with -m",
                 in);
    finish_metadata(*c);
    c->out.write_file(out);
    return;
  }
  auto f = GgufFile::open(in);
  GgufStreamWriter w;
  w.copy_metadata(*f, [](std::string_view k) { return k == "general.file_type" || k == "general.quantization_version"; });
  GgufWriter extra;
  add_file_type(extra, type);
  const std::vector<uint8_t> extra_bytes = extra.to_bytes();
  auto extra_file = GgufFile::parse(extra_bytes.data(), extra_bytes.size(), "<metadata>");
  w.copy_metadata(*extra_file);
  for (const GgufTensorInfo& t : f->tensors()) {
    std::vector<int64_t> dims(t.ne, t.ne + t.n_dims);
    const TypeTraits& st = type_traits(t.type);
    const bool convertible = st.supported;
    DType target = t.type;
    if (convertible) target = t.n_dims >= 2 ? matrix_type_for(type, t.ne[0]) : DType::F32;
    const GgufTensorInfo* src = &t;
    if (target == t.type) {
      w.add_tensor(t.name, target, dims, [src](uint8_t* dst) { std::memcpy(dst, src->data, src->nbytes); });
      continue;
    }
    const int64_t n_in = t.ne[0], rows = t.n_elements() / std::max<int64_t>(1, t.ne[0]);
    ThreadPool* tp = &pool;
    w.add_tensor(t.name, target, dims, [=](uint8_t* dst) {
      const size_t in_rb = row_bytes(src->type, n_in), out_rb = row_bytes(target, n_in);
      tp->parallel_for(rows, [&](int64_t r0, int64_t r1, int) {
        std::vector<float> row(static_cast<size_t>(n_in));
        for (int64_t r = r0; r < r1; ++r) {
          dequantize_row(src->type, src->data + static_cast<size_t>(r) * in_rb, row.data(), n_in);
          quantize_row(target, row.data(), dst + static_cast<size_t>(r) * out_rb, n_in);
        }
      });
    });
  }
  w.write_file(out);
}

}  // namespace pocket
