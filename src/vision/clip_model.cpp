// Reading mmproj hyperparameters and ViT block weights, with every value checked.
#include "vision/clip_model.h"

#include <cmath>
#include <cstring>

#include "core/error.h"
#include "io/gguf.h"
#include "model/weights.h"
#include "quant/types.h"

namespace pocket {
namespace {

// Limits far above any released tower; they keep a corrupt header from asking for absurd
// buffers before the tensor shape checks run.
constexpr int64_t kMaxWidth = 1 << 16;
constexpr int64_t kMaxLayers = 512;
constexpr int64_t kMaxImage = 1 << 15;

int64_t require_int(const GgufFile& f, const char* key, int64_t lo, int64_t hi) {
  const std::optional<int64_t> v = f.get_int(key);
  POCKET_CHECK(v.has_value(), "{}: missing metadata key '{}'", f.path(), key);
  POCKET_CHECK(*v >= lo && *v <= hi, "{}: '{}' = {} is out of range [{}, {}]", f.path(), key, *v, lo, hi);
  return *v;
}

int64_t optional_int(const GgufFile& f, const char* key, int64_t def, int64_t lo, int64_t hi) {
  const std::optional<int64_t> v = f.get_int(key);
  if (!v) return def;
  POCKET_CHECK(*v >= lo && *v <= hi, "{}: '{}' = {} is out of range [{}, {}]", f.path(), key, *v, lo, hi);
  return *v;
}

std::array<float, 3> read_rgb(const GgufFile& f, const char* key, std::array<float, 3> def, bool positive) {
  const GgufArray* a = f.get_array(key);
  if (!a) return def;
  POCKET_CHECK(a->count == 3 && a->elem_type != GgufType::STRING, "{}: '{}' must be an array of 3 numbers", f.path(),
               key);
  std::array<float, 3> out{};
  for (int i = 0; i < 3; ++i) {
    out[i] = static_cast<float>(a->number_at(i));
    POCKET_CHECK(std::isfinite(out[i]) && (!positive || out[i] > 0), "{}: '{}' has an invalid value {}", f.path(), key,
                 out[i]);
  }
  return out;
}

const GgufTensorInfo& require_tensor(const GgufFile& f, const std::string& name) {
  const GgufTensorInfo* t = f.find_tensor(name);
  POCKET_CHECK(t, "{}: missing tensor '{}'", f.path(), name);
  return *t;
}

}  // namespace

ClipHParams read_clip_hparams(const GgufFile& f) {
  ClipHParams hp;
  POCKET_CHECK(f.get_bool_or("clip.has_vision_encoder", true), "{}: mmproj has no vision encoder", f.path());
  const std::optional<std::string> proj = f.get_string("clip.projector_type");
  POCKET_CHECK(proj.has_value(), "{}: not a vision mmproj (no 'clip.projector_type')", f.path());
  hp.projector_name = *proj;
  if (*proj == "idefics3") {
    hp.projector = ProjectorType::Idefics3;
  } else if (*proj == "pixtral") {
    hp.projector = ProjectorType::Pixtral;
  } else {
    fail("{}: unsupported vision projector type '{}' (supported: idefics3, pixtral)", f.path(), *proj);
  }

  hp.image_size = require_int(f, "clip.vision.image_size", 1, kMaxImage);
  hp.patch_size = require_int(f, "clip.vision.patch_size", 1, 1024);
  hp.d_model = require_int(f, "clip.vision.embedding_length", 1, kMaxWidth);
  hp.n_layers = require_int(f, "clip.vision.block_count", 1, kMaxLayers);
  hp.n_heads = require_int(f, "clip.vision.attention.head_count", 1, kMaxWidth);
  // d_ff and projection_dim are also implied by tensor shapes; 0 means "take it from the tensor".
  hp.d_ff = optional_int(f, "clip.vision.feed_forward_length", 0, 1, 4 * kMaxWidth);
  hp.projection_dim = optional_int(f, "clip.vision.projection_dim", 0, 1, 4 * kMaxWidth);
  POCKET_CHECK(hp.d_model % hp.n_heads == 0, "{}: embedding_length {} is not a multiple of head_count {}", f.path(),
               hp.d_model, hp.n_heads);
  hp.head_dim = hp.d_model / hp.n_heads;
  if (hp.d_ff == 0) {
    const GgufTensorInfo& t = require_tensor(f, "v.blk.0.ffn_up.weight");
    hp.d_ff = t.ne[0] == hp.d_model ? t.ne[1] : t.ne[0];
  }
  POCKET_CHECK(hp.patch_size <= hp.image_size, "{}: patch_size {} exceeds image_size {}", f.path(), hp.patch_size,
               hp.image_size);

  const double eps = f.get_float_or("clip.vision.attention.layer_norm_epsilon",
                                    hp.projector == ProjectorType::Pixtral ? 1e-5 : 1e-6);
  POCKET_CHECK(std::isfinite(eps) && eps > 0 && eps < 1, "{}: invalid layer_norm_epsilon {}", f.path(), eps);
  hp.eps = static_cast<float>(eps);
  hp.image_mean = read_rgb(f, "clip.vision.image_mean", hp.image_mean, false);
  hp.image_std = read_rgb(f, "clip.vision.image_std", hp.image_std, true);

  if (hp.projector == ProjectorType::Idefics3) {
    hp.scale_factor = require_int(f, "clip.vision.projector.scale_factor", 1, 64);
    hp.preproc_image_size = optional_int(f, "clip.vision.preproc_image_size", 0, 0, kMaxImage);
    POCKET_CHECK(!f.get_bool_or("clip.use_silu", false), "{}: idefics3 tower with SiLU FFN is not supported",
                 f.path());
  } else {
    // No merger (original Pixtral-12B) is spatial_merge_size absent or 1.
    hp.spatial_merge = optional_int(f, "clip.vision.spatial_merge_size", 1, 1, 64);
    const double theta = f.get_float_or("clip.vision.rope.freq_base", 10000.0);
    POCKET_CHECK(std::isfinite(theta) && theta > 1, "{}: invalid rope freq_base {}", f.path(), theta);
    hp.rope_theta = static_cast<float>(theta);
    // 2D RoPE splits each head into a row half and a column half of adjacent pairs.
    POCKET_CHECK(hp.head_dim % 4 == 0, "{}: pixtral head_dim {} must be a multiple of 4", f.path(), hp.head_dim);
  }
  return hp;
}

std::vector<float> load_optional_vector(const GgufFile& f, const std::string& name, int64_t n) {
  if (!f.find_tensor(name)) return {};
  return load_vector(f, name, n);
}

ClipLayerWeights load_clip_layer(const GgufFile& f, const ClipHParams& hp, int64_t il, const ClipLayerSpec& spec) {
  const std::string p = "v.blk." + std::to_string(il) + ".";
  const int64_t d = hp.d_model, ff = hp.d_ff;
  ClipLayerWeights w;
  w.ln1_w = load_vector(f, p + "ln1.weight", d);
  w.ln2_w = load_vector(f, p + "ln2.weight", d);
  if (spec.norm_bias) {
    w.ln1_b = load_vector(f, p + "ln1.bias", d);
    w.ln2_b = load_vector(f, p + "ln2.bias", d);
  }
  w.wq = bind_matrix(f, p + "attn_q.weight", d, d);
  w.wk = bind_matrix(f, p + "attn_k.weight", d, d);
  w.wv = bind_matrix(f, p + "attn_v.weight", d, d);
  w.wo = bind_matrix(f, p + "attn_out.weight", d, d);
  if (spec.linear_bias) {
    w.bq = load_vector(f, p + "attn_q.bias", d);
    w.bk = load_vector(f, p + "attn_k.bias", d);
    w.bv = load_vector(f, p + "attn_v.bias", d);
    w.bo = load_vector(f, p + "attn_out.bias", d);
  }

  std::string up = p + "ffn_up", down = p + "ffn_down";
  // Some old exports swapped the names of fc1/fc2; the shapes tell them apart unambiguously
  // when d_ff != d_model (ref: llama.cpp tools/mtmd/clip.cpp load_tensors, "legacy naming").
  const GgufTensorInfo& tu = require_tensor(f, up + ".weight");
  if (!spec.gated_ffn && ff != d && tu.n_dims == 2 && tu.ne[0] == ff && tu.ne[1] == d) std::swap(up, down);
  w.ffn_up = bind_matrix(f, up + ".weight", d, ff);
  w.ffn_down = bind_matrix(f, down + ".weight", ff, d);
  if (spec.gated_ffn) w.ffn_gate = bind_matrix(f, p + "ffn_gate.weight", d, ff);
  if (spec.linear_bias) {
    w.b_up = load_vector(f, up + ".bias", ff);
    w.b_down = load_vector(f, down + ".bias", d);
  }
  return w;
}

kernels::WeightRef bind_patch_embd(const GgufFile& f, const ClipHParams& hp) {
  const char* name = "v.patch_embd.weight";
  const GgufTensorInfo& t = require_tensor(f, name);
  const int64_t P = hp.patch_size;
  POCKET_CHECK(t.ne[0] == P && t.ne[1] == P && t.ne[2] == 3 && t.ne[3] == hp.d_model,
               "{}: tensor '{}' has shape [{}, {}, {}, {}], expected [{}, {}, 3, {}]", f.path(), name, t.ne[0], t.ne[1],
               t.ne[2], t.ne[3], P, P, hp.d_model);
  const int64_t n_in = 3 * P * P;
  const TypeTraits& tt = type_traits(t.type);
  POCKET_CHECK(tt.supported && n_in % tt.block_size == 0, "{}: tensor '{}' has unsupported type {} for a {}-wide row",
               f.path(), name, dtype_name(t.type), n_in);
  kernels::WeightRef w;
  w.type = t.type;
  w.data = t.data;
  w.n_in = n_in;
  w.n_out = hp.d_model;
  w.row_stride = row_bytes(t.type, n_in);
  return w;
}

void unfold_patches(const float* px, int64_t width, int64_t height, int64_t P, float* out, ThreadPool& pool) {
  const int64_t npx = width / P, npy = height / P;
  pool.parallel_for(npy, [&](int64_t py0, int64_t py1, int) {
    for (int64_t py = py0; py < py1; ++py) {
      for (int64_t qx = 0; qx < npx; ++qx) {
        float* row = out + (py * npx + qx) * 3 * P * P;
        for (int64_t c = 0; c < 3; ++c)
          for (int64_t ky = 0; ky < P; ++ky)
            std::memcpy(row + (c * P + ky) * P, px + (c * height + py * P + ky) * width + qx * P, P * sizeof(float));
      }
    }
  });
}

}  // namespace pocket
