// Sampler implementation. Penalty rule as llama.cpp src/llama-sampling.cpp
// (llama_sampler_penalties_apply) and transformers' RepetitionPenaltyLogitsProcessor: divide
// positive logits by the repetition penalty, multiply negative ones, then subtract
// count * frequency_penalty + (count > 0) * presence_penalty (OpenAI's definition); top-p
// keeps the smallest prefix reaching p; min-p is relative to the top probability. All three
// truncations act on the tempered distribution (the order is in sampler.h).
#include "sampling/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "sampling/logit_processor.h"

namespace pocket {

int32_t argmax(const float* logits, int32_t n) {
  int32_t best = 0;
  for (int32_t i = 1; i < n; ++i)
    if (logits[i] > logits[best]) best = i;
  return best;
}

Sampler::Sampler(const SamplerParams& p, int32_t n_vocab) : p_(p), n_vocab_(n_vocab) {
  cand_.reserve(n_vocab);
  masked_.resize(static_cast<size_t>(n_vocab));
  seen_.assign(n_vocab, 0);
  reset(p);
}

void Sampler::reset(const SamplerParams& p) {
  p_ = p;
  rng_.seed(p.seed == 0xFFFFFFFFull ? std::random_device{}() : p.seed);
}

int32_t Sampler::sample(const float* logits, const std::vector<int32_t>& history, const LogitProcessor* proc) {
  if (!proc) return sample(logits, history);
  constexpr float kNone = -std::numeric_limits<float>::infinity();
  if (const std::vector<int32_t>* only = proc->allowed_list()) {
    if (only->empty()) return -1;
    std::fill(masked_.begin(), masked_.end(), kNone);
    for (int32_t id : *only) masked_[id] = logits[id];
    return sample(masked_.data(), history);
  }
  std::copy(logits, logits + n_vocab_, masked_.begin());
  for (int tries = 0; tries < kMaxTries; ++tries) {
    if (tries == kQuickTries) {
      if (const std::vector<int32_t>* all = proc->enumerate()) {
        if (all->empty()) return -1;
        std::fill(masked_.begin(), masked_.end(), kNone);
        for (int32_t id : *all) masked_[id] = logits[id];
        return sample(masked_.data(), history);
      }
    }
    const int32_t id = sample(masked_.data(), history);
    if (id < 0 || id >= n_vocab_ || masked_[id] == kNone) break;
    if (proc->allows(id)) return id;
    masked_[id] = kNone;
  }
  return -1;
}

int32_t Sampler::sample(const float* logits, const std::vector<int32_t>& history) {
  const bool any_penalty = p_.repeat_penalty != 1.0f || p_.frequency_penalty != 0.0f || p_.presence_penalty != 0.0f;
  const bool penalize = any_penalty && p_.repeat_last_n != 0 && !history.empty();
  if (p_.temperature <= 0.0f && !penalize && p_.logit_bias.empty()) return argmax(logits, n_vocab_);

  // Temperature first: every truncation below sees the tempered distribution.
  const float inv_t = p_.temperature > 0.0f ? 1.0f / p_.temperature : 1.0f;
  cand_.clear();
  for (int32_t i = 0; i < n_vocab_; ++i) cand_.push_back({i, logits[i], 0.0f});
  for (const auto& [id, bias] : p_.logit_bias)
    if (id >= 0 && id < n_vocab_) cand_[id].logit += bias;
  if (penalize) {
    const size_t n = p_.repeat_last_n < 0 ? history.size() : std::min<size_t>(history.size(), p_.repeat_last_n);
    for (size_t i = history.size() - n; i < history.size(); ++i)
      if (history[i] >= 0 && history[i] < n_vocab_) ++seen_[history[i]];
    for (size_t i = history.size() - n; i < history.size(); ++i) {
      const int32_t id = history[i];
      if (id < 0 || id >= n_vocab_ || seen_[id] == 0) continue;
      float& l = cand_[id].logit;
      l = l > 0 ? l / p_.repeat_penalty : l * p_.repeat_penalty;
      l -= static_cast<float>(seen_[id]) * p_.frequency_penalty + p_.presence_penalty;
      seen_[id] = 0;  // once per distinct token; also leaves the counts zeroed for the next call
    }
  }
  if (p_.temperature <= 0.0f) {
    return std::max_element(cand_.begin(), cand_.end(), [](const Cand& a, const Cand& b) { return a.logit < b.logit; })->id;
  }
  if (inv_t != 1.0f)
    for (Cand& c : cand_) c.logit *= inv_t;

  auto by_logit = [](const Cand& a, const Cand& b) { return a.logit > b.logit || (a.logit == b.logit && a.id < b.id); };
  // Probabilities of the first m candidates (sorted, so [0] is the top), normalized over them.
  auto softmax = [&](size_t m) {
    const float mx = cand_[0].logit;
    double sum = 0;
    for (size_t i = 0; i < m; ++i) {
      cand_[i].p = std::exp(cand_[i].logit - mx);
      sum += cand_[i].p;
    }
    for (size_t i = 0; i < m; ++i) cand_[i].p = static_cast<float>(cand_[i].p / sum);
  };
  size_t n = cand_.size();
  if (p_.top_k > 0 && static_cast<size_t>(p_.top_k) < n) {
    std::partial_sort(cand_.begin(), cand_.begin() + p_.top_k, cand_.end(), by_logit);
    n = p_.top_k;
    softmax(n);
  } else {
    // Without top-k, only the prefix that top-p or min-p keeps needs to be in order: sorting
    // a 100k+ vocabulary per token costs milliseconds. Probabilities over all candidates first
    // (order-free), then the prefix is sorted, grown geometrically until it holds top_p.
    float mx = cand_[0].logit;
    for (const Cand& c : cand_) mx = std::max(mx, c.logit);
    double sum = 0;
    for (Cand& c : cand_) {
      c.p = std::exp(c.logit - mx);
      sum += c.p;
    }
    for (Cand& c : cand_) c.p = static_cast<float>(c.p / sum);
    if (p_.top_p < 1.0f) {
      size_t k = std::min<size_t>(64, n);
      for (;;) {
        std::partial_sort(cand_.begin(), cand_.begin() + static_cast<long>(k), cand_.end(), by_logit);
        double cum = 0;
        for (size_t i = 0; i < k; ++i) cum += cand_[i].p;
        if (cum >= p_.top_p || k == n) break;
        k = std::min(n, k * 4);
      }
      n = k;
    } else if (p_.min_p > 0.0f) {
      const float thr = static_cast<float>(1.0 / sum) * p_.min_p;  // the top token's p, times min_p
      auto mid = std::partition(cand_.begin(), cand_.end(), [&](const Cand& c) { return c.p >= thr; });
      std::sort(cand_.begin(), mid, by_logit);
      n = static_cast<size_t>(mid - cand_.begin());
    } else {
      std::sort(cand_.begin(), cand_.end(), by_logit);
    }
  }
  if (p_.top_p < 1.0f) {
    double cum = 0;
    size_t keep = n;
    for (size_t i = 0; i < n; ++i) {
      cum += cand_[i].p;
      if (cum >= p_.top_p) {
        keep = i + 1;
        break;
      }
    }
    n = std::max<size_t>(1, keep);
  }
  if (p_.min_p > 0.0f) {
    // Relative to the top probability, so renormalizing after top-p would not change it.
    const float thr = cand_[0].p * p_.min_p;
    size_t keep = 1;
    while (keep < n && cand_[keep].p >= thr) ++keep;
    n = keep;
  }
  softmax(n);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  double r = u(rng_), cum = 0;
  for (size_t i = 0; i < n; ++i) {
    cum += cand_[i].p;
    if (r < cum) return cand_[i].id;
  }
  return cand_[n - 1].id;
}

}  // namespace pocket
