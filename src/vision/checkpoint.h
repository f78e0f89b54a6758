// Hugging Face checkpoint folders -> in-memory mmproj GGUFs, one converter per vision family
// (checkpoint_idefics3.cpp, checkpoint_pixtral.cpp) over the shared HF conversion machinery
// (models/hf_checkpoint.h). The result is what VisionEncoder::load takes.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "models/hf_checkpoint.h"

namespace pocket {

// The vision tower and connector of a SmolVLM/Idefics3 checkpoint (projector idefics3) or of a
// Mistral3 (Ministral 3) checkpoint (projector pixtral); nullptr for text-only checkpoints.
// Throws pocket::Error on malformed input.
std::unique_ptr<GgufFile> load_checkpoint_mmproj(const std::string& dir);

// ---- shared by the families' converters ----

// The clip.* hyperparameters both vision families share (llama.cpp's mmproj keys).
struct ClipTowerHeader {
  std::string projector_type;  // "idefics3" | "pixtral"
  std::string name;
  int64_t image_size = 0, patch_size = 0, width = 0, ff = 0, layers = 0, heads = 0, projection_dim = 0;
  double layer_norm_eps = 0;
};
// Reads the shared fields of a vision_config (hidden/intermediate size, layers, heads, image
// and patch size, layer-norm eps) and checks they are plausible; projection_dim is left 0.
ClipTowerHeader read_clip_tower(const nlohmann::json& vc, const std::string& dir, std::string projector_type,
                                std::string name, double default_eps);
void write_clip_header(GgufWriter& m, const ClipTowerHeader& h);

std::unique_ptr<GgufFile> load_idefics3_mmproj(const std::string& dir, const nlohmann::json& config);
std::unique_ptr<GgufFile> load_pixtral_mmproj(const std::string& dir, const nlohmann::json& config);

}  // namespace pocket
