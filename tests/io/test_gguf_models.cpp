// GGUF reader on the real files in ../shared/models: expected values come from
// ../shared/models/README.md and from independent sources (tokenizer.json, the template files).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "io/gguf.h"

namespace fs = std::filesystem;
using pocket::DType;
using pocket::GgufArray;
using pocket::GgufFile;
using pocket::GgufType;

namespace {

const std::string kModels = std::string(POCKET_SHARED_DIR) + "/models/";

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<int64_t> dims(const pocket::GgufTensorInfo& t) { return {t.ne, t.ne + t.n_dims}; }

}  // namespace

TEST(GgufModels, EverySharedModelParses) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(kModels)) {
    if (e.path().extension() != ".gguf") continue;
    SCOPED_TRACE(e.path().string());
    auto f = GgufFile::open(e.path().string());
    ++n;
    EXPECT_EQ(f->version(), 3u);
    EXPECT_EQ(f->alignment(), 32u);
    EXPECT_EQ(f->data_offset() % 32, 0u);
    EXPECT_EQ(f->file_size(), fs::file_size(e.path()));
    ASSERT_TRUE(f->get_string("general.architecture"));
    EXPECT_FALSE(f->tensors().empty());
    for (const auto& [key, v] : f->metadata()) {
      EXPECT_EQ(f->find(key), &v);
      EXPECT_FALSE(v.to_display().empty());
    }
    for (const auto& t : f->tensors()) {
      EXPECT_EQ(f->find_tensor(t.name), &t);
      EXPECT_EQ(t.offset % 32, 0u);
      EXPECT_EQ(t.nbytes, pocket::row_bytes(t.type, t.ne[0]) * (t.ne[1] * t.ne[2] * t.ne[3]));
      EXPECT_LE(f->data_offset() + t.offset + t.nbytes, f->file_size());
    }
  }
  EXPECT_EQ(n, 11);
}

TEST(GgufModels, TinySmolQ8_0) {
  auto f = GgufFile::open(kModels + "tiny-smol-q8_0.gguf");
  EXPECT_EQ(f->get_string("general.architecture"), "llama");
  EXPECT_EQ(f->get_int("llama.block_count"), 2);
  EXPECT_EQ(f->get_int("llama.embedding_length"), 64);
  EXPECT_EQ(f->get_int("llama.feed_forward_length"), 128);
  EXPECT_EQ(f->get_int("llama.attention.head_count"), 4);
  EXPECT_EQ(f->get_int("llama.attention.head_count_kv"), 2);
  EXPECT_EQ(f->get_int("llama.attention.key_length"), 16);
  EXPECT_EQ(f->get_float("llama.rope.freq_base"), 1e5);
  EXPECT_EQ(f->get_string("tokenizer.ggml.pre"), "smollm");
  EXPECT_EQ(f->find("llama.block_count")->type, GgufType::U32);
  EXPECT_EQ(f->find("llama.rope.freq_base")->type, GgufType::F32);

  const auto* emb = f->find_tensor("token_embd.weight");
  ASSERT_NE(emb, nullptr);
  EXPECT_EQ(dims(*emb), (std::vector<int64_t>{64, 49280}));
  EXPECT_EQ(emb->type, DType::Q8_0);
  EXPECT_EQ(emb->nbytes, size_t{49280} * 2 * 34);
  // Untied output; norms stay f32 in llama.cpp's quantized files.
  ASSERT_NE(f->find_tensor("output.weight"), nullptr);
  EXPECT_EQ(f->find_tensor("output.weight")->type, DType::Q8_0);
  EXPECT_EQ(f->find_tensor("blk.1.attn_norm.weight")->type, DType::F32);
  EXPECT_EQ(dims(*f->find_tensor("blk.0.attn_k.weight")), (std::vector<int64_t>{64, 32}));  // 2 kv heads x 16
  EXPECT_EQ(dims(*f->find_tensor("blk.0.ffn_down.weight")), (std::vector<int64_t>{128, 64}));
  EXPECT_EQ(f->find_tensor("blk.2.attn_q.weight"), nullptr);
  EXPECT_EQ(f->tensors().size(), 2u + 2 * 9 + 1);
  for (const auto& t : f->tensors()) EXPECT_EQ(t.type, t.n_dims == 1 ? DType::F32 : DType::Q8_0) << t.name;

  // Vocabulary and merges equal the published tokenizer.json.
  const GgufArray* tokens = f->get_array("tokenizer.ggml.tokens");
  ASSERT_NE(tokens, nullptr);
  EXPECT_EQ(tokens->elem_type, GgufType::STRING);
  EXPECT_EQ(tokens->count, 49280u);
  ASSERT_EQ(tokens->strings.size(), 49280u);
  const auto tj = nlohmann::json::parse(read_text(std::string(POCKET_SHARED_DIR) + "/tokenizers/smolvlm2/tokenizer.json"));
  for (const auto& [tok, id] : tj["model"]["vocab"].items()) ASSERT_EQ(tokens->strings[id.get<size_t>()], tok);
  for (const auto& at : tj["added_tokens"]) ASSERT_EQ(tokens->strings[at["id"].get<size_t>()], at["content"].get<std::string>());
  const GgufArray* merges = f->get_array("tokenizer.ggml.merges");
  ASSERT_NE(merges, nullptr);
  const auto& jm = tj["model"]["merges"];
  ASSERT_EQ(merges->count, jm.size());
  for (size_t i = 0; i < jm.size(); ++i) ASSERT_EQ(merges->strings[i], jm[i].get<std::string>());
  const GgufArray* types = f->get_array("tokenizer.ggml.token_type");
  ASSERT_NE(types, nullptr);
  EXPECT_EQ(types->count, 49280u);
  EXPECT_EQ(types->elem_type, GgufType::I32);

  EXPECT_EQ(f->get_string("tokenizer.chat_template"), read_text(std::string(POCKET_SHARED_DIR) + "/templates/smolvlm2.jinja"));
}

TEST(GgufModels, TinySmolOtherTypes) {
  auto f16 = GgufFile::open(kModels + "tiny-smol-f16.gguf");
  for (const auto& t : f16->tensors()) EXPECT_EQ(t.type, t.n_dims == 1 ? DType::F32 : DType::F16) << t.name;
  auto q4 = GgufFile::open(kModels + "tiny-smol-q4_0.gguf");
  EXPECT_EQ(q4->find_tensor("blk.0.attn_q.weight")->type, DType::Q4_0);
  EXPECT_EQ(q4->find_tensor("blk.0.attn_q.weight")->nbytes, size_t{64} * 2 * 18);
}

TEST(GgufModels, TinyKqQ4KMix) {
  auto f = GgufFile::open(kModels + "tiny-kq-q4_k.gguf");
  EXPECT_EQ(f->get_int("llama.embedding_length"), 256);
  EXPECT_EQ(f->get_int("llama.attention.head_count_kv"), 1);
  EXPECT_EQ(f->find_tensor("output.weight"), nullptr);  // tied embeddings
  int n_q4k = 0, n_q6k = 0;
  for (const auto& t : f->tensors()) {
    n_q4k += t.type == DType::Q4_K;
    n_q6k += t.type == DType::Q6_K;
  }
  EXPECT_GT(n_q4k, 0);
  EXPECT_GT(n_q6k, 0);  // Q4_K_M keeps some tensors in Q6_K
  auto q6 = GgufFile::open(kModels + "tiny-kq-q6_k.gguf");
  EXPECT_EQ(q6->find_tensor("blk.0.ffn_up.weight")->type, DType::Q6_K);
  EXPECT_EQ(dims(*q6->find_tensor("blk.0.ffn_up.weight")), (std::vector<int64_t>{256, 512}));
}

TEST(GgufModels, TinyMinistral3) {
  auto f = GgufFile::open(kModels + "tiny-ministral3-f16.gguf");
  EXPECT_EQ(f->get_string("general.architecture"), "mistral3");
  EXPECT_EQ(f->get_int("mistral3.embedding_length"), 256);
  EXPECT_EQ(f->get_int("mistral3.attention.head_count"), 8);
  EXPECT_EQ(f->get_int("mistral3.attention.head_count_kv"), 2);
  EXPECT_EQ(f->get_int("mistral3.attention.key_length"), 64);
  EXPECT_EQ(f->get_string("mistral3.rope.scaling.type"), "yarn");
  EXPECT_EQ(f->get_float("mistral3.rope.scaling.factor"), 16.0);
  EXPECT_EQ(f->get_int("mistral3.rope.scaling.original_context_length"), 64);
  EXPECT_FLOAT_EQ(static_cast<float>(*f->get_float("mistral3.attention.temperature_scale")), 0.1f);
  EXPECT_EQ(f->get_string("tokenizer.ggml.pre"), "tekken");
  const GgufArray* tokens = f->get_array("tokenizer.ggml.tokens");
  ASSERT_NE(tokens, nullptr);
  EXPECT_EQ(tokens->count, 1024u);
  EXPECT_EQ(tokens->strings[1], "<s>");
  EXPECT_EQ(tokens->strings[2], "</s>");
  EXPECT_EQ(tokens->strings[3], "[INST]");
  EXPECT_EQ(tokens->strings[10], "[IMG]");
  EXPECT_EQ(tokens->strings[12], "[IMG_BREAK]");
  EXPECT_EQ(tokens->strings[17], "[SYSTEM_PROMPT]");
  EXPECT_EQ(f->find_tensor("output.weight"), nullptr);
  // head_dim * n_heads = 512 != d_model
  EXPECT_EQ(dims(*f->find_tensor("blk.0.attn_q.weight")), (std::vector<int64_t>{256, 512}));
  EXPECT_EQ(f->get_string("tokenizer.chat_template"),
            read_text(std::string(POCKET_SHARED_DIR) + "/templates/mistral-common-v13_image.jinja"));
}

TEST(GgufModels, VisionProjectors) {
  auto small = GgufFile::open(kModels + "smolvlm2-small-tiny-mmproj.gguf");
  EXPECT_EQ(small->get_string("general.architecture"), "clip");
  EXPECT_EQ(small->get_string("clip.projector_type"), "idefics3");
  EXPECT_EQ(small->get_int("clip.vision.image_size"), 512);
  EXPECT_EQ(small->get_int("clip.vision.patch_size"), 16);
  EXPECT_EQ(small->get_int("clip.vision.projector.scale_factor"), 4);
  EXPECT_EQ(small->get_int("clip.vision.projection_dim"), 64);
  EXPECT_EQ(small->get_bool("clip.has_vision_encoder"), true);
  const GgufArray* mean = small->get_array("clip.vision.image_mean");
  ASSERT_NE(mean, nullptr);
  EXPECT_EQ(mean->elem_type, GgufType::F32);
  ASSERT_EQ(mean->count, 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(mean->number_at(i), 0.5);
  EXPECT_EQ(small->find("clip.vision.image_mean")->to_display(), "[0.5, 0.5, 0.5]");

  auto big = GgufFile::open(kModels + "smolvlm2-2.2b-tiny-mmproj.gguf");
  EXPECT_EQ(big->get_int("clip.vision.image_size"), 384);
  EXPECT_EQ(big->get_int("clip.vision.patch_size"), 14);
  EXPECT_EQ(big->get_int("clip.vision.projector.scale_factor"), 3);
  EXPECT_EQ(dims(*big->find_tensor("v.patch_embd.weight")), (std::vector<int64_t>{14, 14, 3, 64}));

  auto pix = GgufFile::open(kModels + "tiny-pixtral-mmproj.gguf");
  EXPECT_EQ(pix->get_string("clip.projector_type"), "pixtral");
  EXPECT_EQ(pix->get_int("clip.vision.patch_size"), 14);
  EXPECT_EQ(pix->get_int("clip.vision.spatial_merge_size"), 2);
  EXPECT_EQ(pix->get_int("clip.vision.projection_dim"), 256);
  const GgufArray* pm = pix->get_array("clip.vision.image_mean");
  ASSERT_NE(pm, nullptr);
  // OpenAI CLIP normalisation constants, stored as f32.
  EXPECT_EQ(static_cast<float>(pm->number_at(0)), 0.48145466f);
  EXPECT_EQ(static_cast<float>(pm->number_at(1)), 0.4578275f);
  EXPECT_EQ(static_cast<float>(pm->number_at(2)), 0.40821073f);
}

TEST(GgufModels, MissingFileIsAnError) {
  EXPECT_THROW(GgufFile::open(kModels + "does-not-exist.gguf"), pocket::Error);
  EXPECT_THROW(GgufFile::open(kModels + "README.md"), pocket::Error);
}
