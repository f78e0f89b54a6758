// Hugging Face checkpoint folders and `pocket quantize`.
// - The shared tiny GGUFs written back as HF checkpoints (HF names and layouts, Q/K rows in the
//   rotate_half order) must reproduce llama.cpp's logits in ../shared/golden/text within that
//   README's tolerance (NMSE <= 1e-3, arg-max agreement >= 90%), and their tokenizer the
//   Hugging Face ids in ../shared/golden/tokenizer exactly.
// - Synthetic checkpoints whose weights are exact in BF16 / FP8-with-scales / F32 must convert
//   to the same bytes as a GGUF written from the same values, and give the same logits.
// - GGUF -> GGUF and folder -> GGUF quantization, through the library and the CLI.
// - Malformed folders fail with pocket::Error naming the problem.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <random>

#include "apps/cli_util.h"
#include "core/error.h"
#include "io/gguf_writer.h"
#include "models/hf_checkpoint.h"
#include "vision/checkpoint.h"
#include "models/hf_test_util.h"
#include "runtime/engine.h"
#include "test_util.h"
#include "vision/vision_encoder.h"

namespace pocket {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr const char* kTekkenRegex =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// Per process: CTest runs every test case as its own process, several at once (-j), and the
// cached checkpoints below would otherwise be rebuilt under a concurrent reader.
std::string scratch(const std::string& name) {
  const std::string d = test::binary_path("hf_checkpoint_tmp/" + std::to_string(getpid()) + "/" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::vector<float> all_logits(Engine& e, const std::vector<int32_t>& ids) {
  SessionOptions so;
  so.n_ctx = static_cast<int64_t>(ids.size()) + 8;
  so.n_batch = 64;
  Session s(e, so);
  const int64_t nv = e.hparams().n_vocab;
  std::vector<float> out(ids.size() * static_cast<size_t>(nv));
  s.eval_all(ids, [&](int64_t i, const float* row) { std::copy(row, row + nv, out.begin() + i * nv); });
  return out;
}

// The golden-text tolerance: NMSE <= 1e-3 and arg-max agreement >= 90%.
void expect_close(const std::vector<float>& got, const std::vector<float>& want, int64_t nv, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  const double err = test::nmse(got.data(), want.data(), got.size());
  const size_t rows = want.size() / static_cast<size_t>(nv);
  size_t agree = 0;
  for (size_t i = 0; i < rows; ++i) agree += test::argmax_of(got.data() + i * nv, nv) == test::argmax_of(want.data() + i * nv, nv);
  EXPECT_LE(err, 1e-3) << what;
  EXPECT_GE(static_cast<double>(agree) / rows, 0.90) << what;
  std::printf("  %-40s nmse %.3e  argmax %zu/%zu\n", what.c_str(), err, agree, rows);
}

struct Golden {
  std::vector<int32_t> ids;
  std::vector<float> logits;
  int64_t nv;
};
Golden golden(const std::string& name) {
  const json meta = json::parse(test::read_text(test::shared_path("golden/text/" + name + ".json")));
  return {meta["prompt_ids"].get<std::vector<int32_t>>(), test::read_f32(test::shared_path("golden/text/" + name + ".logits.f32")),
          meta["n_vocab"].get<int64_t>()};
}

EngineOptions engine_opts(DType quant) {
  EngineOptions o;
  o.n_threads = 2;
  o.quant = quant;
  return o;
}

// tiny-smol-f16.gguf as a SmolVLM2 checkpoint (text model under model.text_model.*), F16
// weights (exact), two shards, the real SmolVLM2 tokenizer.json and chat template.
std::string smol_checkpoint() {
  static std::string dir;
  if (!dir.empty()) return dir;
  dir = scratch("smolvlm");
  auto g = GgufFile::open(test::shared_path("models/tiny-smol-f16.gguf"));
  test::ExportOptions o;
  o.prefix = "model.text_model.";
  o.dtype = "F16";
  o.shard = true;
  test::export_checkpoint(*g, dir, o, 4, 2);
  const json text = {{"model_type", "llama"},         {"hidden_size", 64},     {"intermediate_size", 128},
                     {"num_hidden_layers", 2},        {"num_attention_heads", 4}, {"num_key_value_heads", 2},
                     {"head_dim", 16},                {"max_position_embeddings", 8192}, {"rms_norm_eps", 1e-5},
                     {"rope_theta", 100000.0},        {"vocab_size", 49280},   {"hidden_act", "silu"},
                     {"tie_word_embeddings", false}};
  test::write_text(dir + "/config.json", json({{"architectures", {"SmolVLMForConditionalGeneration"}},
                                               {"model_type", "smolvlm"},
                                               {"text_config", text},
                                               {"vision_config", {{"hidden_size", 64}}},
                                               {"tie_word_embeddings", false}})
                                             .dump(1));
  fs::copy_file(test::shared_path("tokenizers/smolvlm2/tokenizer.json"), dir + "/tokenizer.json");
  fs::copy_file(test::shared_path("templates/smolvlm2.jinja"), dir + "/chat_template.jinja");
  // The special tokens SmolVLM2's tokenizer_config.json names (ids as in tiny-smol's metadata).
  test::write_text(dir + "/tokenizer_config.json",
                   json({{"bos_token", "<|im_start|>"}, {"eos_token", "<end_of_utterance>"}, {"unk_token", "<|endoftext|>"},
                         {"pad_token", "<|im_end|>"}, {"add_bos_token", false}})
                       .dump());
  return dir;
}

json ministral_text_config() {
  return {{"model_type", "ministral3"},
          {"hidden_size", 256},
          {"intermediate_size", 512},
          {"num_hidden_layers", 2},
          {"num_attention_heads", 8},
          {"num_key_value_heads", 2},
          {"head_dim", 64},
          {"max_position_embeddings", 4096},
          {"rms_norm_eps", 1e-5},
          {"vocab_size", 1024},
          {"hidden_act", "silu"},
          {"tie_word_embeddings", true},
          {"sliding_window", nullptr},
          {"rope_parameters",
           {{"rope_type", "yarn"}, {"rope_theta", 1000000.0}, {"factor", 16.0}, {"original_max_position_embeddings", 64},
            {"beta_fast", 32.0}, {"beta_slow", 1.0}, {"mscale", 1.0}, {"mscale_all_dim", 1.0}, {"llama_4_scaling_beta", 0.1}}}};
}

void write_ministral_tokenizer(const GgufFile& g, const std::string& dir) {
  const json pre = {{"type", "Sequence"},
                    {"pretokenizers",
                     {{{"type", "Split"}, {"pattern", {{"Regex", kTekkenRegex}}}, {"behavior", "Isolated"}, {"invert", false}},
                      {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", false}}}}};
  test::write_text(dir + "/tokenizer.json", test::tokenizer_json_from_gguf(g, pre, true, true));
  test::write_text(dir + "/tokenizer_config.json",
                   json({{"bos_token", "<s>"}, {"eos_token", "</s>"}, {"unk_token", "<unk>"}}).dump());
  test::write_text(dir + "/chat_template.jinja", g.get_string_or("tokenizer.chat_template", ""));
}

// tiny-ministral3-f16.gguf as a Mistral3ForConditionalGeneration checkpoint, F32 weights, tied.
std::string ministral_checkpoint() {
  static std::string dir;
  if (!dir.empty()) return dir;
  dir = scratch("ministral3");
  auto g = GgufFile::open(test::shared_path("models/tiny-ministral3-f16.gguf"));
  test::ExportOptions o;
  o.prefix = "model.language_model.";
  test::export_checkpoint(*g, dir, o, 8, 2);
  const json vision = {{"model_type", "pixtral"}, {"hidden_size", 64},   {"intermediate_size", 128},
                       {"num_hidden_layers", 2},    {"num_attention_heads", 4}, {"head_dim", 16},
                       {"image_size", 1540},        {"patch_size", 14},   {"rope_theta", 10000.0},
                       {"hidden_act", "silu"}};
  test::write_text(dir + "/config.json", json({{"architectures", {"Mistral3ForConditionalGeneration"}},
                                               {"model_type", "mistral3"},
                                               {"text_config", ministral_text_config()},
                                               {"vision_config", vision},
                                               {"spatial_merge_size", 2},
                                               {"image_token_index", 10}})
                                             .dump(1));
  test::write_text(dir + "/preprocessor_config.json",
                   json({{"image_mean", {0.48145466, 0.4578275, 0.40821073}}, {"image_std", {0.26862954, 0.26130258, 0.27577711}}})
                       .dump());
  write_ministral_tokenizer(*g, dir);
  // The Pixtral tower of tiny-pixtral-mmproj under its transformers v5 names, Q/K rows back in
  // the rotate_half order (llama.cpp permutes them on conversion, conversion/llava.py).
  auto mm = GgufFile::open(test::shared_path("models/tiny-pixtral-mmproj.gguf"));
  std::vector<test::StEntry> es;
  for (const GgufTensorInfo& t : mm->tensors()) {
    const std::string& n = t.name;
    if (n == "v.token_embd.img_break") continue;  // comes from the text embedding
    const std::string vt = "model.vision_tower.", mp = "model.multi_modal_projector.";
    std::string hf;
    int64_t heads = 0;
    if (n == "v.patch_embd.weight") hf = vt + "patch_conv.weight";
    else if (n == "v.pre_ln.weight") hf = vt + "ln_pre.weight";
    else if (n == "mm.input_norm.weight") hf = mp + "norm.weight";
    else if (n == "mm.patch_merger.weight") hf = mp + "patch_merger.merging_layer.weight";
    else if (n == "mm.1.weight") hf = mp + "linear_1.weight";
    else if (n == "mm.2.weight") hf = mp + "linear_2.weight";
    else {
      const size_t dot = n.find('.', 6);
      const std::string il = n.substr(6, dot - 6), rest = n.substr(dot + 1, n.size() - dot - 8);  // drop ".weight"
      const std::map<std::string, std::string> names = {
          {"attn_q", "attention.q_proj"}, {"attn_k", "attention.k_proj"}, {"attn_v", "attention.v_proj"},
          {"attn_out", "attention.o_proj"}, {"ffn_gate", "feed_forward.gate_proj"}, {"ffn_up", "feed_forward.up_proj"},
          {"ffn_down", "feed_forward.down_proj"}, {"ln1", "attention_norm"}, {"ln2", "ffn_norm"}};
      hf = vt + "transformer.layers." + il + "." + names.at(rest) + ".weight";
      if (rest == "attn_q" || rest == "attn_k") heads = 4;
    }
    std::vector<float> v(static_cast<size_t>(t.n_elements()));
    const int64_t rows = t.n_elements() / t.ne[0];
    for (int64_t r = 0; r < rows; ++r)
      dequantize_row(t.type, t.data + r * row_bytes(t.type, t.ne[0]), v.data() + r * t.ne[0], t.ne[0]);
    if (heads > 0) {
      std::vector<float> p(v.size());
      const int64_t hd = rows / heads, n_in = t.ne[0];
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t hf_row = (r / hd) * hd + (r % hd % 2) * (hd / 2) + (r % hd) / 2;
        std::copy(v.begin() + r * n_in, v.begin() + (r + 1) * n_in, p.begin() + hf_row * n_in);
      }
      v.swap(p);
    }
    std::vector<int64_t> shape(t.ne, t.ne + t.n_dims);
    std::reverse(shape.begin(), shape.end());
    es.push_back(test::float_entry(hf, "F32", shape, v));
  }
  test::write_bytes(dir + "/model-vision.safetensors", test::safetensors_bytes(es));
  return dir;
}

TEST(HfCheckpoint, SmolVlmFolderMatchesGoldenLogits) {
  const Golden gd = golden("tiny-smol-f16.chat");
  auto e = Engine::load(smol_checkpoint(), engine_opts(DType::F16));
  EXPECT_EQ(e->hparams().arch, "llama");
  EXPECT_FALSE(e->hparams().tied_output);
  expect_close(all_logits(*e, gd.ids), gd.logits, gd.nv, "smolvlm folder (F16)");
  // Default quantization (Q8_0) stays within the same tolerance.
  auto q = Engine::load(smol_checkpoint(), engine_opts(DType::Q8_0));
  expect_close(all_logits(*q, gd.ids), gd.logits, gd.nv, "smolvlm folder (Q8_0)");
}

TEST(HfCheckpoint, SmolVlmTokenizerMatchesHuggingFace) {
  auto e = Engine::load(smol_checkpoint(), engine_opts(DType::Q8_0));
  const json cases = json::parse(test::read_text(test::shared_path("golden/tokenizer/smolvlm2.json")));
  ASSERT_GT(cases.size(), 5u);
  for (const json& c : cases) {
    const std::string text = c["text"].get<std::string>();
    EXPECT_EQ(e->tokenizer().encode(text, false, true), c["ids"].get<std::vector<int32_t>>()) << text;
  }
  // The vocabulary metadata equals what llama.cpp wrote for the same tokenizer.
  auto ref = GgufFile::open(test::shared_path("models/tiny-smol-f16.gguf"));
  const GgufFile& got = e->file();
  for (const char* key : {"tokenizer.ggml.tokens", "tokenizer.ggml.merges"}) {
    const GgufArray* a = got.get_array(key);
    const GgufArray* b = ref->get_array(key);
    ASSERT_TRUE(a && b) << key;
    EXPECT_EQ(a->strings, b->strings) << key;
  }
  for (const char* key : {"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.unknown_token_id",
                          "tokenizer.ggml.padding_token_id"})
    EXPECT_EQ(got.get_int(key), ref->get_int(key)) << key;
  EXPECT_EQ(got.get_string_or("tokenizer.ggml.pre", ""), "smollm");
  EXPECT_EQ(got.get_bool("tokenizer.ggml.add_bos_token"), std::optional<bool>(false));
  EXPECT_EQ(got.get_string_or("tokenizer.chat_template", ""), test::read_text(test::shared_path("templates/smolvlm2.jinja")));
  EXPECT_TRUE(e->tokenizer().is_eog(49279));  // <end_of_utterance>
}

TEST(HfCheckpoint, MinistralFolderMatchesGoldenLogits) {
  const Golden gd = golden("tiny-ministral3-f16.long");
  auto e = Engine::load(ministral_checkpoint(), engine_opts(DType::F16));
  EXPECT_EQ(e->hparams().arch, "mistral3");
  EXPECT_TRUE(e->hparams().tied_output);
  EXPECT_FLOAT_EQ(e->hparams().attn_temp_beta, 0.1f);
  EXPECT_EQ(e->hparams().rope.n_ctx_orig, 64);
  expect_close(all_logits(*e, gd.ids), gd.logits, gd.nv, "ministral3 folder (F16)");
  // Tekken vocabulary: BOS added as the post-processor says, control tokens matched whole.
  EXPECT_EQ(e->tokenizer().encode("[INST]", true, true), (std::vector<int32_t>{1, 3}));
}

// Folder -> GGUF with `quantize_model` gives the bytes Engine::load(folder) builds in memory.
TEST(HfCheckpoint, QuantizeFolderToGguf) {
  const Golden gd = golden("tiny-ministral3-f16.long");
  const std::string out = scratch("quantize_dir") + "/ministral-q8_0.gguf";
  quantize_model(ministral_checkpoint(), out, DType::Q8_0, 2);
  auto from_file = Engine::load(out, engine_opts(DType::Q8_0));
  auto from_dir = Engine::load(ministral_checkpoint(), engine_opts(DType::Q8_0));
  for (const GgufTensorInfo& t : from_dir->file().tensors()) {
    const GgufTensorInfo* u = from_file->file().find_tensor(t.name);
    ASSERT_TRUE(u) << t.name;
    EXPECT_EQ(u->type, t.type) << t.name;
    ASSERT_EQ(u->nbytes, t.nbytes) << t.name;
    EXPECT_EQ(std::memcmp(u->data, t.data, t.nbytes), 0) << t.name;
  }
  EXPECT_EQ(from_file->file().find_tensor("blk.0.attn_q.weight")->type, DType::Q8_0);
  EXPECT_EQ(from_file->file().find_tensor("blk.0.attn_norm.weight")->type, DType::F32);
  expect_close(all_logits(*from_file, gd.ids), gd.logits, gd.nv, "ministral3 folder -> Q8_0 GGUF");
}

// The shared tiny-smol-{q4_0,q8_0} files were quantized (by llama.cpp) from the original weights,
// ours from tiny-smol-f16's F16-rounded ones: the blocks agree except where that rounding moves a
// value (>= 98% of the data bytes are identical, checked below), and the logits match those
// files' goldens within the README's NMSE bound. Being a slightly different file, the Q4_0 one
// flips two near-ties of the 15 positions (golden margins 0.065 and 0.11), so arg-max agreement
// is held to 80% here instead of 90%.
TEST(HfCheckpoint, QuantizeGgufMatchesGoldens) {
  const std::string dir = scratch("quantize_gguf");
  const Golden f16 = golden("tiny-smol-f16.chat");
  for (const auto& [type, name] : {std::pair{DType::Q4_0, std::string("q4_0")}, std::pair{DType::Q8_0, std::string("q8_0")}}) {
    SCOPED_TRACE(name);
    const std::string out = dir + "/smol-" + name + ".gguf";
    quantize_model(test::shared_path("models/tiny-smol-f16.gguf"), out, type, 2);
    auto e = Engine::load(out, engine_opts(type));
    EXPECT_EQ(e->file().find_tensor("token_embd.weight")->type, type);
    EXPECT_EQ(e->file().find_tensor("output_norm.weight")->type, DType::F32);
    auto shared = GgufFile::open(test::shared_path("models/tiny-smol-" + name + ".gguf"));
    size_t same = 0, total = 0;
    for (const GgufTensorInfo& t : shared->tensors()) {
      const GgufTensorInfo* u = e->file().find_tensor(t.name);
      ASSERT_TRUE(u && u->type == t.type && u->nbytes == t.nbytes) << t.name;
      for (size_t i = 0; i < t.nbytes; ++i) same += u->data[i] == t.data[i];
      total += t.nbytes;
    }
    EXPECT_GE(static_cast<double>(same) / total, 0.98);
    const Golden gd = golden("tiny-smol-" + name + ".chat");
    const std::vector<float> got = all_logits(*e, gd.ids);
    const double err = test::nmse(got.data(), gd.logits.data(), got.size());
    size_t agree = 0;
    for (size_t i = 0; i < gd.ids.size(); ++i)
      agree += test::argmax_of(got.data() + i * gd.nv, gd.nv) == test::argmax_of(gd.logits.data() + i * gd.nv, gd.nv);
    EXPECT_LE(err, 1e-3);
    EXPECT_GE(static_cast<double>(agree) / gd.ids.size(), 0.80);
    std::printf("  tiny-smol-f16 -> %-23s nmse %.3e  argmax %zu/%zu  %.2f%% identical bytes\n", name.c_str(), err, agree,
                gd.ids.size(), 100.0 * same / total);
  }
}

// The row order the exporter (and so, by the round trips above, the converter) uses is the one
// under which RoPE on adjacent pairs (GGUF, llama.cpp's NORM mode) equals HF's rotate_half RoPE
// (pairs d and d + hd/2, frequency index d): checked on one head numerically, independently of
// any model file. ref: transformers models/llama/modeling_llama.py rotate_half/apply_rotary_pos_emb.
TEST(HfCheckpoint, PermutationTurnsRotateHalfIntoAdjacentPairs) {
  const int hd = 16;
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<double> q_hf(hd);
  for (double& x : q_hf) x = u(rng);
  const int64_t pos = 5;
  auto freq = [&](int i) { return pos * std::pow(10000.0, -2.0 * i / hd); };
  std::vector<double> rot_hf(hd);  // HF: out[d] = q[d] cos - q[d+hd/2] sin; out[d+hd/2] = q[d+hd/2] cos + q[d] sin
  for (int d = 0; d < hd / 2; ++d) {
    const double c = std::cos(freq(d)), sn = std::sin(freq(d));
    rot_hf[d] = q_hf[d] * c - q_hf[d + hd / 2] * sn;
    rot_hf[d + hd / 2] = q_hf[d + hd / 2] * c + q_hf[d] * sn;
  }
  // GGUF order: row k = 2i + j holds HF row j*hd/2 + i (as export_checkpoint writes Q and K).
  auto hf_row = [&](int k) { return (k % 2) * (hd / 2) + k / 2; };
  std::vector<double> q_gg(hd), rot_gg(hd);
  for (int k = 0; k < hd; ++k) q_gg[k] = q_hf[hf_row(k)];
  for (int i = 0; i < hd / 2; ++i) {  // adjacent pairs (2i, 2i+1), frequency index i
    const double c = std::cos(freq(i)), sn = std::sin(freq(i));
    rot_gg[2 * i] = q_gg[2 * i] * c - q_gg[2 * i + 1] * sn;
    rot_gg[2 * i + 1] = q_gg[2 * i + 1] * c + q_gg[2 * i] * sn;
  }
  for (int k = 0; k < hd; ++k) EXPECT_NEAR(rot_gg[k], rot_hf[hf_row(k)], 1e-12) << k;
}

// ---------------------------------------------------------------------------------------------
// Synthetic checkpoints: weights exact in the checkpoint dtype, so the folder and a GGUF
// written from the same values must hold identical quantized bytes.

struct Synth {
  std::string dtype;  // BF16, F32, F8_E4M3
  bool tied;
  bool shard;
  DType quant;
  int64_t fp8_block = 0;  // block-scaled FP8 (weight_block_size) when > 0
};

float synth_value(std::mt19937& rng, const std::string& dtype, float fp8_scale) {
  if (dtype == "F8_E4M3") {
    // e4m3 codes with exponent fields 3..7 (|v| in [2^-4, 1.875]), times the tensor scale.
    const uint8_t code = static_cast<uint8_t>((rng() & 0x80) | ((3 + rng() % 5) << 3) | (rng() & 7));
    return f8_e4m3_to_f32(code) * fp8_scale;
  }
  std::uniform_real_distribution<float> u(-0.25f, 0.25f);
  const float v = u(rng);
  return dtype == "BF16" ? bf16_to_f32(f32_to_bf16(v)) : v;
}

void run_synthetic(const Synth& s, const std::string& name) {
  SCOPED_TRACE(name);
  auto tok = GgufFile::open(test::shared_path("models/tiny-ministral3-f16.gguf"));
  const int64_t d = 64, ff = 128, heads = 4, kv = 2, hd = 16, layers = 2, nv = 1024;
  const float fp8_scale = 1.0f / 64;
  std::mt19937 rng(1234);
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  w.set_u32("llama.context_length", 512);
  w.set_u32("llama.embedding_length", d);
  w.set_u32("llama.block_count", layers);
  w.set_u32("llama.feed_forward_length", ff);
  w.set_u32("llama.attention.head_count", heads);
  w.set_u32("llama.attention.head_count_kv", kv);
  w.set_f32("llama.rope.freq_base", 10000.0f);
  w.set_f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  for (const auto& [key, v] : tok->metadata()) {
    if (key.rfind("tokenizer.ggml.", 0) != 0) continue;
    if (v.type == GgufType::STRING) w.set_string(key, std::string(v.as_string()));
    else if (v.type == GgufType::BOOL) w.set_bool(key, v.as_bool());
    else if (v.type == GgufType::ARRAY && v.as_array().elem_type == GgufType::STRING)
      w.set_array_string(key, std::vector<std::string>(v.as_array().strings.begin(), v.as_array().strings.end()));
    else if (v.type == GgufType::ARRAY) {
      std::vector<int32_t> a;
      for (uint64_t i = 0; i < v.as_array().count; ++i) a.push_back(static_cast<int32_t>(v.as_array().int_at(i)));
      w.set_array_i32(key, a);
    } else w.set_u32(key, static_cast<uint32_t>(v.as_uint()));
  }
  auto mat = [&](const std::string& n, int64_t n_in, int64_t n_out, bool fp8_ok) {
    std::vector<float> v(static_cast<size_t>(n_in * n_out));
    const std::string dt = fp8_ok || s.dtype != "F8_E4M3" ? s.dtype : "BF16";
    // Block scales are tiles of 16 rows: a head (16 rows) stays in its tile when its rows are
    // permuted, so GGUF-layout values can use the tile of their own row.
    for (size_t i = 0; i < v.size(); ++i) {
      const int64_t r = static_cast<int64_t>(i) / n_in, k = static_cast<int64_t>(i) % n_in;
      const float sc = s.fp8_block > 0 ? test::fp8_block_scale(r / s.fp8_block, k / s.fp8_block) : fp8_scale;
      v[i] = synth_value(rng, dt, sc);
    }
    w.add_tensor_f32(n, DType::F32, {n_in, n_out}, v);
  };
  auto vec = [&](const std::string& n) {
    std::vector<float> v(static_cast<size_t>(d));
    for (float& x : v) x = 1.0f + synth_value(rng, "BF16", 1.0f) - bf16_to_f32(f32_to_bf16(0.0f));
    for (float& x : v) x = bf16_to_f32(f32_to_bf16(x));
    w.add_tensor_f32(n, DType::F32, {d}, v);
  };
  mat("token_embd.weight", d, nv, false);
  for (int il = 0; il < layers; ++il) {
    const std::string b = "blk." + std::to_string(il) + ".";
    vec(b + "attn_norm.weight");
    mat(b + "attn_q.weight", d, heads * hd, true);
    mat(b + "attn_k.weight", d, kv * hd, true);
    mat(b + "attn_v.weight", d, kv * hd, true);
    mat(b + "attn_output.weight", heads * hd, d, true);
    vec(b + "ffn_norm.weight");
    mat(b + "ffn_gate.weight", d, ff, true);
    mat(b + "ffn_up.weight", d, ff, true);
    mat(b + "ffn_down.weight", ff, d, true);
  }
  vec("output_norm.weight");
  if (!s.tied) mat("output.weight", d, nv, false);
  const std::string dir = scratch("synth_" + name);
  const std::string f32_path = dir + "/../synth_" + name + "-f32.gguf";
  w.write(f32_path);
  auto f32 = GgufFile::open(f32_path);

  // The reference GGUF: the same values quantized to the run's type.
  GgufWriter q;
  for (const auto& [key, v] : f32->metadata()) {
    if (v.type == GgufType::STRING) q.set_string(key, std::string(v.as_string()));
    else if (v.type == GgufType::F32) q.set_f32(key, static_cast<float>(v.as_double()));
    else if (v.type == GgufType::BOOL) q.set_bool(key, v.as_bool());
    else if (v.type == GgufType::ARRAY && v.as_array().elem_type == GgufType::STRING)
      q.set_array_string(key, std::vector<std::string>(v.as_array().strings.begin(), v.as_array().strings.end()));
    else if (v.type == GgufType::ARRAY) {
      std::vector<int32_t> a;
      for (uint64_t i = 0; i < v.as_array().count; ++i) a.push_back(static_cast<int32_t>(v.as_array().int_at(i)));
      q.set_array_i32(key, a);
    } else q.set_u32(key, static_cast<uint32_t>(v.as_uint()));
  }
  for (const GgufTensorInfo& t : f32->tensors()) {
    std::vector<float> v(static_cast<size_t>(t.n_elements()));
    std::memcpy(v.data(), t.data, t.nbytes);
    std::vector<int64_t> dims(t.ne, t.ne + t.n_dims);
    q.add_tensor_f32(t.name, t.n_dims == 1 ? DType::F32 : s.quant, dims, v);
  }
  const std::string ref_path = dir + "/../synth_" + name + "-ref.gguf";
  q.write(ref_path);

  test::ExportOptions o;
  o.dtype = s.dtype;
  o.fp8_scale = fp8_scale;
  o.shard = s.shard;
  o.fp8_block = s.fp8_block;
  test::export_checkpoint(*f32, dir, o, heads, kv);
  json cfg = {{"architectures", {"LlamaForCausalLM"}}, {"model_type", "llama"}, {"hidden_size", d},
              {"intermediate_size", ff}, {"num_hidden_layers", layers}, {"num_attention_heads", heads},
              {"num_key_value_heads", kv}, {"max_position_embeddings", 512}, {"rms_norm_eps", 1e-5},
              {"rope_theta", 10000.0}, {"vocab_size", nv}, {"tie_word_embeddings", s.tied},
              {"torch_dtype", "bfloat16"}};
  if (s.dtype == "F8_E4M3")
    cfg["quantization_config"] = {{"quant_method", "fp8"}, {"activation_scheme", "static"}, {"weight_block_size", nullptr}};
  if (s.fp8_block > 0) cfg["quantization_config"]["weight_block_size"] = {s.fp8_block, s.fp8_block};
  test::write_text(dir + "/config.json", cfg.dump(1));
  write_ministral_tokenizer(*tok, dir);

  auto from_dir = Engine::load(dir, engine_opts(s.quant));
  auto from_gguf = Engine::load(ref_path, engine_opts(s.quant));
  EXPECT_EQ(from_dir->hparams().tied_output, s.tied);
  for (const GgufTensorInfo& t : from_gguf->file().tensors()) {
    const GgufTensorInfo* u = from_dir->file().find_tensor(t.name);
    ASSERT_TRUE(u) << t.name;
    EXPECT_EQ(u->type, t.type) << t.name;
    ASSERT_EQ(u->nbytes, t.nbytes) << t.name;
    EXPECT_EQ(std::memcmp(u->data, t.data, t.nbytes), 0) << t.name;
  }
  EXPECT_EQ(from_dir->file().tensors().size(), from_gguf->file().tensors().size());
  const std::vector<int32_t> ids = {1, 105, 138, 89, 84, 350, 140, 90, 86, 72, 109, 142, 3, 4, 500, 1000};
  const std::vector<float> want = all_logits(*from_gguf, ids);
  const std::vector<float> got = all_logits(*from_dir, ids);
  expect_close(got, want, nv, "synthetic " + name);
  EXPECT_EQ(got, want);  // identical weights, identical kernels
}

TEST(HfCheckpoint, SyntheticBf16Tied) { run_synthetic({"BF16", true, false, DType::Q8_0}, "bf16_tied"); }
TEST(HfCheckpoint, SyntheticBf16UntiedQ4) { run_synthetic({"BF16", false, true, DType::Q4_0}, "bf16_untied_q4_0"); }
TEST(HfCheckpoint, SyntheticFp8WithScales) { run_synthetic({"F8_E4M3", false, true, DType::Q8_0}, "fp8"); }
TEST(HfCheckpoint, SyntheticFp8BlockScales) { run_synthetic({"F8_E4M3", true, false, DType::Q8_0, 16}, "fp8_block"); }
TEST(HfCheckpoint, SyntheticF32) { run_synthetic({"F32", false, false, DType::F32}, "f32"); }

// ---------------------------------------------------------------------------------------------
// Malformed folders

std::string load_error(const std::string& dir) {
  try {
    Engine::load(dir, engine_opts(DType::Q8_0));
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// A copy of the SmolVLM2 folder with config.json replaced (or removed when empty).
std::string variant(const std::string& name, const std::string& config_text) {
  const std::string dir = scratch("bad_" + name);
  for (const auto& e : fs::directory_iterator(smol_checkpoint()))
    if (e.path().filename() != "config.json") fs::copy_file(e.path(), dir + "/" + e.path().filename().string());
  if (!config_text.empty()) test::write_text(dir + "/config.json", config_text);
  return dir;
}

TEST(HfCheckpoint, MalformedFoldersFailClearly) {
  const json good = json::parse(test::read_text(smol_checkpoint() + "/config.json"));
  EXPECT_NE(load_error(variant("noconfig", "")).find("no config.json"), std::string::npos);
  json arch = good;
  arch["architectures"] = {"GPT2LMHeadModel"};
  arch["model_type"] = "gpt2";
  const std::string e1 = load_error(variant("arch", arch.dump()));
  EXPECT_NE(e1.find("not supported"), std::string::npos) << e1;
  EXPECT_NE(e1.find("GPT2LMHeadModel"), std::string::npos) << e1;
  json shape = good;
  shape["text_config"]["intermediate_size"] = 96;
  const std::string e2 = load_error(variant("shape", shape.dump()));
  EXPECT_NE(e2.find("has shape [128, 64] but the config implies [96, 64]"), std::string::npos) << e2;
  json type = good;
  type["text_config"]["hidden_size"] = "sixty-four";
  const std::string e3 = load_error(variant("type", type.dump()));
  EXPECT_NE(e3.find("hidden_size"), std::string::npos) << e3;
  EXPECT_NE(load_error(variant("json", "{not json")).find("not valid JSON"), std::string::npos);
  json layers = good;
  layers["text_config"]["num_hidden_layers"] = 3;
  const std::string e4 = load_error(variant("layers", layers.dump()));
  EXPECT_NE(e4.find("has no tensor 'model.text_model.layers.2.input_layernorm.weight'"), std::string::npos) << e4;
  // A shard the index names but that is missing.
  const std::string noshard = variant("noshard", good.dump());
  fs::remove(noshard + "/model-00002-of-00002.safetensors");
  EXPECT_NE(load_error(noshard).find("model-00002-of-00002.safetensors"), std::string::npos);
  const std::string notok = variant("notok", good.dump());
  fs::remove(notok + "/tokenizer.json");
  EXPECT_NE(load_error(notok).find("no tokenizer.json"), std::string::npos);
}

// generation_config.json's extra stop id ends generation; a tokenizer.json without a GGUF form
// (here: a normalizer) is used directly at load, and `quantize` refuses to write a GGUF without
// a vocabulary.
TEST(HfCheckpoint, GenerationConfigAndTokenizerFallback) {
  const json good = json::parse(test::read_text(smol_checkpoint() + "/config.json"));
  const std::string gen = variant("genconfig", good.dump());
  test::write_text(gen + "/generation_config.json", json({{"eos_token_id", {49279, 49200}}, {"bos_token_id", 1}}).dump());
  auto e = Engine::load(gen, engine_opts(DType::Q8_0));
  EXPECT_EQ(e->file().get_int("tokenizer.ggml.eot_token_id"), std::optional<int64_t>(49200));
  EXPECT_TRUE(e->tokenizer().is_eog(49200));
  EXPECT_FALSE(e->tokenizer().is_eog(49201));

  const std::string fb = variant("tokfallback", good.dump());
  json tj = json::parse(test::read_text(fb + "/tokenizer.json"));
  tj["normalizer"] = {{"type", "NFC"}};
  test::write_text(fb + "/tokenizer.json", tj.dump());
  auto f = Engine::load(fb, engine_opts(DType::Q8_0));
  EXPECT_FALSE(f->file().find("tokenizer.ggml.model"));
  EXPECT_EQ(f->tokenizer().encode("Hello world", false, true), (std::vector<int32_t>{19556, 905}));
  try {
    quantize_model(fb, scratch("tokfallback_out") + "/x.gguf", DType::Q8_0, 2);
    ADD_FAILURE() << "quantize wrote a GGUF without a vocabulary";
  } catch (const Error& err) {
    EXPECT_NE(std::string(err.what()).find("no GGUF form"), std::string::npos) << err.what();
  }
}

// The SmolVLM2 vision tower and connector of a checkpoint (tiny-idefics3-mmproj's weights under
// their HF names, F32) become an mmproj that reproduces llama.cpp's image embeddings in
// ../shared/golden/vision (tolerance from that README: NMSE <= 1e-3).
TEST(HfCheckpoint, SmolVlmVisionTowerMatchesGolden) {
  const std::string dir = scratch("smolvlm_vision");
  for (const char* f : {"config.json", "tokenizer.json", "tokenizer_config.json", "chat_template.jinja"})
    fs::copy_file(smol_checkpoint() + "/" + f, dir + "/" + f);
  json cfg = json::parse(test::read_text(dir + "/config.json"));
  cfg["scale_factor"] = 2;
  cfg["vision_config"] = {{"hidden_size", 64}, {"intermediate_size", 128}, {"num_hidden_layers", 2},
                          {"num_attention_heads", 4}, {"image_size", 64}, {"patch_size", 16},
                          {"layer_norm_eps", 1e-6}, {"hidden_act", "gelu_pytorch_tanh"}};
  test::write_text(dir + "/config.json", cfg.dump(1));
  test::write_text(dir + "/preprocessor_config.json",
                   json({{"image_mean", {0.5, 0.5, 0.5}}, {"image_std", {0.5, 0.5, 0.5}}, {"size", {{"longest_edge", 256}}}}).dump());
  test::ExportOptions o;
  o.prefix = "model.text_model.";
  test::export_checkpoint(*GgufFile::open(test::shared_path("models/tiny-smol-f16.gguf")), dir, o, 4, 2);
  // Vision tensors: GGUF dims reversed are the PyTorch shapes, memory order unchanged.
  auto mm = GgufFile::open(test::shared_path("models/tiny-idefics3-mmproj.gguf"));
  std::vector<test::StEntry> es;
  for (const GgufTensorInfo& t : mm->tensors()) {
    std::string n = t.name, hf;
    const std::string v = "model.vision_model.";
    if (n == "v.patch_embd.weight") hf = v + "embeddings.patch_embedding.weight";
    else if (n == "v.patch_embd.bias") hf = v + "embeddings.patch_embedding.bias";
    else if (n == "v.position_embd.weight") hf = v + "embeddings.position_embedding.weight";
    else if (n == "v.post_ln.weight") hf = v + "post_layernorm.weight";
    else if (n == "v.post_ln.bias") hf = v + "post_layernorm.bias";
    else if (n == "mm.model.fc.weight") hf = "model.connector.modality_projection.proj.weight";
    else {
      const size_t dot = n.find('.', 6);
      const std::string il = n.substr(6, dot - 6), rest = n.substr(dot + 1);
      const std::map<std::string, std::string> names = {
          {"attn_q", "self_attn.q_proj"}, {"attn_k", "self_attn.k_proj"}, {"attn_v", "self_attn.v_proj"},
          {"attn_out", "self_attn.out_proj"}, {"ffn_up", "mlp.fc1"}, {"ffn_down", "mlp.fc2"},
          {"ln1", "layer_norm1"}, {"ln2", "layer_norm2"}};
      const size_t d2 = rest.find('.');
      hf = v + "encoder.layers." + il + "." + names.at(rest.substr(0, d2)) + rest.substr(d2);
    }
    std::vector<float> vals(static_cast<size_t>(t.n_elements()));
    const int64_t rows = t.n_elements() / t.ne[0];
    for (int64_t r = 0; r < rows; ++r)
      dequantize_row(t.type, t.data + r * row_bytes(t.type, t.ne[0]), vals.data() + r * t.ne[0], t.ne[0]);
    std::vector<int64_t> shape(t.ne, t.ne + t.n_dims);
    std::reverse(shape.begin(), shape.end());
    es.push_back(test::float_entry(hf, "F32", shape, vals));
  }
  test::write_bytes(dir + "/model-vision.safetensors", test::safetensors_bytes(es));

  auto enc = VisionEncoder::load(load_checkpoint_mmproj(dir));
  EXPECT_EQ(enc->hparams().scale_factor, 2);
  EXPECT_EQ(enc->hparams().preproc_image_size, 256);
  ThreadPool pool(2);
  for (const char* name : {"idefics3-tile64-a", "idefics3-tile64-b"}) {
    const std::vector<float> px =  // golden pixels are pixel-major; encode() reads channel-first
        hwc_to_chw(test::read_f32(test::shared_path(std::string("golden/vision/") + name + ".pixels.f32")).data(), 64, 64);
    const std::vector<float> want = test::read_f32(test::shared_path(std::string("golden/vision/") + name + ".embd.f32"));
    std::vector<float> got;
    enc->encode(px.data(), 64, 64, got, pool);
    ASSERT_EQ(got.size(), want.size());
    const double err = test::nmse(got.data(), want.data(), got.size());
    EXPECT_LE(err, 1e-3) << name;
    std::printf("  %-40s nmse %.3e\n", name, err);
  }
  // End to end: `pocket run` on the folder with an image uses the folder's tower.
  const test::CmdResult r = test::run_pocket("run -m '" + dir + "' --quant F16 -t 2 -n 4 --image '" +
                                             test::shared_path("images/square_386.png") + "' -p 'Describe.'");
  EXPECT_EQ(r.status, 0) << r.err;
  // `pocket quantize DIR OUT TYPE --mmproj MM` writes both halves; the mmproj file encodes alike.
  const std::string q = scratch("smolvlm_vision_out");
  const test::CmdResult qr =
      test::run_pocket("quantize '" + dir + "' '" + q + "/m.gguf' Q8_0 -t 2 --mmproj '" + q + "/mm.gguf'");
  ASSERT_EQ(qr.status, 0) << qr.err;
  {
    auto enc2 = VisionEncoder::load(q + "/mm.gguf");
    const std::vector<float> px =
        hwc_to_chw(test::read_f32(test::shared_path("golden/vision/idefics3-tile64-a.pixels.f32")).data(), 64, 64);
    const std::vector<float> want = test::read_f32(test::shared_path("golden/vision/idefics3-tile64-a.embd.f32"));
    std::vector<float> got;
    enc2->encode(px.data(), 64, 64, got, pool);
    EXPECT_LE(test::nmse(got.data(), want.data(), want.size()), 1e-3);
  }
  // The text model of the same folder still loads; other families have no converted tower.
  EXPECT_EQ(Engine::load(dir, engine_opts(DType::Q8_0))->hparams().n_vocab, 49280);
  const std::string text_only = scratch("text_only");
  test::write_text(text_only + "/config.json", json({{"architectures", {"LlamaForCausalLM"}}, {"model_type", "llama"}}).dump());
  EXPECT_EQ(load_checkpoint_mmproj(text_only), nullptr);
}

// The Pixtral tower of a Ministral 3 checkpoint (tiny-pixtral-mmproj's weights under HF names,
// Q/K in rotate_half order) reproduces ../shared/golden/vision (NMSE <= 1e-3 on the [IMG] rows;
// the [IMG_BREAK] rows are the text embedding's row 12, which the converter copies).
TEST(HfCheckpoint, MinistralVisionTowerMatchesGolden) {
  auto enc = VisionEncoder::load(load_checkpoint_mmproj(ministral_checkpoint()));
  ASSERT_EQ(enc->projector(), ProjectorType::Pixtral);
  ThreadPool pool(2);
  for (const char* name : {"pixtral-28x28", "pixtral-56x84", "pixtral-112x56"}) {
    const json m = json::parse(test::read_text(test::shared_path(std::string("golden/vision/") + name + ".json")));
    const int64_t w = m["width"], h = m["height"], rows = m["merged_rows"], cols = m["merged_cols"], ne = m["n_embd"];
    const std::vector<float> px =
        hwc_to_chw(test::read_f32(test::shared_path(std::string("golden/vision/") + name + ".pixels.f32")).data(), w, h);
    const std::vector<float> want = test::read_f32(test::shared_path(std::string("golden/vision/") + name + ".embd.f32"));
    std::vector<float> got;
    enc->encode(px.data(), w, h, got, pool);
    std::vector<float> img;
    for (int64_t r = 0; r < rows; ++r) {
      const float* src = want.data() + r * (cols + 1) * ne;
      img.insert(img.end(), src, src + cols * ne);
      if (r + 1 < rows) {
        ASSERT_EQ(enc->img_break().size(), static_cast<size_t>(ne));
        EXPECT_LE(test::nmse(enc->img_break().data(), src + cols * ne, ne), 1e-6) << name;
      }
    }
    ASSERT_EQ(got.size(), img.size()) << name;
    const double err = test::nmse(got.data(), img.data(), img.size());
    EXPECT_LE(err, 1e-3) << name;
    std::printf("  %-40s nmse %.3e\n", name, err);
  }
}

// ---------------------------------------------------------------------------------------------
// CLI

TEST(HfCheckpoint, CliQuantizeAndLogits) {
  const std::string dir = scratch("cli");
  const std::string out = dir + "/smol-q4_0.gguf";
  test::CmdResult r = test::run_pocket("quantize '" + test::shared_path("models/tiny-smol-f16.gguf") + "' '" + out + "' Q4_0 -t 2");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("q4_0"), std::string::npos);
  EXPECT_EQ(Engine::load(out, engine_opts(DType::Q4_0))->file().find_tensor("blk.1.ffn_up.weight")->type, DType::Q4_0);
  r = test::run_pocket("quantize '" + test::shared_path("models/tiny-smol-f16.gguf") + "' '" + out + "' Q9_9");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("unknown type 'Q9_9'"), std::string::npos) << r.err;

  // `pocket logits` on a folder, converted at load to F16: llama.cpp's logits.
  const Golden gd = golden("tiny-smol-f16.chat");
  std::string ids;
  for (int32_t id : gd.ids) ids += (ids.empty() ? "" : ",") + std::to_string(id);
  const std::string lf = dir + "/logits.f32";
  r = test::run_pocket("logits -m '" + smol_checkpoint() + "' --quant F16 -t 2 --ids " + ids + " -o '" + lf + "'");
  ASSERT_EQ(r.status, 0) << r.err;
  expect_close(test::read_f32(lf), gd.logits, gd.nv, "pocket logits on a folder");
  r = test::run_pocket("logits -m '" + smol_checkpoint() + "' --quant Q9 --ids 1 -o '" + lf + "'");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("--quant"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace pocket
