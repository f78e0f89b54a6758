// Test helpers for checkpoint folders: a safetensors writer, and an exporter that writes a GGUF
// model's weights as a Hugging Face checkpoint (HF names, [out, in] shapes, Q/K rows back in
// the rotate_half order), so a folder and a GGUF with the same weights can be compared.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/fp16.h"
#include "io/gguf.h"
#include "io/safetensors.h"
#include "quant/types.h"

namespace pocket::test {

struct StEntry {
  std::string name, dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
};

inline size_t st_elem_size(const std::string& dt) {
  if (dt == "F32" || dt == "I32") return 4;
  if (dt == "F16" || dt == "BF16") return 2;
  if (dt == "F64" || dt == "I64") return 8;
  return 1;
}

// Serializes entries as the reference serializer does: larger elements first (so every tensor
// is aligned to its element size), header padded with spaces to a multiple of 8.
inline std::vector<uint8_t> safetensors_bytes(std::vector<StEntry> es, const nlohmann::json& meta = nullptr) {
  std::stable_sort(es.begin(), es.end(),
                   [](const StEntry& a, const StEntry& b) { return st_elem_size(a.dtype) > st_elem_size(b.dtype); });
  nlohmann::json h = nlohmann::json::object();
  uint64_t off = 0;
  for (const StEntry& e : es) {
    h[e.name] = {{"dtype", e.dtype}, {"shape", e.shape}, {"data_offsets", {off, off + e.bytes.size()}}};
    off += e.bytes.size();
  }
  if (!meta.is_null()) h["__metadata__"] = meta;
  std::string s = h.dump();
  while ((8 + s.size()) % 8) s += ' ';
  std::vector<uint8_t> out(8);
  const uint64_t n = s.size();
  std::memcpy(out.data(), &n, 8);
  out.insert(out.end(), s.begin(), s.end());
  for (const StEntry& e : es) out.insert(out.end(), e.bytes.begin(), e.bytes.end());
  return out;
}

inline void write_bytes(const std::string& path, const std::vector<uint8_t>& b) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}
inline void write_text(const std::string& path, const std::string& s) {
  std::ofstream f(path, std::ios::binary);
  f << s;
}

// e4m3 code whose value is exactly v (values are generated from codes), or fails.
inline uint8_t f8_e4m3_code(float v) {
  for (int c = 0; c < 256; ++c)
    if (c != 0x7f && c != 0xff && f8_e4m3_to_f32(static_cast<uint8_t>(c)) == v) return static_cast<uint8_t>(c);
  throw std::runtime_error("value not representable in e4m3");
}

inline StEntry float_entry(const std::string& name, const std::string& dtype, std::vector<int64_t> shape,
                           const std::vector<float>& v) {
  StEntry e{name, dtype, std::move(shape), {}};
  if (dtype == "F32") {
    e.bytes.resize(v.size() * 4);
    std::memcpy(e.bytes.data(), v.data(), e.bytes.size());
  } else {
    e.bytes.resize(v.size() * 2);
    for (size_t i = 0; i < v.size(); ++i) {
      const uint16_t h = dtype == "F16" ? f32_to_fp16(v[i]) : f32_to_bf16(v[i]);
      std::memcpy(e.bytes.data() + 2 * i, &h, 2);
    }
  }
  return e;
}

struct ExportOptions {
  std::string prefix = "model.";       // text weights prefix (model., model.text_model., model.language_model.)
  std::string dtype = "F32";           // F32, F16, BF16, or F8_E4M3 for matrices (others BF16)
  float fp8_scale = 1.0f / 32;         // per-tensor weight_scale_inv for F8_E4M3
  int64_t fp8_block = 0;               // > 0: block scales over fp8_block x fp8_block tiles instead
  bool shard = false;                  // two files + model.safetensors.index.json
};

// The scale of tile (rb, cb) in block-scaled FP8 test checkpoints (powers of two: exact).
inline float fp8_block_scale(int64_t rb, int64_t cb) { return std::ldexp(1.0f, -5 - static_cast<int>((rb + 2 * cb) % 3)); }

// Writes every tensor of `g` (llama-family GGUF names) into `dir` with Hugging Face names.
inline void export_checkpoint(const GgufFile& g, const std::string& dir, const ExportOptions& o, int64_t n_heads,
                              int64_t n_kv) {
  std::filesystem::create_directories(dir);
  std::vector<StEntry> entries;
  for (const GgufTensorInfo& t : g.tensors()) {
    const int64_t n_in = t.ne[0], rows = t.n_dims == 1 ? 1 : t.ne[1];
    std::vector<float> v(static_cast<size_t>(n_in * rows));
    const size_t rb = row_bytes(t.type, n_in);
    for (int64_t r = 0; r < rows; ++r) dequantize_row(t.type, t.data + r * rb, v.data() + r * n_in, n_in);
    std::string hf;
    int64_t heads = 0;
    const std::string& n = t.name;
    if (n == "token_embd.weight") hf = o.prefix + "embed_tokens.weight";
    else if (n == "output_norm.weight") hf = o.prefix + "norm.weight";
    else if (n == "output.weight") hf = "lm_head.weight";
    else {
      const size_t dot = n.find('.', 4);
      const std::string il = n.substr(4, dot - 4), rest = n.substr(dot + 1);
      const std::string L = o.prefix + "layers." + il + ".";
      if (rest == "attn_norm.weight") hf = L + "input_layernorm.weight";
      else if (rest == "ffn_norm.weight") hf = L + "post_attention_layernorm.weight";
      else if (rest == "attn_q.weight") hf = L + "self_attn.q_proj.weight", heads = n_heads;
      else if (rest == "attn_k.weight") hf = L + "self_attn.k_proj.weight", heads = n_kv;
      else if (rest == "attn_v.weight") hf = L + "self_attn.v_proj.weight";
      else if (rest == "attn_output.weight") hf = L + "self_attn.o_proj.weight";
      else if (rest == "ffn_gate.weight") hf = L + "mlp.gate_proj.weight";
      else if (rest == "ffn_up.weight") hf = L + "mlp.up_proj.weight";
      else if (rest == "ffn_down.weight") hf = L + "mlp.down_proj.weight";
      else throw std::runtime_error("unexpected tensor " + n);
    }
    if (heads > 0) {
      // GGUF row h*hd + 2i + j holds HF row h*hd + j*hd/2 + i (llama.cpp's permute, inverted).
      std::vector<float> p(v.size());
      const int64_t hd = rows / heads;
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t h = r / hd, k = r % hd;
        const int64_t hf_row = h * hd + (k % 2) * (hd / 2) + k / 2;
        std::copy(v.begin() + r * n_in, v.begin() + (r + 1) * n_in, p.begin() + hf_row * n_in);
      }
      v.swap(p);
    }
    std::vector<int64_t> shape = t.n_dims == 1 ? std::vector<int64_t>{n_in} : std::vector<int64_t>{rows, n_in};
    const bool matrix = t.n_dims == 2 && n != "token_embd.weight" && n != "output.weight";
    if (o.dtype == "F8_E4M3" && matrix) {
      StEntry e{hf, "F8_E4M3", shape, std::vector<uint8_t>(v.size())};
      const int64_t bs = o.fp8_block;
      for (size_t i = 0; i < v.size(); ++i) {
        const int64_t r = static_cast<int64_t>(i) / n_in, k = static_cast<int64_t>(i) % n_in;
        e.bytes[i] = f8_e4m3_code(v[i] / (bs > 0 ? fp8_block_scale(r / bs, k / bs) : o.fp8_scale));
      }
      entries.push_back(std::move(e));
      if (bs > 0) {
        const int64_t gr = (rows + bs - 1) / bs, gc = (n_in + bs - 1) / bs;
        std::vector<float> grid;
        for (int64_t r = 0; r < gr; ++r)
          for (int64_t k = 0; k < gc; ++k) grid.push_back(fp8_block_scale(r, k));
        entries.push_back(float_entry(hf + "_scale_inv", "F32", {gr, gc}, grid));
      } else {
        entries.push_back(float_entry(hf + "_scale_inv", "F32", {}, {o.fp8_scale}));
      }
      entries.push_back(float_entry(hf.substr(0, hf.size() - 6) + "activation_scale", "F32", {}, {0.5f}));
    } else {
      entries.push_back(float_entry(hf, o.dtype == "F8_E4M3" ? "BF16" : o.dtype, shape, v));
    }
  }
  if (!o.shard) {
    write_bytes(dir + "/model.safetensors", safetensors_bytes(entries, {{"format", "pt"}}));
    return;
  }
  std::vector<StEntry> a, b;
  nlohmann::json map = nlohmann::json::object();
  for (size_t i = 0; i < entries.size(); ++i) {
    const bool first = i < entries.size() / 2;
    map[entries[i].name] = first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
    (first ? a : b).push_back(entries[i]);
  }
  write_bytes(dir + "/model-00001-of-00002.safetensors", safetensors_bytes(a));
  write_bytes(dir + "/model-00002-of-00002.safetensors", safetensors_bytes(b));
  write_text(dir + "/model.safetensors.index.json",
             nlohmann::json({{"metadata", {{"total_size", 0}}}, {"weight_map", map}}).dump(1));
}

// A tokenizer.json (byte-level BPE) holding a GGUF gpt2 vocabulary: control tokens become
// special added tokens, the rest the BPE vocabulary with the GGUF merges.
inline std::string tokenizer_json_from_gguf(const GgufFile& g, const nlohmann::json& pre_tokenizer, bool ignore_merges,
                                            bool bos_template) {
  const GgufArray* toks = g.get_array("tokenizer.ggml.tokens");
  const GgufArray* types = g.get_array("tokenizer.ggml.token_type");
  const GgufArray* merges = g.get_array("tokenizer.ggml.merges");
  nlohmann::json vocab = nlohmann::json::object(), added = nlohmann::json::array();
  for (uint64_t i = 0; i < toks->count; ++i) {
    const std::string s(toks->strings[i]);
    const int64_t ty = types->int_at(i);
    if (ty == 1) {
      vocab[s] = i;
    } else {
      vocab[s] = i;
      added.push_back({{"id", i}, {"content", s}, {"single_word", false}, {"lstrip", false}, {"rstrip", false},
                       {"normalized", false}, {"special", ty != 4}});
    }
  }
  nlohmann::json m = nlohmann::json::array();
  for (std::string_view s : merges->strings) m.push_back(std::string(s));
  nlohmann::json j = {{"version", "1.0"},
                      {"truncation", nullptr},
                      {"padding", nullptr},
                      {"added_tokens", added},
                      {"normalizer", nullptr},
                      {"pre_tokenizer", pre_tokenizer},
                      {"post_processor", nullptr},
                      {"decoder", {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}}},
                      {"model",
                       {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"continuing_subword_prefix", nullptr},
                        {"end_of_word_suffix", nullptr}, {"fuse_unk", false}, {"byte_fallback", false},
                        {"ignore_merges", ignore_merges}, {"vocab", vocab}, {"merges", m}}}};
  if (bos_template) {
    j["post_processor"] = {{"type", "TemplateProcessing"},
                           {"single", {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
                           {"pair", {{{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
                           {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {1}}, {"tokens", {"<s>"}}}}}}};
  }
  return j.dump();
}

}  // namespace pocket::test
