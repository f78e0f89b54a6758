// Generates real-shaped synthetic GGUF models (random weights, deterministic seed) for
// benchmarks: the shapes of SmolVLM2-256M / 2.2B text decoders and Ministral 3 3B, in any
// weight type Pocket supports (q4_k_m / q5_k_m = llama.cpp's Q4_K_M / Q5_K_M mixes). The files are valid for
// llama.cpp too, so both engines can be measured on the same bytes.
//
//   pocket-make-model --preset smolvlm2-256m --type q8_0 -o 256m-q8_0.gguf [--vocab-from tiny-smol-q8_0.gguf]
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "noise.h"
#include "core/error.h"
#include "io/gguf.h"
#include "io/gguf_writer.h"
#include "quant/types.h"

namespace pocket {
namespace {

struct Preset {
  std::string name, arch;
  int64_t d_model, n_layers, n_heads, n_kv_heads, head_dim, d_ff, n_vocab, n_ctx;
  float rope_theta;
  bool tied;
};

const Preset kPresets[] = {
    {"smolvlm2-256m", "llama", 576, 30, 9, 3, 64, 1536, 49280, 8192, 100000.0f, false},
    {"smolvlm2-500m", "llama", 960, 32, 15, 5, 64, 2560, 49280, 8192, 100000.0f, false},
    {"smolvlm2-2.2b", "llama", 2048, 24, 32, 32, 64, 8192, 49280, 16384, 273768.0f, false},
    {"ministral3-3b", "mistral3", 3072, 26, 32, 8, 128, 9216, 131072, 262144, 1000000.0f, true},
};

using bench::Noise;

std::vector<uint8_t> make_matrix(Noise& noise, DType type, int64_t n_in, int64_t n_out, float scale) {
  const size_t rb = row_bytes(type, n_in);
  std::vector<uint8_t> out(rb * n_out);
  std::vector<float> vals(static_cast<size_t>(n_in * n_out));
  noise.fill(vals.data(), static_cast<int64_t>(vals.size()), scale);
  const int nt = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> ts;
  for (int t = 0; t < nt; ++t)
    ts.emplace_back([&, t] {
      for (int64_t r = t; r < n_out; r += nt) quantize_row(type, vals.data() + r * n_in, out.data() + r * rb, n_in);
    });
  for (auto& th : ts) th.join();
  return out;
}

// GPT-2 byte -> unicode mapping (printable bytes map to themselves).
std::string byte_token(int b) {
  int cp;
  if ((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255)) {
    cp = b;
  } else {
    int n = 0;
    for (int x = 0; x < b; ++x)
      if (!((x >= 33 && x <= 126) || (x >= 161 && x <= 172) || (x >= 174 && x <= 255))) ++n;
    cp = 256 + n;
  }
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

void write_vocab(GgufWriter& w, const Preset& p, const std::string& donor) {
  if (!donor.empty()) {
    auto f = GgufFile::open(donor);
    const GgufArray* toks = f->get_array("tokenizer.ggml.tokens");
    POCKET_CHECK(toks && static_cast<int64_t>(toks->count) == p.n_vocab, "--vocab-from: {} has no {}-token vocabulary", donor,
                 p.n_vocab);
    std::vector<std::string> tokens(toks->strings.begin(), toks->strings.end());
    w.set_string("tokenizer.ggml.model", f->get_string_or("tokenizer.ggml.model", "gpt2"));
    w.set_string("tokenizer.ggml.pre", f->get_string_or("tokenizer.ggml.pre", "default"));
    w.set_array_string("tokenizer.ggml.tokens", tokens);
    const GgufArray* types = f->get_array("tokenizer.ggml.token_type");
    std::vector<int32_t> tt;
    for (uint64_t i = 0; types && i < types->count; ++i) tt.push_back(static_cast<int32_t>(types->int_at(i)));
    w.set_array_i32("tokenizer.ggml.token_type", tt);
    if (const GgufArray* m = f->get_array("tokenizer.ggml.merges"))
      w.set_array_string("tokenizer.ggml.merges", std::vector<std::string>(m->strings.begin(), m->strings.end()));
    w.set_u32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(f->get_int_or("tokenizer.ggml.bos_token_id", 1)));
    w.set_u32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(f->get_int_or("tokenizer.ggml.eos_token_id", 2)));
    w.set_bool("tokenizer.ggml.add_bos_token", f->get_bool_or("tokenizer.ggml.add_bos_token", false));
    return;
  }
  // Synthetic byte-level vocabulary: 3 control tokens, 256 byte tokens, filler pieces.
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  std::vector<int32_t> types = {2, 3, 3};
  for (int b = 0; b < 256; ++b) {
    tokens.push_back(byte_token(b));
    types.push_back(1);
  }
  while (static_cast<int64_t>(tokens.size()) < p.n_vocab) {
    tokens.push_back("<filler_" + std::to_string(tokens.size()) + ">");
    types.push_back(5);  // unused
  }
  w.set_string("tokenizer.ggml.model", "gpt2");
  w.set_string("tokenizer.ggml.pre", p.arch == "mistral3" ? "tekken" : "gpt-2");
  w.set_array_string("tokenizer.ggml.tokens", tokens);
  w.set_array_i32("tokenizer.ggml.token_type", types);
  w.set_array_string("tokenizer.ggml.merges", {});
  w.set_u32("tokenizer.ggml.bos_token_id", 1);
  w.set_u32("tokenizer.ggml.eos_token_id", 2);
  w.set_bool("tokenizer.ggml.add_bos_token", true);
}

// llama.cpp's Q4_K_M / Q5_K_M rule for the tensors that get 6 bits (llama-quant.cpp use_more_bits).
bool use_more_bits(int64_t i, int64_t n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

void make(const Preset& p, const std::string& type_name, const std::string& out, const std::string& donor) {
  // The _M mixes: Q4_K or Q5_K, with Q6_K for the output and the use_more_bits layers' attn_v / ffn_down.
  const bool q4km = type_name == "q4_k_m" || type_name == "q5_k_m";
  auto base = type_name == "q4_k_m"   ? std::optional<DType>(DType::Q4_K)
              : type_name == "q5_k_m" ? std::optional<DType>(DType::Q5_K)
                                      : dtype_from_name(type_name);
  POCKET_CHECK(base.has_value(), "unknown weight type '{}'", type_name);
  GgufWriter w;
  const std::string a = p.arch + ".";
  w.set_string("general.architecture", p.arch);
  w.set_string("general.name", "synthetic-" + p.name + "-" + type_name);
  w.set_u32(a + "context_length", static_cast<uint32_t>(p.n_ctx));
  w.set_u32(a + "embedding_length", static_cast<uint32_t>(p.d_model));
  w.set_u32(a + "block_count", static_cast<uint32_t>(p.n_layers));
  w.set_u32(a + "feed_forward_length", static_cast<uint32_t>(p.d_ff));
  w.set_u32(a + "attention.head_count", static_cast<uint32_t>(p.n_heads));
  w.set_u32(a + "attention.head_count_kv", static_cast<uint32_t>(p.n_kv_heads));
  w.set_u32(a + "attention.key_length", static_cast<uint32_t>(p.head_dim));
  w.set_u32(a + "attention.value_length", static_cast<uint32_t>(p.head_dim));
  w.set_u32(a + "rope.dimension_count", static_cast<uint32_t>(p.head_dim));
  w.set_f32(a + "rope.freq_base", p.rope_theta);
  w.set_f32(a + "attention.layer_norm_rms_epsilon", 1e-5f);
  w.set_u32(a + "vocab_size", static_cast<uint32_t>(p.n_vocab));
  if (p.arch == "mistral3") {
    w.set_string(a + "rope.scaling.type", "yarn");
    w.set_f32(a + "rope.scaling.factor", 16.0f);
    w.set_u32(a + "rope.scaling.original_context_length", 16384);
    w.set_f32(a + "rope.scaling.yarn_beta_fast", 32.0f);
    w.set_f32(a + "rope.scaling.yarn_beta_slow", 1.0f);
    w.set_f32(a + "rope.scaling.yarn_log_multiplier", 1.0f);
    w.set_f32(a + "attention.temperature_scale", 0.1f);
  }
  write_vocab(w, p, donor);

  Noise noise(1234, size_t{1} << 22);
  auto pick = [&](DType t, int64_t n_in) {
    // K-quants need rows that are multiples of 256; fall back as llama.cpp does.
    if (type_traits(t).block_size > 1 && n_in % type_traits(t).block_size != 0) return DType::Q8_0;
    return t;
  };
  const float s = 0.02f;
  auto mat = [&](const std::string& name, DType t, int64_t n_in, int64_t n_out) {
    t = pick(t, n_in);
    w.add_tensor(name, t, {n_in, n_out}, make_matrix(noise, t, n_in, n_out, s));
  };
  auto vec = [&](const std::string& name, int64_t n) {
    std::vector<float> v(n);
    noise.fill(v.data(), n, 0.05f);
    for (auto& x : v) x += 1.0f;
    w.add_tensor_f32(name, DType::F32, {n}, v);
  };
  const DType t = *base;
  const DType t6 = q4km ? DType::Q6_K : t;
  mat("token_embd.weight", p.tied ? t6 : t, p.d_model, p.n_vocab);
  for (int64_t il = 0; il < p.n_layers; ++il) {
    const std::string b = "blk." + std::to_string(il) + ".";
    const bool more = q4km && use_more_bits(il, p.n_layers);
    vec(b + "attn_norm.weight", p.d_model);
    mat(b + "attn_q.weight", t, p.d_model, p.n_heads * p.head_dim);
    mat(b + "attn_k.weight", t, p.d_model, p.n_kv_heads * p.head_dim);
    mat(b + "attn_v.weight", more ? t6 : t, p.d_model, p.n_kv_heads * p.head_dim);
    mat(b + "attn_output.weight", t, p.n_heads * p.head_dim, p.d_model);
    vec(b + "ffn_norm.weight", p.d_model);
    mat(b + "ffn_gate.weight", t, p.d_model, p.d_ff);
    mat(b + "ffn_up.weight", t, p.d_model, p.d_ff);
    mat(b + "ffn_down.weight", more ? t6 : t, p.d_ff, p.d_model);
    std::fprintf(stderr, "\rlayer %lld/%lld", static_cast<long long>(il + 1), static_cast<long long>(p.n_layers));
  }
  vec("output_norm.weight", p.d_model);
  if (!p.tied) mat("output.weight", t6, p.d_model, p.n_vocab);
  w.write(out);
  std::fprintf(stderr, "\nwrote %s\n", out.c_str());
}

}  // namespace
}  // namespace pocket

int main(int argc, char** argv) {
  CLI::App app{"Generate a real-shaped synthetic GGUF model for benchmarks"};
  std::string preset, type = "q8_0", out, donor;
  app.add_option("--preset", preset, "smolvlm2-256m | smolvlm2-500m | smolvlm2-2.2b | ministral3-3b")->required();
  app.add_option("--type", type, "Weight type: f16, q8_0, q4_0, q4_k_m, q5_k_m, q6_k, q3_k, ...");
  app.add_option("-o,--output", out, "Output GGUF")->required();
  app.add_option("--vocab-from", donor, "Copy the tokenizer from this GGUF (same vocabulary size)");
  CLI11_PARSE(app, argc, argv);
  try {
    for (const auto& p : pocket::kPresets)
      if (p.name == preset) {
        pocket::make(p, type, out, donor);
        return 0;
      }
    std::fprintf(stderr, "error: unknown preset '%s'\n", preset.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
  }
  return 1;
}
