// Logits -> next token: greedy, or repetition penalty -> top-k -> top-p -> min-p ->
// temperature -> seeded draw (llama.cpp's default chain order). Buffers are sized once for
// the vocabulary, so sampling does not allocate per token.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace pocket {

struct SamplerParams {
  float temperature = 0.8f;    // <= 0: greedy
  int top_k = 40;              // <= 0: off
  float top_p = 0.95f;         // >= 1: off
  float min_p = 0.05f;         // <= 0: off
  float repeat_penalty = 1.0f; // 1: off
  int repeat_last_n = 64;
  uint64_t seed = 0xFFFFFFFFull;  // 0xFFFFFFFF: random seed
};

class Sampler {
 public:
  Sampler(const SamplerParams& p, int32_t n_vocab);
  // Chooses a token from logits [n_vocab]; `history` = previously seen tokens (for penalties).
  int32_t sample(const float* logits, const std::vector<int32_t>& history);
  void reseed(uint64_t seed);
  const SamplerParams& params() const { return p_; }

 private:
  struct Cand {
    int32_t id;
    float logit;
    float p;
  };
  SamplerParams p_;
  int32_t n_vocab_;
  std::vector<Cand> cand_;
  std::vector<uint8_t> seen_;
  std::mt19937_64 rng_;
};

int32_t argmax(const float* logits, int32_t n);

}  // namespace pocket
