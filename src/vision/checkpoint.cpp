// load_checkpoint_mmproj (the families' checkpoint registry) and the clip.* header they share.
#include "vision/checkpoint.h"

#include <filesystem>

#include "core/error.h"

namespace pocket {

using json = nlohmann::json;

std::unique_ptr<GgufFile> load_checkpoint_mmproj(const std::string& dir) {
  const json config = read_json_or_empty((std::filesystem::path(dir) / "config.json").string());
  const std::string mt = config.is_object() ? config.value("model_type", std::string()) : "";
  if (mt == "smolvlm" || mt == "idefics3") return load_idefics3_mmproj(dir, config);
  if (mt == "mistral3") return load_pixtral_mmproj(dir, config);
  return nullptr;
}

ClipTowerHeader read_clip_tower(const json& vc, const std::string& dir, std::string projector_type, std::string name,
                                double default_eps) {
  ClipTowerHeader h;
  h.projector_type = std::move(projector_type);
  h.name = std::move(name);
  h.width = cfg_int(vc, "hidden_size", dir);
  h.ff = cfg_int(vc, "intermediate_size", dir);
  h.layers = cfg_int(vc, "num_hidden_layers", dir);
  h.heads = cfg_int(vc, "num_attention_heads", dir);
  h.image_size = cfg_int(vc, "image_size", dir);
  h.patch_size = cfg_int(vc, "patch_size", dir);
  h.layer_norm_eps = cfg_float_or(vc, "layer_norm_eps", default_eps);
  POCKET_CHECK(h.width > 0 && h.width <= 8192 && h.ff > 0 && h.layers > 0 && h.layers <= 256 && h.heads > 0 &&
                   h.width % h.heads == 0 && h.patch_size > 0 && h.image_size > 0,
               "checkpoint '{}': implausible vision_config", dir);
  return h;
}

void write_clip_header(GgufWriter& m, const ClipTowerHeader& h) {
  m.set_string("general.architecture", "clip");
  m.set_string("general.type", "mmproj");
  m.set_string("general.name", h.name);
  m.set_bool("clip.has_vision_encoder", true);
  m.set_string("clip.projector_type", h.projector_type);
  m.set_u32("clip.vision.image_size", static_cast<uint32_t>(h.image_size));
  m.set_u32("clip.vision.patch_size", static_cast<uint32_t>(h.patch_size));
  m.set_u32("clip.vision.embedding_length", static_cast<uint32_t>(h.width));
  m.set_u32("clip.vision.feed_forward_length", static_cast<uint32_t>(h.ff));
  m.set_u32("clip.vision.block_count", static_cast<uint32_t>(h.layers));
  m.set_u32("clip.vision.attention.head_count", static_cast<uint32_t>(h.heads));
  m.set_u32("clip.vision.projection_dim", static_cast<uint32_t>(h.projection_dim));
  m.set_f32("clip.vision.attention.layer_norm_epsilon", static_cast<float>(h.layer_norm_eps));
}

}  // namespace pocket
