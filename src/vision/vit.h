// The transformer part shared by the vision towers: a stack of pre-norm blocks
//   x = x + Wo * Attn(RoPE?(Wq n1(x)), RoPE?(Wk n1(x)), Wv n1(x));  x = x + FFN(n2(x))
// with bidirectional attention over all patches of one image. SigLIP uses LayerNorm with bias,
// biased linears and a tanh-GELU MLP; Pixtral uses RMSNorm, no biases, SwiGLU and 2D RoPE.
// ref: llama.cpp tools/mtmd/clip.cpp clip_graph::build_vit.
#pragma once

#include <memory>
#include <mutex>

#include <cstdint>
#include <vector>

#include "core/aligned.h"
#include "core/thread_pool.h"
#include "kernels/gemm_f32.h"
#include "kernels/matmul.h"
#include "vision/clip_model.h"

namespace pocket {

enum class VitNorm { LayerNorm, RmsNorm };
enum class VitFfn { GeluTanh, SwiGlu };

struct VitConfig {
  int64_t d_model = 0, d_ff = 0, n_heads = 0, head_dim = 0;
  float eps = 1e-6f;
  VitNorm norm = VitNorm::LayerNorm;
  VitFfn ffn = VitFfn::GeluTanh;
};

// Activations of one encode call, sized for n tokens; reused across the layers.
struct VitScratch {
  AlignedBuffer<float> xn;    // [n, d_model] normed block input
  AlignedBuffer<float> q;     // [n, d_model]
  AlignedBuffer<float> k;     // [n, d_model]
  AlignedBuffer<float> v;     // [n, d_model]
  AlignedBuffer<float> attn;  // [n, d_model]
  AlignedBuffer<float> proj;  // [n, d_model]
  AlignedBuffer<float> gate;  // [n, d_ff]
  AlignedBuffer<float> up;    // [n, d_ff]
  AlignedBuffer<float> attn_scratch;
  AlignedBuffer<float> x, patches, merged;  // the family's own: residual stream, patch pixels, merged / shuffled rows
  kernels::GemmF32Scratch mm;
  void reserve(const VitConfig& c, int64_t n);
  size_t bytes() const;
};

// Scratch kept between encode calls: an image's tiles (up to 17) and a video's frames are
// encoded back to back, and fresh buffers fault every page in again each time (~4% of a
// SigLIP-B tile). take() returns an idle scratch or a new one (concurrent calls get their own);
// give() keeps one idle scratch of at most kKeepBytes (a Pixtral photo's is larger: freed).
class VitScratchPool {
 public:
  static constexpr size_t kKeepBytes = size_t{128} << 20;
  std::unique_ptr<VitScratch> take() const;
  void give(std::unique_ptr<VitScratch> s) const;
  void clear() const;  // frees the idle scratch (scratch in use is unaffected)

  // take() in a scope, give() at its end.
  struct Lease {
    const VitScratchPool& pool;
    std::unique_ptr<VitScratch> s;
    explicit Lease(const VitScratchPool& p) : pool(p), s(p.take()) {}
    ~Lease() { pool.give(std::move(s)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    VitScratch& operator*() const { return *s; }
  };

 private:
  mutable std::mutex mu_;
  mutable std::unique_ptr<VitScratch> idle_;
};

// y = W x (+ b) for n rows (blocked float GEMM: all patches of an image in one product).
void vit_linear(const kernels::WeightRef& w, const std::vector<float>& bias, const float* x, int64_t n, float* y,
                kernels::GemmF32Scratch& mm, ThreadPool& pool);

// y = norm(x) row by row: LayerNorm (w, b) or RMSNorm (w; b empty).
void vit_norm(VitNorm kind, const float* x, const std::vector<float>& w, const std::vector<float>& b, float* y,
              int64_t n, int64_t d, float eps, ThreadPool& pool);

// Runs every layer in place on x [n, d_model]. rope_cos_sin: null for none, else [n, head_dim]
// (cos, sin) pairs per token applied to every head of Q and K with the adjacent-pair layout.
void vit_forward(const VitConfig& c, const std::vector<ClipLayerWeights>& layers, float* x, int64_t n,
                 const float* rope_cos_sin, VitScratch& s, ThreadPool& pool);

}  // namespace pocket
