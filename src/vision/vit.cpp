// Forward pass of the shared ViT block stack (see vit.h).
#include "vision/vit.h"

#include <cmath>

#include "kernels/attention_full.h"
#include "kernels/ops.h"

namespace pocket {

size_t VitScratch::bytes() const {
  size_t n = 0;
  for (const AlignedBuffer<float>* b : {&xn, &q, &k, &v, &attn, &proj, &gate, &up, &attn_scratch, &x, &patches, &merged})
    n += b->size() * sizeof(float);
  n += (mm.panels.size() + mm.q8_scales.size()) * sizeof(float) + mm.q8.size() + mm.bf16.size() * 2;
  return n;
}

std::unique_ptr<VitScratch> VitScratchPool::take() const {
  std::lock_guard<std::mutex> lk(mu_);
  return idle_ ? std::move(idle_) : std::make_unique<VitScratch>();
}

void VitScratchPool::give(std::unique_ptr<VitScratch> s) const {
  if (!s || s->bytes() > kKeepBytes) return;
  std::lock_guard<std::mutex> lk(mu_);
  if (!idle_) idle_ = std::move(s);
}

void VitScratchPool::clear() const {
  std::unique_ptr<VitScratch> drop;
  std::lock_guard<std::mutex> lk(mu_);
  drop = std::move(idle_);
}

void VitScratch::reserve(const VitConfig& c, int64_t n) {
  const size_t nd = static_cast<size_t>(n * c.d_model), nf = static_cast<size_t>(n * c.d_ff);
  for (AlignedBuffer<float>* b : {&xn, &q, &k, &v, &attn, &proj})
    if (b->size() < nd) b->resize(nd);
  if (up.size() < nf) up.resize(nf);
  if (c.ffn == VitFfn::SwiGlu && gate.size() < nf) gate.resize(nf);
}

void vit_linear(const kernels::WeightRef& w, const std::vector<float>& bias, const float* x, int64_t n, float* y,
                kernels::GemmF32Scratch& mm, ThreadPool& pool) {
  kernels::gemm_f32(w, x, n, y, bias.empty() ? nullptr : bias.data(), mm, pool);
}

void vit_norm(VitNorm kind, const float* x, const std::vector<float>& w, const std::vector<float>& b, float* y,
              int64_t n, int64_t d, float eps, ThreadPool& pool) {
  const kernels::OpsTable& op = kernels::ops();
  pool.parallel_for(n, [&](int64_t r0, int64_t r1, int) {
    for (int64_t t = r0; t < r1; ++t) {
      if (kind == VitNorm::LayerNorm) {
        op.layernorm(x + t * d, w.data(), b.empty() ? nullptr : b.data(), y + t * d, d, eps);
      } else {
        op.rmsnorm(x + t * d, w.data(), y + t * d, d, eps);
      }
    }
  });
}

void vit_forward(const VitConfig& c, const std::vector<ClipLayerWeights>& layers, float* x, int64_t n,
                 const float* rope_cos_sin, VitScratch& s, ThreadPool& pool) {
  const kernels::OpsTable& op = kernels::ops();
  const int64_t d = c.d_model, ff = c.d_ff;
  s.reserve(c, n);
  float* xn = s.xn.data();      // [n, d_model]
  float* q = s.q.data();        // [n, d_model] = [n, n_heads, head_dim]
  float* k = s.k.data();        // [n, d_model]
  float* v = s.v.data();        // [n, d_model]
  float* attn = s.attn.data();  // [n, d_model]
  float* proj = s.proj.data();  // [n, d_model]
  float* up = s.up.data();      // [n, d_ff]

  kernels::FullAttentionArgs aa;
  aa.q = q;
  aa.k = k;
  aa.v = v;
  aa.out = attn;
  aa.n_tokens = n;
  aa.n_heads = static_cast<int>(c.n_heads);
  aa.head_dim = static_cast<int>(c.head_dim);
  aa.q_stride = aa.k_stride = aa.v_stride = aa.out_stride = d;
  aa.scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(c.head_dim)));

  for (const ClipLayerWeights& L : layers) {
    // Attention sub-block.
    vit_norm(c.norm, x, L.ln1_w, L.ln1_b, xn, n, d, c.eps, pool);
    vit_linear(L.wq, L.bq, xn, n, q, s.mm, pool);
    vit_linear(L.wk, L.bk, xn, n, k, s.mm, pool);
    vit_linear(L.wv, L.bv, xn, n, v, s.mm, pool);
    if (rope_cos_sin) {
      const int nh = static_cast<int>(c.n_heads), hd = static_cast<int>(c.head_dim);
      pool.parallel_for(n, [&](int64_t b, int64_t e, int) {
        for (int64_t t = b; t < e; ++t) {
          kernels::rope_adjacent(q + t * d, nh, hd, hd, rope_cos_sin + t * hd);
          kernels::rope_adjacent(k + t * d, nh, hd, hd, rope_cos_sin + t * hd);
        }
      });
    }
    // An F32 tower keeps float attention; F16 / BF16 / quantized ones already trade that precision.
    aa.bf16 = L.wq.type != DType::F32;
    kernels::attention_full(aa, s.attn_scratch, pool);
    vit_linear(L.wo, L.bo, attn, n, proj, s.mm, pool);
    pool.parallel_for(n, [&](int64_t b, int64_t e, int) { op.add(x + b * d, proj + b * d, (e - b) * d); });

    // FFN sub-block.
    vit_norm(c.norm, x, L.ln2_w, L.ln2_b, xn, n, d, c.eps, pool);
    vit_linear(L.ffn_up, L.b_up, xn, n, up, s.mm, pool);
    if (c.ffn == VitFfn::SwiGlu) {
      float* gate = s.gate.data();  // [n, d_ff]
      vit_linear(L.ffn_gate, {}, xn, n, gate, s.mm, pool);
      pool.parallel_for(n, [&](int64_t b, int64_t e, int) { op.swiglu(gate + b * ff, up + b * ff, up + b * ff, (e - b) * ff); });
    } else {
      pool.parallel_for(n, [&](int64_t b, int64_t e, int) { op.gelu_tanh(up + b * ff, (e - b) * ff); });
    }
    vit_linear(L.ffn_down, L.b_down, up, n, proj, s.mm, pool);
    pool.parallel_for(n, [&](int64_t b, int64_t e, int) { op.add(x + b * d, proj + b * d, (e - b) * d); });
  }
}

}  // namespace pocket
