// Generates real-shaped synthetic vision mmproj GGUFs (random weights, deterministic seed) for
// benchmarking the vision towers: the SigLIP towers of SmolVLM2-256M and -2.2B (projector
// "idefics3") and the Pixtral tower of Ministral 3 3B (projector "pixtral"), with the metadata
// keys and tensor names llama.cpp writes (tools/mtmd/clip-impl.h), so the files also load there.
//
//   pocket-make-mmproj --preset smolvlm2-256m --type f16 -o /tmp/256m-mmproj-f16.gguf
//
// Norms, biases and position embeddings are F32; the patch convolution kernel stays F16 (ggml's
// conv/im2col path wants F16); with q8_0, matrices whose rows are not a multiple of 32 stay F16
// as llama.cpp's mmproj quantization does (e.g. the 2.2B tower's 4304-wide ffn_down).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "noise.h"
#include "core/error.h"
#include "io/gguf_writer.h"
#include "quant/types.h"

namespace pocket {
namespace {

struct Preset {
  std::string name, projector;
  int64_t image_size;   // idefics3: tile side; pixtral: maximum image side
  int64_t patch_size, d_model, n_layers, n_heads, d_ff;
  int64_t merge;        // idefics3: pixel-shuffle scale factor; pixtral: spatial merge
  int64_t projection;   // output width (= text d_model)
  int64_t longest_edge; // idefics3 preprocessing longest edge (0 for pixtral)
};

const Preset kPresets[] = {
    {"smolvlm2-256m", "idefics3", 512, 16, 768, 12, 12, 3072, 4, 576, 2048},
    {"smolvlm2-2.2b", "idefics3", 384, 14, 1152, 27, 16, 4304, 3, 2048, 1536},
    {"pixtral-3b", "pixtral", 1540, 14, 1024, 24, 16, 4096, 2, 3072, 0},
};

using bench::Noise;

std::vector<uint8_t> quantize_matrix(const std::vector<float>& vals, DType type, int64_t n_in, int64_t n_out) {
  const size_t rb = row_bytes(type, n_in);
  std::vector<uint8_t> out(rb * static_cast<size_t>(n_out));
  const int nt = static_cast<int>(std::max(1u, std::min(2u, std::thread::hardware_concurrency())));
  std::vector<std::thread> ts;
  for (int t = 0; t < nt; ++t)
    ts.emplace_back([&, t] {
      for (int64_t r = t; r < n_out; r += nt) quantize_row(type, vals.data() + r * n_in, out.data() + r * rb, n_in);
    });
  for (auto& th : ts) th.join();
  return out;
}

void make(const Preset& p, const std::string& type_name, const std::string& out) {
  const std::optional<DType> base = dtype_from_name(type_name);
  POCKET_CHECK(base && (*base == DType::F16 || *base == DType::Q8_0 || *base == DType::F32),
               "unsupported --type '{}' (f16, q8_0, f32)", type_name);
  const bool pixtral = p.projector == "pixtral";
  GgufWriter w;
  w.set_string("general.architecture", "clip");
  w.set_string("general.name", "synthetic-" + p.name + "-mmproj-" + type_name);
  w.set_string("general.type", "mmproj");
  w.set_bool("clip.has_vision_encoder", true);
  w.set_string("clip.projector_type", p.projector);
  w.set_u32("clip.vision.image_size", static_cast<uint32_t>(p.image_size));
  w.set_u32("clip.vision.patch_size", static_cast<uint32_t>(p.patch_size));
  w.set_u32("clip.vision.embedding_length", static_cast<uint32_t>(p.d_model));
  w.set_u32("clip.vision.feed_forward_length", static_cast<uint32_t>(p.d_ff));
  w.set_u32("clip.vision.block_count", static_cast<uint32_t>(p.n_layers));
  w.set_u32("clip.vision.attention.head_count", static_cast<uint32_t>(p.n_heads));
  w.set_u32("clip.vision.projection_dim", static_cast<uint32_t>(p.projection));
  w.set_f32("clip.vision.attention.layer_norm_epsilon", pixtral ? 1e-5f : 1e-6f);
  if (pixtral) {
    w.set_array_f32("clip.vision.image_mean", {0.48145467f, 0.4578275f, 0.40821072f});
    w.set_array_f32("clip.vision.image_std", {0.26862955f, 0.2613026f, 0.2757771f});
    w.set_u32("clip.vision.spatial_merge_size", static_cast<uint32_t>(p.merge));
    w.set_f32("clip.vision.rope.freq_base", 10000.0f);
    w.set_bool("clip.use_silu", true);
  } else {
    w.set_array_f32("clip.vision.image_mean", {0.5f, 0.5f, 0.5f});
    w.set_array_f32("clip.vision.image_std", {0.5f, 0.5f, 0.5f});
    w.set_u32("clip.vision.projector.scale_factor", static_cast<uint32_t>(p.merge));
    w.set_u32("clip.vision.preproc_image_size", static_cast<uint32_t>(p.longest_edge));
    w.set_bool("clip.use_gelu", true);
  }

  Noise noise(4321, size_t{1} << 20);
  std::vector<float> buf;
  // Weight scale ~ 1/sqrt(n_in) keeps activations O(1) through the stack, so the benchmark
  // runs on ordinary values (no overflow to inf/NaN that could take slow paths).
  auto mat = [&](const std::string& name, int64_t n_in, int64_t n_out) {
    DType t = *base;
    if (type_traits(t).block_size > 1 && n_in % type_traits(t).block_size != 0) t = DType::F16;
    buf.resize(static_cast<size_t>(n_in * n_out));
    noise.fill(buf.data(), n_in * n_out, 1.0f / std::sqrt(static_cast<float>(n_in)));
    w.add_tensor(name, t, {n_in, n_out}, quantize_matrix(buf, t, n_in, n_out));
  };
  auto tensor = [&](const std::string& name, const std::vector<int64_t>& dims, float center, float spread) {
    int64_t n = 1;
    for (int64_t x : dims) n *= x;
    std::vector<float> v(static_cast<size_t>(n));
    noise.fill(v.data(), n, spread);
    for (auto& x : v) x += center;
    w.add_tensor_f32(name, DType::F32, dims, v);
  };
  auto vec = [&](const std::string& name, int64_t n, float center, float spread) { tensor(name, {n}, center, spread); };

  const int64_t d = p.d_model, P = p.patch_size;
  {
    const int64_t n_in = 3 * P * P;
    buf.resize(static_cast<size_t>(n_in * d));
    noise.fill(buf.data(), n_in * d, 1.0f / std::sqrt(static_cast<float>(n_in)));
    w.add_tensor("v.patch_embd.weight", DType::F16, {P, P, 3, d}, quantize_matrix(buf, DType::F16, n_in, d));
  }
  if (pixtral) {
    vec("v.pre_ln.weight", d, 1.0f, 0.05f);
  } else {
    const int64_t side = p.image_size / P;
    vec("v.patch_embd.bias", d, 0.0f, 0.02f);
    tensor("v.position_embd.weight", {d, side * side}, 0.0f, 0.02f);  // [n_patches, d_model]
  }
  for (int64_t il = 0; il < p.n_layers; ++il) {
    const std::string b = "v.blk." + std::to_string(il) + ".";
    mat(b + "attn_q.weight", d, d);
    mat(b + "attn_k.weight", d, d);
    mat(b + "attn_v.weight", d, d);
    mat(b + "attn_out.weight", d, d);
    if (!pixtral) {
      for (const char* n : {"attn_q", "attn_k", "attn_v", "attn_out"}) vec(b + n + ".bias", d, 0.0f, 0.02f);
    }
    if (pixtral) mat(b + "ffn_gate.weight", d, p.d_ff);
    mat(b + "ffn_up.weight", d, p.d_ff);
    mat(b + "ffn_down.weight", p.d_ff, d);
    if (!pixtral) {
      vec(b + "ffn_up.bias", p.d_ff, 0.0f, 0.02f);
      vec(b + "ffn_down.bias", d, 0.0f, 0.02f);
    }
    vec(b + "ln1.weight", d, 1.0f, 0.05f);
    vec(b + "ln2.weight", d, 1.0f, 0.05f);
    if (!pixtral) {
      vec(b + "ln1.bias", d, 0.0f, 0.02f);
      vec(b + "ln2.bias", d, 0.0f, 0.02f);
    }
    std::fprintf(stderr, "\rlayer %lld/%lld", static_cast<long long>(il + 1), static_cast<long long>(p.n_layers));
  }
  if (pixtral) {
    const int64_t m = p.merge;
    vec("mm.input_norm.weight", d, 1.0f, 0.05f);
    mat("mm.patch_merger.weight", d * m * m, d);
    mat("mm.1.weight", d, p.projection);
    mat("mm.2.weight", p.projection, p.projection);
    vec("v.token_embd.img_break", p.projection, 0.0f, 0.02f);
  } else {
    vec("v.post_ln.weight", d, 1.0f, 0.05f);
    vec("v.post_ln.bias", d, 0.0f, 0.02f);
    mat("mm.model.fc.weight", d * p.merge * p.merge, p.projection);
  }
  w.write(out);
  std::fprintf(stderr, "\nwrote %s\n", out.c_str());
}

}  // namespace
}  // namespace pocket

int main(int argc, char** argv) {
  CLI::App app{"Generate a real-shaped synthetic vision mmproj GGUF for benchmarks"};
  std::string preset, type = "f16", out;
  app.add_option("--preset", preset, "smolvlm2-256m | smolvlm2-2.2b | pixtral-3b")->required();
  app.add_option("--type", type, "Weight type of the matrices: f16, q8_0 (f32 also works)");
  app.add_option("-o,--output", out, "Output GGUF")->required();
  CLI11_PARSE(app, argc, argv);
  try {
    for (const auto& p : pocket::kPresets)
      if (p.name == preset) {
        pocket::make(p, type, out);
        return 0;
      }
    std::fprintf(stderr, "error: unknown preset '%s'\n", preset.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
  }
  return 1;
}
