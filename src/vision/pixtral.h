// Pixtral vision tower with the Mistral-3 projector, as used by Ministral 3 (projector
// "pixtral"): patch conv without bias -> RMSNorm (ln_pre) -> RMSNorm/SwiGLU ViT blocks with 2D
// RoPE -> projector: RMSNorm (mm.input_norm), m x m patch merger, linear, GELU, linear.
// ref: transformers models/pixtral/modeling_pixtral.py, models/mistral3/modeling_mistral3.py;
// llama.cpp tools/mtmd/models/pixtral.cpp.
#pragma once

#include "media/pixtral_preprocess.h"
#include "vision/vision_encoder.h"
#include "vision/vit.h"

namespace pocket {

class PixtralEncoder final : public VisionEncoder {
 public:
  PixtralEncoder(std::unique_ptr<GgufFile> file, ClipHParams hp);

  Grid output_grid(int64_t width, int64_t height) const override;
  void encode(const float* pixels_chw, int64_t width, int64_t height, std::vector<float>& out,
              ThreadPool& pool) const override;

  std::pair<int64_t, int64_t> typical_input() const override;
  double encode_flops(int64_t width, int64_t height) const override;
  void release_scratch() const override { scratch_.clear(); }
  DType weight_type() const override { return layers_.empty() ? DType::F32 : layers_[0].wq.type; }

  // ---- the family's media rules (vision/pixtral_family.cpp) ----
  Image load_image(std::span<const uint8_t> bytes, const DecodeLimits& limits) const override;
  Image load_image_file(const std::string& path, const DecodeLimits& limits) const override;
  MediaExpansion expand(const std::string& rendered, const std::vector<TextSpan>& literal, const PromptMedia& media,
                        ThreadPool& pool) const override;
  PromptMedia one_tile_media(const std::function<Image(int, int)>& make) const override;
  PreprocessDump preprocess_dump(const Image& image, const ImageDetail& detail) const override;
  std::string size_plan_json(int width, int height, const ImageDetail& detail) const override;
  int64_t planned_image_tokens(int width, int height, const ImageDetail& detail) const override;

  // (cos, sin) of the 2D RoPE for a patch at (row, col): [head_dim] floats, one pair per
  // adjacent dimension pair of a head. Exposed for tests.
  void rope_cos_sin(int64_t row, int64_t col, float* out) const;

 private:
  PixtralParams preprocess_params(const ImageDetail& detail = {}) const;  // max size, patch, merge, mean/std from the mmproj
  VitConfig vit_;
  int64_t merge_ = 1;                   // spatial merge m (1 = no merger)
  int64_t max_patches_ = 0;             // bound on patches per image (from image_size)
  kernels::WeightRef patch_embd_;       // [3*P*P -> d_model]
  std::vector<float> ln_pre_w_;         // [d_model]
  std::vector<ClipLayerWeights> layers_;
  std::vector<float> mm_norm_w_;        // [d_model] (with the merger only)
  kernels::WeightRef merger_;           // [d_model*m*m -> d_model]
  kernels::WeightRef mm1_, mm2_;        // [d_model -> d_mid], [d_mid -> n_embd]
  std::vector<float> mm1_b_, mm2_b_;    // optional biases
  VitScratchPool scratch_;               // activations kept between encode calls
};

// The text of one image's tokens: rows x ([IMG] x cols, [IMG_BREAK]), the last [IMG_BREAK]
// replaced by [IMG_END] (mistral-common ImageEncoder).
std::string pixtral_image_layout(int rows, int cols);

}  // namespace pocket
