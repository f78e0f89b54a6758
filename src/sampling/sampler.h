// Logits -> next token: the one sampler of Pocket (`pocket run`, the server, compare).
// Order, as transformers' generate builds its processor list (ref: huggingface/transformers
// src/transformers/generation/utils.py _get_logits_processor: processors such as
// RepetitionPenaltyLogitsProcessor first, then the warpers TemperatureLogitsWarper,
// TopKLogitsWarper, TopPLogitsWarper, MinPLogitsWarper): logit bias -> penalties (repetition,
// then OpenAI's frequency and presence) -> temperature -> top-k -> top-p -> min-p -> seeded
// draw. Greedy (temperature <= 0) takes the arg-max after bias and penalties. Buffers are sized once for the vocabulary, so sampling does not allocate per token.
#pragma once

#include <cstdint>
#include <random>
#include <utility>
#include <vector>

namespace pocket {

class LogitProcessor;

struct SamplerParams {
  float temperature = 0.8f;    // <= 0: greedy
  int top_k = 40;              // <= 0: off
  float top_p = 0.95f;         // >= 1: off
  float min_p = 0.05f;         // <= 0: off
  float repeat_penalty = 1.0f; // 1: off
  int repeat_last_n = 64;      // the window of every penalty (-1: the whole history)
  uint64_t seed = 0xFFFFFFFFull;  // 0xFFFFFFFF: random seed
  float frequency_penalty = 0; // OpenAI: minus this times the token's count in the window
  float presence_penalty = 0;  // OpenAI: minus this once if the token is in the window
  std::vector<std::pair<int32_t, float>> logit_bias;  // added to those tokens' logits
};

class Sampler {
 public:
  Sampler(const SamplerParams& p, int32_t n_vocab);
  // Chooses a token from logits [n_vocab]; `history` = previously seen tokens (for penalties).
  int32_t sample(const float* logits, const std::vector<int32_t>& history);
  // The same, restricted to the tokens `proc` allows (sampling/logit_processor.h): a processor
  // with a short allowed list masks every other logit first; an open-ended one is asked about
  // the sampler's choices best-first, a refused choice being masked and the draw repeated;
  // after kQuickTries refusals a processor that can enumerate its allowed set is asked for it
  // and the draw is made among those. Returns -1 when no token is allowed (or none was found
  // in kMaxTries draws).
  int32_t sample(const float* logits, const std::vector<int32_t>& history, const LogitProcessor* proc);
  // New parameters and seed, keeping the buffers (a server slot's next request).
  void reset(const SamplerParams& p);
  const SamplerParams& params() const { return p_; }
  int32_t n_vocab() const { return n_vocab_; }

  static constexpr int kQuickTries = 8;
  static constexpr int kMaxTries = 128;

 private:
  struct Cand {
    int32_t id;
    float logit;
    float p;
  };
  SamplerParams p_;
  int32_t n_vocab_;
  std::vector<Cand> cand_;
  std::vector<uint32_t> seen_;  // [n_vocab] count in the penalty window (zeroed after use)
  std::vector<float> masked_;  // [n_vocab] logits copy for constrained sampling
  std::mt19937_64 rng_;
};

int32_t argmax(const float* logits, int32_t n);

}  // namespace pocket
