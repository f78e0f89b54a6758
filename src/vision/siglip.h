// SigLIP vision tower with the Idefics3 connector, as used by SmolVLM2 (projector "idefics3"):
// patch conv with bias -> learned positions -> LayerNorm ViT blocks (tanh-GELU MLP) ->
// post-LayerNorm -> pixel shuffle by scale_factor -> bias-free linear projection.
// ref: transformers models/smolvlm/modeling_smolvlm.py; llama.cpp tools/mtmd/models/siglip.cpp.
#pragma once

#include "vision/vision_encoder.h"
#include "vision/vit.h"

namespace pocket {

class SiglipEncoder final : public VisionEncoder {
 public:
  SiglipEncoder(std::unique_ptr<GgufFile> file, ClipHParams hp);

  Grid output_grid(int64_t width, int64_t height) const override;
  void encode(const float* pixels_hwc, int64_t width, int64_t height, std::vector<float>& out,
              ThreadPool& pool) const override;

 private:
  int64_t n_side_ = 0;                 // patches per tile side
  int64_t n_side_out_ = 0;             // pixel-shuffled tokens per side (padded up to scale_factor)
  VitConfig vit_;
  kernels::WeightRef patch_embd_;      // [3*P*P -> d_model]
  std::vector<float> patch_bias_;      // [d_model]
  std::vector<float> pos_embd_;        // [n_side^2, d_model]
  std::vector<ClipLayerWeights> layers_;
  std::vector<float> post_ln_w_, post_ln_b_;  // [d_model]
  kernels::WeightRef proj_;            // [d_model*r^2 -> n_embd]
};

}  // namespace pocket
