// mmproj ("clip" architecture) GGUF files as llama.cpp writes them: hyperparameters and the
// weights of the ViT blocks shared by both encoder families (SigLIP for idefics3 / SmolVLM2,
// Pixtral for Ministral 3). Everything read from the file is validated here, so the forward
// passes can assume consistent shapes.
// Key and tensor names: llama.cpp tools/mtmd/clip-impl.h, gguf-py/gguf/constants.py.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/matmul.h"

namespace pocket {

class GgufFile;

enum class ProjectorType { Idefics3, Pixtral };

struct ClipHParams {
  ProjectorType projector = ProjectorType::Idefics3;
  std::string projector_name;   // clip.projector_type as written
  int64_t image_size = 0;       // idefics3: tile side; pixtral: maximum image side
  int64_t patch_size = 0;
  int64_t d_model = 0;          // clip.vision.embedding_length
  int64_t d_ff = 0;
  int64_t n_layers = 0;
  int64_t n_heads = 0;
  int64_t head_dim = 0;
  int64_t projection_dim = 0;   // width of the output embeddings (= text d_model)
  float eps = 1e-6f;            // norm epsilon (LayerNorm or RMSNorm)
  std::array<float, 3> image_mean{0.5f, 0.5f, 0.5f};
  std::array<float, 3> image_std{0.5f, 0.5f, 0.5f};
  int64_t scale_factor = 0;     // idefics3 pixel-shuffle factor r
  int64_t spatial_merge = 0;    // pixtral patch-merger size m
  int64_t preproc_image_size = 0;  // idefics3 longest edge for tiling (0 when absent)
  float rope_theta = 10000.0f;  // pixtral 2D RoPE base
};

// Reads and validates the hyperparameters; throws pocket::Error for a file that is not a
// vision mmproj, an unsupported projector type, or missing/inconsistent values.
ClipHParams read_clip_hparams(const GgufFile& f);

// One ViT block. Biases and the SwiGLU gate are empty/invalid when the family has none.
struct ClipLayerWeights {
  std::vector<float> ln1_w, ln1_b;  // [d_model] attention pre-norm
  std::vector<float> ln2_w, ln2_b;  // [d_model] FFN pre-norm
  kernels::WeightRef wq, wk, wv, wo;  // [d_model -> d_model]
  std::vector<float> bq, bk, bv, bo;  // [d_model]
  kernels::WeightRef ffn_gate;        // [d_model -> d_ff] (SwiGLU only)
  kernels::WeightRef ffn_up;          // [d_model -> d_ff]
  kernels::WeightRef ffn_down;        // [d_ff -> d_model]
  std::vector<float> b_up;            // [d_ff]
  std::vector<float> b_down;          // [d_model]
};

struct ClipLayerSpec {
  bool norm_bias = false;  // LayerNorm with bias (SigLIP) vs RMSNorm (Pixtral)
  bool linear_bias = false;
  bool gated_ffn = false;  // SwiGLU (gate, up, down) vs plain up/act/down
};

ClipLayerWeights load_clip_layer(const GgufFile& f, const ClipHParams& hp, int64_t il, const ClipLayerSpec& spec);

// The patch-embedding convolution as a matrix over unfolded patches: ggml stores the kernel as
// [P, P, 3, d_model] (kx fastest, then ky, then channel), so row o is output channel o and its
// input index is c*P*P + ky*P + kx — the order unfold_patches writes.
kernels::WeightRef bind_patch_embd(const GgufFile& f, const ClipHParams& hp);

// Optional vector: empty when the tensor is absent, validated when present.
std::vector<float> load_optional_vector(const GgufFile& f, const std::string& name, int64_t n);

// Unfolds a CHW float image ([3, height, width]) into [n_py * n_px, 3*P*P] patch rows (raster
// order of patches), each in the (channel, ky, kx) order of bind_patch_embd: every patch row is
// P contiguous runs of P pixels per channel. Pixels past the last whole patch are ignored, as a
// stride-P convolution does. Rows of patches are split across the pool.
void unfold_patches(const float* pixels_chw, int64_t width, int64_t height, int64_t patch, float* out,
                    ThreadPool& pool);

}  // namespace pocket
