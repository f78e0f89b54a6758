// Pixtral + Mistral-3 projector forward pass (see pixtral.h).
#include "vision/pixtral.h"

#include <cmath>
#include <cstring>

#include "core/error.h"
#include "io/gguf.h"
#include "kernels/ops.h"
#include "model/weights.h"

namespace pocket {

PixtralEncoder::PixtralEncoder(std::unique_ptr<GgufFile> file, ClipHParams hp)
    : VisionEncoder(std::move(file), std::move(hp)) {
  const GgufFile& f = *file_;
  const int64_t d = hp_.d_model;
  merge_ = hp_.spatial_merge;
  const int64_t side = hp_.image_size / hp_.patch_size;
  max_patches_ = side * side;

  vit_.d_model = d;
  vit_.d_ff = hp_.d_ff;
  vit_.n_heads = hp_.n_heads;
  vit_.head_dim = hp_.head_dim;
  vit_.eps = hp_.eps;
  vit_.norm = VitNorm::RmsNorm;
  vit_.ffn = VitFfn::SwiGlu;

  patch_embd_ = bind_patch_embd(f, hp_);
  POCKET_CHECK(!f.find_tensor("v.patch_embd.bias"), "{}: pixtral patch embedding with a bias is not supported",
               f.path());
  ln_pre_w_ = load_vector(f, "v.pre_ln.weight", d);
  const ClipLayerSpec spec{/*norm_bias=*/false, /*linear_bias=*/false, /*gated_ffn=*/true};
  for (int64_t il = 0; il < hp_.n_layers; ++il) layers_.push_back(load_clip_layer(f, hp_, il, spec));

  if (merge_ > 1) {
    mm_norm_w_ = load_vector(f, "mm.input_norm.weight", d);
    merger_ = bind_matrix(f, "mm.patch_merger.weight", d * merge_ * merge_, d);
  } else {
    POCKET_CHECK(!f.find_tensor("mm.patch_merger.weight"),
                 "{}: mm.patch_merger.weight present but spatial_merge_size is {}", f.path(), merge_);
  }

  // mm.1: [d_model -> d_mid], mm.2: [d_mid -> n_embd]; widths come from the tensors.
  const GgufTensorInfo* t1 = f.find_tensor("mm.1.weight");
  const GgufTensorInfo* t2 = f.find_tensor("mm.2.weight");
  POCKET_CHECK(t1, "{}: missing tensor 'mm.1.weight'", f.path());
  POCKET_CHECK(t2, "{}: missing tensor 'mm.2.weight'", f.path());
  const int64_t d_mid = t1->ne[1];
  n_embd_ = t2->ne[1];
  POCKET_CHECK(d_mid > 0 && n_embd_ > 0, "{}: projector tensors mm.1/mm.2 have empty shapes", f.path());
  POCKET_CHECK(hp_.projection_dim == 0 || n_embd_ == hp_.projection_dim,
               "{}: 'mm.2.weight' projects to {} but projection_dim is {}", f.path(), n_embd_, hp_.projection_dim);
  mm1_ = bind_matrix(f, "mm.1.weight", d, d_mid);
  mm2_ = bind_matrix(f, "mm.2.weight", d_mid, n_embd_);
  mm1_b_ = load_optional_vector(f, "mm.1.bias", d_mid);
  mm2_b_ = load_optional_vector(f, "mm.2.bias", n_embd_);
  img_break_ = load_optional_vector(f, "v.token_embd.img_break", n_embd_);
}

VisionEncoder::Grid PixtralEncoder::output_grid(int64_t width, int64_t height) const {
  const int64_t unit = hp_.patch_size * merge_;
  POCKET_CHECK(width > 0 && height > 0 && width % unit == 0 && height % unit == 0,
               "pixtral tower takes images whose sides are positive multiples of {} px, got {}x{}", unit, width,
               height);
  const int64_t npx = width / hp_.patch_size, npy = height / hp_.patch_size;
  POCKET_CHECK(npx <= max_patches_ && npy <= max_patches_ && npx * npy <= max_patches_,
               "image of {}x{} px has {} patches, more than the {} the tower allows ({}x{} px)", width, height,
               npx * npy, max_patches_, hp_.image_size, hp_.image_size);
  return {npy / merge_, npx / merge_};
}

void PixtralEncoder::rope_cos_sin(int64_t row, int64_t col, float* out) const {
  // Head dims [0, hd/2) rotate with the row and the even frequencies theta^(-2(2k)/hd), dims
  // [hd/2, hd) with the column and the odd ones theta^(-2(2k+1)/hd); pairs are adjacent dims
  // (GGUF layout). ref: llama.cpp clip.cpp build_rope_2d(..., interleave_freq = true).
  const int64_t hd = hp_.head_dim, quarter = hd / 4;
  const double theta = hp_.rope_theta;
  for (int64_t k = 0; k < quarter; ++k) {
    const double a_row = static_cast<double>(row) * std::pow(theta, -static_cast<double>(4 * k) / hd);
    const double a_col = static_cast<double>(col) * std::pow(theta, -static_cast<double>(4 * k + 2) / hd);
    out[2 * k] = static_cast<float>(std::cos(a_row));
    out[2 * k + 1] = static_cast<float>(std::sin(a_row));
    out[2 * (quarter + k)] = static_cast<float>(std::cos(a_col));
    out[2 * (quarter + k) + 1] = static_cast<float>(std::sin(a_col));
  }
}

void PixtralEncoder::encode(const float* pixels, int64_t width, int64_t height, std::vector<float>& out,
                            ThreadPool& pool) const {
  const Grid g = output_grid(width, height);
  const kernels::OpsTable& op = kernels::ops();
  const int64_t P = hp_.patch_size, d = hp_.d_model, hd = hp_.head_dim, m = merge_;
  const int64_t npx = width / P, npy = height / P, n = npx * npy;

  const VitScratchPool::Lease lease(scratch_);
  VitScratch& s = *lease;
  AlignedBuffer<float> x(static_cast<size_t>(n * d));  // [n, d_model] residual stream
  {
    AlignedBuffer<float> patches(static_cast<size_t>(n * 3 * P * P));  // [n, 3*P*P]
    unfold_patches(pixels, width, height, P, patches.data(), pool);
    kernels::gemm_f32(patch_embd_, patches.data(), n, x.data(), nullptr, s.mm, pool);
  }
  vit_norm(VitNorm::RmsNorm, x.data(), ln_pre_w_, {}, x.data(), n, d, hp_.eps, pool);

  AlignedBuffer<float> rope(static_cast<size_t>(n * hd));  // [n, head_dim] (cos, sin) pairs
  pool.parallel_for(n, [&](int64_t b, int64_t e, int) {
    for (int64_t t = b; t < e; ++t) rope_cos_sin(t / npx, t % npx, rope.data() + t * hd);
  });

  vit_forward(vit_, layers_, x.data(), n, rope.data(), s, pool);

  // Projector. With the merger: RMSNorm, then each m x m block becomes one d*m*m vector in
  // channel-major order, merged[(c*m + dy)*m + dx] = x[(I*m + dy)*npx + J*m + dx][c]
  // (torch unfold; llama.cpp's ggml_im2col), blocks in raster order.
  // ref: transformers Mistral3PatchMerger; llama.cpp tools/mtmd/models/pixtral.cpp.
  const int64_t n_out = g.rows * g.cols;
  const float* feats = x.data();  // [n_out, d_model] input of mm.1
  AlignedBuffer<float> merged_in, merged;
  if (m > 1) {
    vit_norm(VitNorm::RmsNorm, x.data(), mm_norm_w_, {}, x.data(), n, d, hp_.eps, pool);
    const int64_t dm = d * m * m;
    merged_in.resize(static_cast<size_t>(n_out * dm));  // [n_out, d_model*m*m]
    pool.parallel_for(n_out, [&](int64_t b, int64_t e, int) {
      for (int64_t t = b; t < e; ++t) {
        const int64_t I = t / g.cols, J = t % g.cols;
        float* dst = merged_in.data() + t * dm;
        for (int64_t dy = 0; dy < m; ++dy) {
          for (int64_t dx = 0; dx < m; ++dx) {
            const float* src = x.data() + ((I * m + dy) * npx + J * m + dx) * d;
            const int64_t k = dy * m + dx;
            for (int64_t c = 0; c < d; ++c) dst[c * m * m + k] = src[c];
          }
        }
      }
    });
    merged.resize(static_cast<size_t>(n_out * d));  // [n_out, d_model]
    kernels::gemm_f32(merger_, merged_in.data(), n_out, merged.data(), nullptr, s.mm, pool);
    feats = merged.data();
  }

  // linear_1 -> GELU -> linear_2. HF uses the exact erf GELU; llama.cpp's ggml_gelu is the tanh
  // approximation (difference far below the golden tolerance, see golden/vision/README.md).
  AlignedBuffer<float> mid(static_cast<size_t>(n_out * mm1_.n_out));  // [n_out, d_mid]
  vit_linear(mm1_, mm1_b_, feats, n_out, mid.data(), s.mm, pool);
  const int64_t dmid = mm1_.n_out;
  pool.parallel_for(n_out, [&](int64_t b, int64_t e, int) { op.gelu_erf(mid.data() + b * dmid, (e - b) * dmid); });
  out.resize(static_cast<size_t>(n_out * n_embd_));
  vit_linear(mm2_, mm2_b_, mid.data(), n_out, out.data(), s.mm, pool);
}

std::pair<int64_t, int64_t> PixtralEncoder::typical_input() const { return {1008, 756}; }

double PixtralEncoder::encode_flops(int64_t width, int64_t height) const {
  const double n = static_cast<double>((width / hp_.patch_size) * (height / hp_.patch_size));
  const double d = static_cast<double>(hp_.d_model), ff = static_cast<double>(hp_.d_ff), e = static_cast<double>(n_embd_);
  double flop = static_cast<double>(hp_.n_layers) * (2 * n * (4 * d * d + 3 * d * ff) + 4 * n * n * d);
  flop += 2 * n * 3.0 * static_cast<double>(hp_.patch_size * hp_.patch_size) * d;
  const double n_out = static_cast<double>(n_tokens(width, height));
  return flop + 2 * n * d * d + 2 * n_out * d * e + 2 * n_out * e * e;  // merger + two-layer projector
}

}  // namespace pocket
