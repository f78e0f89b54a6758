// Multimodal prompts: turns a rendered chat prompt whose images are marked by the model's
// placeholder (`<image>` for SmolVLM2/idefics3, `[IMG]` for Pixtral/Ministral 3) into token
// ids plus, for every image position, the vision encoder's embedding row. The layout of
// each image's tokens follows the reference processors exactly (SmolVLM2: tiles with
// <row_r_col_c> and a global tile; Pixtral: [IMG] rows separated by [IMG_BREAK], ended by
// [IMG_END]).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "media/image.h"
#include "media/pixtral_preprocess.h"
#include "media/smolvlm_preprocess.h"
#include "media/video_smolvlm.h"
#include "runtime/engine.h"
#include "vision/vision_encoder.h"

namespace pocket {

struct MultimodalPrompt {
  std::vector<int32_t> tokens;
  std::vector<const float*> embd;   // [tokens.size()]: image rows, nullptr for text tokens
  std::vector<float> storage;       // owns the image rows
  std::string text;                 // the prompt text with every placeholder expanded
  int64_t n_image_tokens = 0;
  int64_t n_tiles = 0;              // tiles (SmolVLM2) or images (Pixtral) encoded
  double encode_seconds = 0;
};

// The placeholder text the model's chat template writes for one image.
std::string image_placeholder(const VisionEncoder& enc);

// Expands the k-th image placeholder in `rendered` with images[k] and the k-th `<video>`
// with videos[k] (both in prompt order), tokenizes (special tokens parsed) and encodes every
// image and frame. Throws pocket::Error when placeholders and media differ in number, or
// when the text itself contains image tokens. Videos are SmolVLM2-only.
MultimodalPrompt build_multimodal_prompt(const Engine& engine, const VisionEncoder& enc, const std::string& rendered,
                                         const std::vector<Image>& images, ThreadPool& pool,
                                         const std::vector<SmolVlmVideo>& videos = {});

// The same, with `literal` byte ranges of `rendered` holding caller text (sorted, disjoint;
// chat/prompt_tokens.h finds them). For tokenizers with literal_control_text() (Ministral 3's
// Tekken) placeholders and control-token strings inside those ranges stay text, as
// mistral-common encodes them; a user typing "[IMG]" gets bytes, not an image slot. Other
// tokenizers ignore the ranges (Hugging Face parses special tokens everywhere).
MultimodalPrompt build_multimodal_prompt(const Engine& engine, const VisionEncoder& enc, const std::string& rendered,
                                         const std::vector<TextSpan>& literal, const std::vector<Image>& images,
                                         ThreadPool& pool, const std::vector<SmolVlmVideo>& videos = {});

// SmolVLM2 video parameters from the mmproj (tile size, longest edge, tokens per frame).
SmolVlmVideoParams smolvlm_video_params(const VisionEncoder& enc);

// The chat template transformers' SmolVLM processor substitutes when a message contains a
// video (the shipped template has no video branch).
// ref: transformers models/smolvlm/processing_smolvlm.py DEFAULT_CHAT_TEMPLATE.
extern const char* const kSmolVlmVideoChatTemplate;

// Preprocessing parameters from the mmproj's metadata (tile size, longest edge, patch,
// pixel-shuffle / merge factors, mean and std).
SmolVlmParams smolvlm_params(const VisionEncoder& enc);
PixtralParams pixtral_params(const VisionEncoder& enc);

// Decodes an image file the way the model's reference processor loads it
// (SmolVLM2: transformers load_image, EXIF applied and converted to RGB; Pixtral: as stored).
Image load_image_for(const VisionEncoder& enc, const std::string& path);

}  // namespace pocket
