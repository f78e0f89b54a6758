// RoPE/YaRN frequency table.
// ref: transformers modeling_rope_utils.py _compute_yarn_parameters; llama.cpp ggml rope_yarn,
// ggml_rope_yarn_corr_dims and llama-context.cpp (yarn_attn_factor). See ministral-spec.md §1.3.
#include "model/rope.h"

#include <algorithm>
#include <cmath>

namespace pocket {

namespace {

// Dimension index at which `n_rot` full rotations fit in the original context.
double yarn_corr_dim(int n_dims, double n_ctx_orig, double n_rot, double base) {
  return n_dims * std::log(n_ctx_orig / (n_rot * 2.0 * M_PI)) / (2.0 * std::log(base));
}

double yarn_mscale(double scale, double mscale) { return scale <= 1.0 ? 1.0 : 0.1 * mscale * std::log(scale) + 1.0; }

}  // namespace

RopeTable::RopeTable(const RopeParams& p) {
  const int n_pairs = p.n_dims / 2;
  inv_freq_.resize(n_pairs);
  for (int i = 0; i < n_pairs; ++i) inv_freq_[i] = std::pow(static_cast<double>(p.theta), -2.0 * i / p.n_dims);

  if (p.scaling == RopeScaling::Linear && p.factor > 0) {
    for (double& f : inv_freq_) f /= p.factor;
  } else if (p.scaling == RopeScaling::Yarn && p.factor > 1) {
    // Static YaRN: pairs below `low` keep their frequency (extrapolation), pairs above `high`
    // are divided by the factor (interpolation), a linear ramp in between.
    const double n_orig = static_cast<double>(p.n_ctx_orig);
    double low = std::floor(yarn_corr_dim(p.n_dims, n_orig, p.beta_fast, p.theta));
    double high = std::ceil(yarn_corr_dim(p.n_dims, n_orig, p.beta_slow, p.theta));
    low = std::max(0.0, low);
    high = std::min(static_cast<double>(p.n_dims - 1), high);
    for (int i = 0; i < n_pairs; ++i) {
      const double ramp = std::clamp((i - low) / std::max(0.001, high - low), 0.0, 1.0);
      inv_freq_[i] = inv_freq_[i] * (1.0 - ramp) + (inv_freq_[i] / p.factor) * ramp;
    }
    // Magnitude on cos/sin: mscale(f, 1) / mscale(f, mscale_all_dim) when the file gives
    // mscale_all_dim (Ministral 3: exactly 1.0), else the YaRN default mscale(f, 1).
    magnitude_ = static_cast<float>(p.yarn_log_mul != 0.0f
                                        ? yarn_mscale(p.factor, 1.0) / yarn_mscale(p.factor, p.yarn_log_mul)
                                        : yarn_mscale(p.factor, 1.0));
  }
}

void RopeTable::cos_sin(int64_t pos, float* out) const {
  for (size_t i = 0; i < inv_freq_.size(); ++i) {
    // Angle in float, as the reference implementations compute it (float32 position * freq).
    const float theta = static_cast<float>(pos) * static_cast<float>(inv_freq_[i]);
    out[2 * i] = std::cos(theta) * magnitude_;
    out[2 * i + 1] = std::sin(theta) * magnitude_;
  }
}

}  // namespace pocket
