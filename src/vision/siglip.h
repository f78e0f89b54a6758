// SigLIP vision tower with the Idefics3 connector, as used by SmolVLM2 (projector "idefics3"):
// patch conv with bias -> learned positions -> LayerNorm ViT blocks (tanh-GELU MLP) ->
// post-LayerNorm -> pixel shuffle by scale_factor -> bias-free linear projection.
// ref: transformers models/smolvlm/modeling_smolvlm.py; llama.cpp tools/mtmd/models/siglip.cpp.
#pragma once

#include "media/smolvlm_preprocess.h"
#include "vision/vision_encoder.h"
#include "vision/vit.h"

namespace pocket {

class SiglipEncoder final : public VisionEncoder {
 public:
  SiglipEncoder(std::unique_ptr<GgufFile> file, ClipHParams hp);

  Grid output_grid(int64_t width, int64_t height) const override;
  void encode(const float* pixels_chw, int64_t width, int64_t height, std::vector<float>& out,
              ThreadPool& pool) const override;

  std::pair<int64_t, int64_t> typical_input() const override;
  double encode_flops(int64_t width, int64_t height) const override;
  void release_scratch() const override { scratch_.clear(); }
  DType weight_type() const override { return layers_.empty() ? DType::F32 : layers_[0].wq.type; }

  // ---- the family's media rules (vision/smolvlm_family.cpp) ----
  Image load_image(std::span<const uint8_t> bytes, const DecodeLimits& limits) const override;
  Image load_image_file(const std::string& path, const DecodeLimits& limits) const override;
  bool takes_video() const override { return true; }
  SmolVlmVideoParams video_params() const override;
  std::string video_chat_template() const override;
  MediaExpansion expand(const std::string& rendered, const std::vector<TextSpan>& literal, const PromptMedia& media,
                        ThreadPool& pool) const override;
  PromptMedia one_tile_media(const std::function<Image(int, int)>& make) const override;
  bool splits_images() const override { return true; }
  PreprocessDump preprocess_dump(const Image& image, const ImageDetail& detail) const override;
  std::string size_plan_json(int width, int height, const ImageDetail& detail) const override;
  int64_t planned_image_tokens(int width, int height, const ImageDetail& detail) const override;

 private:
  SmolVlmParams preprocess_params() const;  // tile size, longest edge, mean/std from the mmproj
  // The processor's parameters for one width x height image under `detail`.
  SmolVlmParams params_for(int width, int height, const ImageDetail& detail) const;
  int64_t n_side_ = 0;                 // patches per tile side
  int64_t n_side_out_ = 0;             // pixel-shuffled tokens per side (padded up to scale_factor)
  VitConfig vit_;
  kernels::WeightRef patch_embd_;      // [3*P*P -> d_model]
  std::vector<float> patch_bias_;      // [d_model]
  std::vector<float> pos_embd_;        // [n_side^2, d_model]
  std::vector<ClipLayerWeights> layers_;
  std::vector<float> post_ln_w_, post_ln_b_;  // [d_model]
  kernels::WeightRef proj_;            // [d_model*r^2 -> n_embd]
  VitScratchPool scratch_;               // activations kept between encode calls
};

}  // namespace pocket
