// Vision tower + projector of a Mistral3ForConditionalGeneration (Ministral 3) checkpoint as an
// mmproj GGUF with projector type pixtral, as llama.cpp writes it: Q/K rows of the vision
// attention permuted like the text model's (the 2D RoPE pairs follow the weights' layout),
// the [IMG_BREAK] row of the text embedding stored as v.token_embd.img_break.
// ref: llama.cpp conversion/llava.py LlavaVisionModel (permute of vision q/k with n_head,
// get_token_id("[IMG_BREAK]"), layer_norm_eps 1e-5 hard-coded as in modeling_pixtral.py);
// shared/docs/ministral-spec.md §2 and §4.3 (names, merger, projector order).
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "vision/checkpoint.h"

namespace pocket {

namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

// Id of `content` in tokenizer_config.json's added_tokens_decoder, else tokenizer.json's added_tokens.
int64_t added_token_id(const fs::path& dir, const std::string& content) {
  const json tc = read_json_or_empty((dir / "tokenizer_config.json").string());
  if (tc.contains("added_tokens_decoder") && tc["added_tokens_decoder"].is_object())
    for (const auto& [id, v] : tc["added_tokens_decoder"].items())
      if (v.is_object() && v.value("content", std::string()) == content) return std::stoll(id);
  const json tj = read_json_or_empty((dir / "tokenizer.json").string());
  if (tj.contains("added_tokens") && tj["added_tokens"].is_array())
    for (const json& a : tj["added_tokens"])
      if (a.is_object() && a.value("content", std::string()) == content && a.contains("id") && a["id"].is_number_integer())
        return a["id"].get<int64_t>();
  return -1;
}

}  // namespace

std::unique_ptr<GgufFile> load_pixtral_mmproj(const std::string& dir, const json& config) {
  const fs::path root(dir);
  try {
    if (!config.contains("vision_config") || !config["vision_config"].is_object()) return nullptr;
    const json& vc = config["vision_config"];
    ClipTowerHeader hdr =
        read_clip_tower(vc, dir, "pixtral", config.value("_name_or_path", root.filename().string()), 1e-5);
    const int64_t d = hdr.width, ff = hdr.ff, layers = hdr.layers, heads = hdr.heads, patch = hdr.patch_size;
    const int64_t merge = cfg_int_or(config, "spatial_merge_size", 2);
    POCKET_CHECK((d / heads) % 4 == 0 && merge > 0 && merge <= 8, "checkpoint '{}': implausible vision_config", dir);
    const std::string act = vc.value("hidden_act", std::string("silu"));
    POCKET_CHECK(act == "silu", "checkpoint '{}': vision activation '{}' is not supported (silu)", dir, act);
    auto st = SafetensorsCheckpoint::open_dir(dir);
    // transformers v5 nests everything under model.; v4 keeps vision_tower./multi_modal_projector. at the top.
    const std::string vt = st->find("model.vision_tower.patch_conv.weight") ? "model.vision_tower." : "vision_tower.";
    const std::string mp = st->find("model.multi_modal_projector.linear_1.weight") ? "model.multi_modal_projector."
                                                                                    : "multi_modal_projector.";
    const std::string emb_name = st->find("model.language_model.embed_tokens.weight")
                                     ? "model.language_model.embed_tokens.weight"
                                     : "language_model.model.embed_tokens.weight";
    const StTensor& l1 = st->get(mp + "linear_1.weight");
    POCKET_CHECK(l1.shape.size() == 2 && l1.shape[1] == d, "checkpoint '{}': linear_1 does not take the tower's width", dir);
    const int64_t n_embd = l1.shape[0];

    GgufWriter m;
    hdr.projection_dim = n_embd;
    write_clip_header(m, hdr);
    m.set_u32("clip.vision.spatial_merge_size", static_cast<uint32_t>(merge));
    m.set_f32("clip.vision.rope.freq_base", static_cast<float>(cfg_float_or(vc, "rope_theta", 10000.0)));
    m.set_bool("clip.use_silu", true);
    const json pp = read_json_or_empty((root / "preprocessor_config.json").string());
    auto rgb = [&](const char* key, std::vector<float> def) {
      if (pp.contains(key) && pp[key].is_array() && pp[key].size() == 3 && pp[key][0].is_number())
        return std::vector<float>{pp[key][0].get<float>(), pp[key][1].get<float>(), pp[key][2].get<float>()};
      return def;
    };
    // CLIP constants are Pixtral's defaults (ministral-spec.md §2.5).
    m.set_array_f32("clip.vision.image_mean", rgb("image_mean", {0.48145466f, 0.4578275f, 0.40821073f}));
    m.set_array_f32("clip.vision.image_std", rgb("image_std", {0.26862954f, 0.26130258f, 0.27577711f}));

    GgufStreamWriter out;
    add_tensor_as(out, *st, "v.patch_embd.weight", vt + "patch_conv.weight", {d, 3, patch, patch}, DType::F16);
    add_tensor_as(out, *st, "v.pre_ln.weight", vt + "ln_pre.weight", {d}, DType::F32);
    for (int64_t il = 0; il < layers; ++il) {
      const std::string b = "v.blk." + std::to_string(il) + ".";
      const std::string h = vt + "transformer.layers." + std::to_string(il) + ".";
      add_tensor_as(out, *st, b + "attn_q.weight", h + "attention.q_proj.weight", {d, d}, DType::F16, heads);
      add_tensor_as(out, *st, b + "attn_k.weight", h + "attention.k_proj.weight", {d, d}, DType::F16, heads);
      add_tensor_as(out, *st, b + "attn_v.weight", h + "attention.v_proj.weight", {d, d}, DType::F16);
      add_tensor_as(out, *st, b + "attn_out.weight", h + "attention.o_proj.weight", {d, d}, DType::F16);
      add_tensor_as(out, *st, b + "ffn_gate.weight", h + "feed_forward.gate_proj.weight", {ff, d}, DType::F16);
      add_tensor_as(out, *st, b + "ffn_up.weight", h + "feed_forward.up_proj.weight", {ff, d}, DType::F16);
      add_tensor_as(out, *st, b + "ffn_down.weight", h + "feed_forward.down_proj.weight", {d, ff}, DType::F16);
      add_tensor_as(out, *st, b + "ln1.weight", h + "attention_norm.weight", {d}, DType::F32);
      add_tensor_as(out, *st, b + "ln2.weight", h + "ffn_norm.weight", {d}, DType::F32);
    }
    add_tensor_as(out, *st, "mm.input_norm.weight", mp + "norm.weight", {d}, DType::F32);
    add_tensor_as(out, *st, "mm.patch_merger.weight", mp + "patch_merger.merging_layer.weight", {d, d * merge * merge},
                  DType::F16);
    add_tensor_as(out, *st, "mm.1.weight", mp + "linear_1.weight", {n_embd, d}, DType::F16);
    add_tensor_as(out, *st, "mm.2.weight", mp + "linear_2.weight", {n_embd, n_embd}, DType::F16);
    for (const char* bias : {"linear_1.bias", "linear_2.bias"})
      if (st->find(mp + bias)) add_tensor_as(out, *st, std::string("mm.") + (bias[7] == '1' ? "1" : "2") + ".bias", mp + bias, {n_embd}, DType::F32);
    // [IMG_BREAK]: its row of the text embedding (llama.cpp stores a copy in the mmproj).
    const int64_t brk = added_token_id(root, "[IMG_BREAK]");
    if (brk >= 0) {
      const StTensor& emb = st->get(emb_name);
      POCKET_CHECK(emb.shape.size() == 2 && emb.shape[1] == n_embd && brk < emb.shape[0],
                   "checkpoint '{}': [IMG_BREAK] id {} does not index the text embedding", dir, brk);
      const StTensor* e = &emb;
      out.add_tensor("v.token_embd.img_break", DType::F32, {n_embd}, [e, brk, n_embd](uint8_t* dst) {
        std::vector<float> row(static_cast<size_t>(n_embd));
        e->read_f32(brk * n_embd, n_embd, row.data());
        std::memcpy(dst, row.data(), row.size() * 4);
      });
    }
    const std::vector<uint8_t> bytes = m.to_bytes();
    out.copy_metadata(*GgufFile::parse(bytes.data(), bytes.size(), "<metadata>"));
    return out.to_memory(dir + " (vision)");
  } catch (const json::exception& e) {
    fail("checkpoint '{}': malformed config: {}", dir, e.what());
  } catch (const std::invalid_argument&) {
    fail("checkpoint '{}': malformed added_tokens_decoder id", dir);
  } catch (const std::out_of_range&) {
    fail("checkpoint '{}': malformed added_tokens_decoder id", dir);
  }
}

}  // namespace pocket
