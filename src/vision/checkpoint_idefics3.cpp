// Vision tower + connector of a SmolVLM/Idefics3 checkpoint (model.vision_model.*,
// model.connector.*) as an mmproj GGUF with projector type idefics3, named and laid out as
// llama.cpp writes it: SigLIP tensors keep their memory order (PyTorch [out, in, kh, kw] is
// ggml [kw, kh, in, out]); no RoPE, so no row permutation. Matrices F16 as llama.cpp's mmproj
// files, vectors and the position table F32.
// ref: llama.cpp convert_hf_to_gguf.py SmolVLMModel (tensor map and clip.vision.* keys),
// gguf-py/gguf/tensor_mapping.py; transformers models/smolvlm/modeling_smolvlm.py (names).
#include <fmt/ranges.h>

#include <filesystem>

#include "core/error.h"
#include "vision/checkpoint.h"

namespace pocket {

namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

}  // namespace

std::unique_ptr<GgufFile> load_idefics3_mmproj(const std::string& dir, const json& config) {
  const fs::path root(dir);
  try {
    POCKET_CHECK(config.contains("vision_config") && config["vision_config"].is_object(),
                 "checkpoint '{}': no vision_config", dir);
    const json& vc = config["vision_config"];
    ClipTowerHeader hdr =
        read_clip_tower(vc, dir, "idefics3", config.value("_name_or_path", root.filename().string()), 1e-6);
    const int64_t d = hdr.width, ff = hdr.ff, layers = hdr.layers, image = hdr.image_size, patch = hdr.patch_size;
    const int64_t channels = cfg_int_or(vc, "num_channels", 3);
    const int64_t scale = cfg_int_or(config, "scale_factor", 2);
    POCKET_CHECK(image % patch == 0 && image / patch <= 1024 && channels == 3 && scale > 0 && (image / patch) % scale == 0,
                 "checkpoint '{}': implausible vision_config", dir);
    const std::string act = vc.value("hidden_act", std::string("gelu_pytorch_tanh"));
    POCKET_CHECK(act.rfind("gelu", 0) == 0, "checkpoint '{}': vision activation '{}' is not supported", dir, act);
    auto st = SafetensorsCheckpoint::open_dir(dir);
    const std::string v = "model.vision_model.";
    const StTensor& proj = st->get("model.connector.modality_projection.proj.weight");
    POCKET_CHECK(proj.shape.size() == 2 && proj.shape[1] == d * scale * scale,
                 "checkpoint '{}': connector weight shape does not match hidden_size x scale_factor^2", dir);
    const int64_t n_embd = proj.shape[0];

    GgufWriter m;
    hdr.projection_dim = n_embd;
    write_clip_header(m, hdr);
    m.set_u32("clip.vision.projector.scale_factor", static_cast<uint32_t>(scale));
    m.set_bool("clip.use_gelu", true);
    const json pp = read_json_or_empty((root / "preprocessor_config.json").string());
    auto rgb = [&](const char* key, std::vector<float> def) {
      if (pp.contains(key) && pp[key].is_array() && pp[key].size() == 3 && pp[key][0].is_number())
        return std::vector<float>{pp[key][0].get<float>(), pp[key][1].get<float>(), pp[key][2].get<float>()};
      return def;
    };
    m.set_array_f32("clip.vision.image_mean", rgb("image_mean", {0.5f, 0.5f, 0.5f}));
    m.set_array_f32("clip.vision.image_std", rgb("image_std", {0.5f, 0.5f, 0.5f}));
    if (pp.contains("size") && pp["size"].is_object() && pp["size"].contains("longest_edge") &&
        pp["size"]["longest_edge"].is_number_integer())
      m.set_u32("clip.vision.preproc_image_size", pp["size"]["longest_edge"].get<uint32_t>());

    GgufStreamWriter out;
    const int64_t n_pos = (image / patch) * (image / patch);
    add_tensor_as(out, *st, "v.patch_embd.weight", v + "embeddings.patch_embedding.weight", {d, channels, patch, patch}, DType::F16);
    add_tensor_as(out, *st, "v.patch_embd.bias", v + "embeddings.patch_embedding.bias", {d}, DType::F32);
    add_tensor_as(out, *st, "v.position_embd.weight", v + "embeddings.position_embedding.weight", {n_pos, d}, DType::F32);
    for (int64_t il = 0; il < layers; ++il) {
      const std::string b = "v.blk." + std::to_string(il) + ".", h = v + "encoder.layers." + std::to_string(il) + ".";
      const std::pair<const char*, const char*> lin[] = {{"attn_q", "self_attn.q_proj"}, {"attn_k", "self_attn.k_proj"},
                                                         {"attn_v", "self_attn.v_proj"}, {"attn_out", "self_attn.out_proj"}};
      for (const auto& [g, hfn] : lin) {
        add_tensor_as(out, *st, b + g + ".weight", h + hfn + ".weight", {d, d}, DType::F16);
        add_tensor_as(out, *st, b + g + ".bias", h + hfn + ".bias", {d}, DType::F32);
      }
      add_tensor_as(out, *st, b + "ffn_up.weight", h + "mlp.fc1.weight", {ff, d}, DType::F16);
      add_tensor_as(out, *st, b + "ffn_up.bias", h + "mlp.fc1.bias", {ff}, DType::F32);
      add_tensor_as(out, *st, b + "ffn_down.weight", h + "mlp.fc2.weight", {d, ff}, DType::F16);
      add_tensor_as(out, *st, b + "ffn_down.bias", h + "mlp.fc2.bias", {d}, DType::F32);
      for (const auto& [g, hfn] : {std::pair{"ln1", "layer_norm1"}, std::pair{"ln2", "layer_norm2"}}) {
        add_tensor_as(out, *st, b + g + ".weight", h + hfn + ".weight", {d}, DType::F32);
        add_tensor_as(out, *st, b + g + ".bias", h + hfn + ".bias", {d}, DType::F32);
      }
    }
    add_tensor_as(out, *st, "v.post_ln.weight", v + "post_layernorm.weight", {d}, DType::F32);
    add_tensor_as(out, *st, "v.post_ln.bias", v + "post_layernorm.bias", {d}, DType::F32);
    add_tensor_as(out, *st, "mm.model.fc.weight", "model.connector.modality_projection.proj.weight", {n_embd, d * scale * scale},
           DType::F16);
    const std::vector<uint8_t> bytes = m.to_bytes();
    out.copy_metadata(*GgufFile::parse(bytes.data(), bytes.size(), "<metadata>"));
    return out.to_memory(dir + " (vision)");
  } catch (const json::exception& e) {
    fail("checkpoint '{}': malformed config: {}", dir, e.what());
  }
}

}  // namespace pocket
