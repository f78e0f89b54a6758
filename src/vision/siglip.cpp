// SigLIP + Idefics3 connector forward pass (see siglip.h).
#include "vision/siglip.h"

#include <cstring>

#include "core/error.h"
#include "io/gguf.h"
#include "kernels/ops.h"
#include "model/weights.h"

namespace pocket {

SiglipEncoder::SiglipEncoder(std::unique_ptr<GgufFile> file, ClipHParams hp) : VisionEncoder(std::move(file), std::move(hp)) {
  const GgufFile& f = *file_;
  const int64_t d = hp_.d_model, r = hp_.scale_factor;
  n_side_ = hp_.image_size / hp_.patch_size;
  // llama.cpp pads the patch grid up to a multiple of the scale factor with zero vectors
  // (clip.cpp build_patch_merge_permute); for released models it divides exactly.
  n_side_out_ = (n_side_ + r - 1) / r;

  vit_.d_model = d;
  vit_.d_ff = hp_.d_ff;
  vit_.n_heads = hp_.n_heads;
  vit_.head_dim = hp_.head_dim;
  vit_.eps = hp_.eps;
  vit_.norm = VitNorm::LayerNorm;
  vit_.ffn = VitFfn::GeluTanh;

  patch_embd_ = bind_patch_embd(f, hp_);
  patch_bias_ = load_vector(f, "v.patch_embd.bias", d);
  {
    const char* name = "v.position_embd.weight";
    const GgufTensorInfo* t = f.find_tensor(name);
    POCKET_CHECK(t, "{}: missing tensor '{}'", f.path(), name);
    POCKET_CHECK(t->n_dims == 2 && t->ne[0] == d && t->ne[1] == n_side_ * n_side_,
                 "{}: tensor '{}' has shape [{}, {}], expected [{}, {}] ({}x{} patches)", f.path(), name, t->ne[0],
                 t->ne[1], d, n_side_ * n_side_, n_side_, n_side_);
    pos_embd_ = load_vector(f, name, d * n_side_ * n_side_);
  }
  const ClipLayerSpec spec{/*norm_bias=*/true, /*linear_bias=*/true, /*gated_ffn=*/false};
  for (int64_t il = 0; il < hp_.n_layers; ++il) layers_.push_back(load_clip_layer(f, hp_, il, spec));
  post_ln_w_ = load_vector(f, "v.post_ln.weight", d);
  post_ln_b_ = load_vector(f, "v.post_ln.bias", d);

  const char* fc = "mm.model.fc.weight";
  const GgufTensorInfo* t = f.find_tensor(fc);
  POCKET_CHECK(t, "{}: missing tensor '{}'", f.path(), fc);
  n_embd_ = t->n_dims == 2 ? t->ne[1] : 0;
  POCKET_CHECK(n_embd_ > 0, "{}: tensor '{}' must be a matrix", f.path(), fc);
  POCKET_CHECK(hp_.projection_dim == 0 || n_embd_ == hp_.projection_dim,
               "{}: '{}' projects to {} but projection_dim is {}", f.path(), fc, n_embd_, hp_.projection_dim);
  proj_ = bind_matrix(f, fc, d * r * r, n_embd_);
}

VisionEncoder::Grid SiglipEncoder::output_grid(int64_t width, int64_t height) const {
  POCKET_CHECK(width == hp_.image_size && height == hp_.image_size,
               "{} tower takes {}x{} tiles, got a {}x{} image", hp_.projector_name, hp_.image_size, hp_.image_size,
               width, height);
  return {n_side_out_, n_side_out_};
}

void SiglipEncoder::encode(const float* pixels, int64_t width, int64_t height, std::vector<float>& out,
                           ThreadPool& pool) const {
  output_grid(width, height);  // validates the size
  const kernels::OpsTable& op = kernels::ops();
  const int64_t P = hp_.patch_size, d = hp_.d_model, r = hp_.scale_factor;
  const int64_t n = n_side_ * n_side_;

  const VitScratchPool::Lease lease(scratch_);
  VitScratch& s = *lease;
  AlignedBuffer<float>& x = s.x;  // [n, d_model] residual stream
  x.resize(static_cast<size_t>(n * d));
  {
    AlignedBuffer<float>& patches = s.patches;  // [n, 3*P*P]
    patches.resize(static_cast<size_t>(n * 3 * P * P));
    unfold_patches(pixels, width, height, P, patches.data(), pool);
    kernels::gemm_f32(patch_embd_, patches.data(), n, x.data(), patch_bias_.data(), s.mm, pool);
  }
  // The conv bias came with the product; now the learned position of each patch: raster
  // order, identity mapping (llama.cpp adds the whole table; HF's bucketing equals it for a
  // full tile).
  pool.parallel_for(n, [&](int64_t b, int64_t e, int) {
    for (int64_t t = b; t < e; ++t) op.add(x.data() + t * d, pos_embd_.data() + t * d, d);
  });

  vit_forward(vit_, layers_, x.data(), n, nullptr, s, pool);
  vit_norm(VitNorm::LayerNorm, x.data(), post_ln_w_, post_ln_b_, x.data(), n, d, hp_.eps, pool);

  // Pixel shuffle: output token (I, J) is the concatenation, row-major inside the r x r block,
  // of patches (I*r + a, J*r + b): shuffled[t][(a*r + b)*d + c] = x[(I*r + a)*n_side + J*r + b][c].
  // ref: transformers SmolVLMConnector.pixel_shuffle; llama.cpp build_patch_merge_permute.
  const int64_t no = n_side_out_, n_out = no * no, dr = d * r * r;
  AlignedBuffer<float>& shuffled = s.merged;  // [n_out, d_model*r*r]
  shuffled.resize(static_cast<size_t>(n_out * dr));
  pool.parallel_for(n_out, [&](int64_t b, int64_t e, int) {
    for (int64_t t = b; t < e; ++t) {
      const int64_t I = t / no, J = t % no;
      for (int64_t a = 0; a < r; ++a) {
        for (int64_t bb = 0; bb < r; ++bb) {
          float* dst = shuffled.data() + t * dr + (a * r + bb) * d;
          const int64_t py = I * r + a, px = J * r + bb;
          if (py < n_side_ && px < n_side_) {
            std::memcpy(dst, x.data() + (py * n_side_ + px) * d, sizeof(float) * d);
          } else {
            std::memset(dst, 0, sizeof(float) * d);
          }
        }
      }
    }
  });

  out.resize(static_cast<size_t>(n_out * n_embd_));
  kernels::gemm_f32(proj_, shuffled.data(), n_out, out.data(), nullptr, s.mm, pool);
}

std::pair<int64_t, int64_t> SiglipEncoder::typical_input() const { return {hp_.image_size, hp_.image_size}; }

double SiglipEncoder::encode_flops(int64_t width, int64_t height) const {
  const double n = static_cast<double>((width / hp_.patch_size) * (height / hp_.patch_size));
  const double d = static_cast<double>(hp_.d_model), ff = static_cast<double>(hp_.d_ff), e = static_cast<double>(n_embd_);
  double flop = static_cast<double>(hp_.n_layers) * (2 * n * (4 * d * d + 2 * d * ff) + 4 * n * n * d);
  flop += 2 * n * 3.0 * static_cast<double>(hp_.patch_size * hp_.patch_size) * d;
  return flop + 2 * n * d * e;  // pixel shuffle + projection
}

}  // namespace pocket
