// Deterministic Gaussian noise for the synthetic-model generators: a pool of normals reused
// at random offsets, because fresh normals for billions of weights would dominate the run
// time and add nothing for a benchmark.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace pocket::bench {

class Noise {
 public:
  Noise(uint64_t seed, size_t pool_size) : rng_(seed) {
    std::normal_distribution<float> d(0.0f, 1.0f);
    pool_.resize(pool_size);
    for (auto& v : pool_) v = d(rng_);
  }
  void fill(float* dst, int64_t n, float scale) {
    int64_t i = 0;
    while (i < n) {
      const size_t off = rng_() % (pool_.size() / 2);
      const int64_t m = std::min<int64_t>(n - i, static_cast<int64_t>(pool_.size() / 2));
      for (int64_t j = 0; j < m; ++j) dst[i + j] = pool_[off + j] * scale;
      i += m;
    }
  }

 private:
  std::mt19937_64 rng_;
  std::vector<float> pool_;
};

}  // namespace pocket::bench
