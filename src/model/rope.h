// Rotary position embedding frequencies, including YaRN, precomputed per model.
// The angle for pair i at position p is p * inv_freq[i]; cos and sin are scaled by `magnitude`.
#pragma once

#include <vector>

#include "model/hparams.h"

namespace pocket {

class RopeTable {
 public:
  RopeTable() = default;
  explicit RopeTable(const RopeParams& p);
  // out: [n_dims/2] (cos, sin) pairs for position pos.
  void cos_sin(int64_t pos, float* out) const;
  int n_pairs() const { return static_cast<int>(inv_freq_.size()); }
  const std::vector<double>& inv_freq() const { return inv_freq_; }
  float magnitude() const { return magnitude_; }

 private:
  std::vector<double> inv_freq_;
  float magnitude_ = 1.0f;
};

}  // namespace pocket
