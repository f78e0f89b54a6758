// Sampler semantics: greedy, seeded reproducibility, truncation rules and their order
// (transformers' generate), penalties, and the logit processors (constraints).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "sampling/logit_processor.h"
#include "sampling/sampler.h"

namespace pocket {
namespace {

std::vector<float> logits_from_probs(const std::vector<double>& p) {
  std::vector<float> l;
  for (double x : p) l.push_back(static_cast<float>(std::log(x)));
  return l;
}

TEST(Sampler, GreedyIsArgmax) {
  SamplerParams p;
  p.temperature = 0;
  Sampler s(p, 5);
  std::vector<float> l = {0.1f, 2.0f, -1.0f, 1.9f, 0.0f};
  EXPECT_EQ(s.sample(l.data(), {}), 1);
}

TEST(Sampler, SeedReproducible) {
  SamplerParams p;
  p.temperature = 1.0f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0;
  p.seed = 1234;
  std::vector<float> l = logits_from_probs({0.2, 0.2, 0.2, 0.2, 0.2});
  Sampler a(p, 5), b(p, 5);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(a.sample(l.data(), {}), b.sample(l.data(), {}));
}

TEST(Sampler, FrequenciesFollowSoftmax) {
  SamplerParams p;
  p.temperature = 1.0f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0;
  p.seed = 7;
  const std::vector<double> probs = {0.5, 0.3, 0.15, 0.05};
  std::vector<float> l = logits_from_probs(probs);
  Sampler s(p, 4);
  std::vector<int> count(4, 0);
  const int n = 20000;
  for (int i = 0; i < n; ++i) ++count[s.sample(l.data(), {})];
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(count[i] / double(n), probs[i], 0.015) << i;
}

TEST(Sampler, TopKTopPMinPTruncate) {
  const std::vector<double> probs = {0.5, 0.3, 0.15, 0.05};
  std::vector<float> l = logits_from_probs(probs);
  auto support = [&](SamplerParams p) {
    p.temperature = 1.0f;
    p.seed = 3;
    Sampler s(p, 4);
    std::vector<int> seen(4, 0);
    for (int i = 0; i < 3000; ++i) seen[s.sample(l.data(), {})] = 1;
    return seen;
  };
  SamplerParams p;
  p.top_k = 2;
  p.top_p = 1.0f;
  p.min_p = 0;
  EXPECT_EQ(support(p), (std::vector<int>{1, 1, 0, 0}));
  p.top_k = 0;
  p.top_p = 0.75f;  // 0.5 + 0.3 passes 0.75
  EXPECT_EQ(support(p), (std::vector<int>{1, 1, 0, 0}));
  p.top_p = 0.85f;
  EXPECT_EQ(support(p), (std::vector<int>{1, 1, 1, 0}));
  p.top_p = 1.0f;
  p.min_p = 0.25f;  // keeps p >= 0.125
  EXPECT_EQ(support(p), (std::vector<int>{1, 1, 1, 0}));
}

// A flat distribution over a large vocabulary: the nucleus holds thousands of tokens, so the
// sorted prefix has to grow several times; the support must be exactly the nucleus computed
// by brute force (here the ids are already in decreasing-logit order).
TEST(Sampler, LargeNucleusMatchesBruteForce) {
  const int nv = 8000;
  std::vector<float> l(nv);
  for (int i = 0; i < nv; ++i) l[i] = -0.001f * static_cast<float>(i);
  double sum = 0;
  for (float x : l) sum += std::exp(static_cast<double>(x));
  for (float top_p : {0.5f, 0.9f}) {
    int nucleus = 0;
    double cum = 0;
    while (cum < top_p) cum += std::exp(static_cast<double>(l[nucleus++])) / sum;
    SamplerParams p;
    p.temperature = 1.0f;
    p.top_k = 0;
    p.top_p = top_p;
    p.min_p = 0;
    p.seed = 11;
    Sampler s(p, nv);
    int max_id = 0;
    for (int i = 0; i < 500; ++i) max_id = std::max(max_id, s.sample(l.data(), {}));
    EXPECT_LT(max_id, nucleus) << top_p;
    EXPECT_GT(max_id, nucleus * 95 / 100) << top_p;  // the tail of the nucleus is reached
    EXPECT_GT(nucleus, 500);
  }
}

// transformers' order (generation/utils.py _get_logits_processor): temperature, then top-k,
// top-p and min-p on the tempered distribution. Expected supports are computed here in float64
// from the definition; with these numbers llama.cpp's order (truncate at T = 1, temper last)
// would keep a different set, so the test tells the two orders apart.
std::vector<int> tempered_support(const std::vector<double>& probs, double temp, int top_k, double top_p, double min_p) {
  std::vector<double> q;
  double sum = 0;
  for (double p : probs) sum += std::pow(p, 1.0 / temp);
  for (double p : probs) q.push_back(std::pow(p, 1.0 / temp) / sum);  // probs are sorted, descending
  size_t n = top_k > 0 ? std::min<size_t>(top_k, q.size()) : q.size();
  double kept = 0;
  for (size_t i = 0; i < n; ++i) kept += q[i];
  double cum = 0;
  size_t keep = n;
  for (size_t i = 0; i < n; ++i)
    if ((cum += q[i] / kept) >= top_p) {
      keep = i + 1;
      break;
    }
  n = keep;
  while (n > 1 && q[n - 1] < min_p * q[0]) --n;
  std::vector<int> support(probs.size(), 0);
  for (size_t i = 0; i < n; ++i) support[i] = 1;
  return support;
}

TEST(Sampler, TruncationActsOnTheTemperedDistribution) {
  const std::vector<double> probs = {0.5, 0.3, 0.15, 0.05};
  std::vector<float> l = logits_from_probs(probs);
  struct Case {
    float temp;
    int top_k;
    float top_p, min_p;
  };
  for (const Case& c : {Case{2.0f, 0, 0.75f, 0.0f}, Case{0.5f, 0, 1.0f, 0.2f}, Case{2.0f, 3, 0.8f, 0.0f},
                        Case{0.7f, 0, 0.9f, 0.1f}}) {
    SamplerParams p;
    p.temperature = c.temp;
    p.top_k = c.top_k;
    p.top_p = c.top_p;
    p.min_p = c.min_p;
    p.seed = 5;
    Sampler s(p, 4);
    std::vector<int> count(4, 0);
    const int n = 20000;
    for (int i = 0; i < n; ++i) ++count[s.sample(l.data(), {})];
    const std::vector<int> want = tempered_support(probs, c.temp, c.top_k, c.top_p, c.min_p);
    std::vector<int> seen(4, 0);
    for (int i = 0; i < 4; ++i) seen[i] = count[i] > 0;
    EXPECT_EQ(seen, want) << "T " << c.temp << " top_k " << c.top_k << " top_p " << c.top_p << " min_p " << c.min_p;
    // Within the support, frequencies follow the tempered softmax renormalized over it.
    double z = 0;
    for (int i = 0; i < 4; ++i)
      if (want[i]) z += std::pow(probs[i], 1.0 / c.temp);
    for (int i = 0; i < 4; ++i)
      if (want[i]) EXPECT_NEAR(count[i] / double(n), std::pow(probs[i], 1.0 / c.temp) / z, 0.015) << i;
  }
  // The first two cases differ from truncating before tempering.
  EXPECT_EQ(tempered_support(probs, 2.0, 0, 0.75, 0), (std::vector<int>{1, 1, 1, 0}));
  EXPECT_EQ(tempered_support(probs, 1.0, 0, 0.75, 0), (std::vector<int>{1, 1, 0, 0}));
  EXPECT_EQ(tempered_support(probs, 0.5, 0, 1.0, 0.2), (std::vector<int>{1, 1, 0, 0}));
  EXPECT_EQ(tempered_support(probs, 1.0, 0, 1.0, 0.2), (std::vector<int>{1, 1, 1, 0}));
}

TEST(Sampler, RepetitionPenalty) {
  SamplerParams p;
  p.temperature = 0;
  p.repeat_penalty = 2.0f;
  Sampler s(p, 3);
  std::vector<float> l = {3.0f, 2.0f, -1.0f};
  EXPECT_EQ(s.sample(l.data(), {}), 0);
  EXPECT_EQ(s.sample(l.data(), {0}), 1);  // 3/2 = 1.5 < 2
  std::vector<float> neg = {-1.0f, -1.5f, -3.0f};
  EXPECT_EQ(s.sample(neg.data(), {0}), 1);  // -1*2 = -2 < -1.5
}

// OpenAI's definition: logit - count * frequency_penalty - (count > 0) * presence_penalty, over
// the penalty window; logit_bias is added first. Expected choices worked out by hand.
TEST(Sampler, FrequencyPresencePenaltiesAndLogitBias) {
  SamplerParams p;
  p.temperature = 0;
  std::vector<float> l = {2.0f, 2.2f, 0.0f, -1.0f};
  {
    p.presence_penalty = 0.3f;  // 2.2 - 0.3 = 1.9 < 2.0
    Sampler s(p, 4);
    EXPECT_EQ(s.sample(l.data(), {}), 1);
    EXPECT_EQ(s.sample(l.data(), {1}), 0);
    EXPECT_EQ(s.sample(l.data(), {1, 1, 1}), 0);  // presence counts once
  }
  {
    p.presence_penalty = 0;
    p.frequency_penalty = 0.1f;  // once: 2.1 > 2.0; three times: 1.9 < 2.0
    Sampler s(p, 4);
    EXPECT_EQ(s.sample(l.data(), {1}), 1);
    EXPECT_EQ(s.sample(l.data(), {1, 1, 1}), 0);
    EXPECT_EQ(s.sample(l.data(), {1, 1, 1}), 0);  // counts are not carried between calls
    EXPECT_EQ(s.sample(l.data(), {1}), 1);
  }
  {
    p.frequency_penalty = 0.1f;
    p.repeat_last_n = 2;  // the window: only the last two tokens count
    Sampler s(p, 4);
    EXPECT_EQ(s.sample(l.data(), {1, 1, 1, 2, 3}), 1);     // none in the window: 2.2
    EXPECT_EQ(s.sample(l.data(), {1, 1, 1, 1, 2}), 1);     // one: 2.1 > 2.0
    p.repeat_last_n = -1;                                   // the whole history: four, 1.8 < 2.0
    s.reset(p);
    EXPECT_EQ(s.sample(l.data(), {1, 1, 1, 1, 2}), 0);
  }
  {
    p.frequency_penalty = 0;
    p.repeat_last_n = 64;
    p.logit_bias = {{3, 3.5f}};  // -1 + 3.5 = 2.5
    Sampler s(p, 4);
    EXPECT_EQ(s.sample(l.data(), {}), 3);
    p.logit_bias = {{1, -100.0f}, {0, -100.0f}};
    s.reset(p);
    EXPECT_EQ(s.sample(l.data(), {}), 2);
  }
}

TEST(Sampler, PenalizedFrequenciesFollowTheirSoftmax) {
  SamplerParams p;
  p.temperature = 1.0f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0;
  p.seed = 9;
  p.frequency_penalty = 0.5f;
  p.presence_penalty = 0.25f;
  p.logit_bias = {{2, 0.75f}};
  const std::vector<float> l = {0.5f, 1.0f, 0.0f, 0.2f};
  const std::vector<int32_t> history = {1, 1, 3};
  // Expected in double: logit + bias - count * 0.5 - (count > 0) * 0.25.
  const double adj[4] = {0.5, 1.0 - 2 * 0.5 - 0.25, 0.0 + 0.75, 0.2 - 0.5 - 0.25};
  double z = 0;
  for (double a : adj) z += std::exp(a);
  Sampler s(p, 4);
  std::vector<int> count(4, 0);
  const int n = 20000;
  for (int i = 0; i < n; ++i) ++count[s.sample(l.data(), history)];
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(count[i] / double(n), std::exp(adj[i]) / z, 0.015) << i;
}

// A choice constraint allows exactly the tokens the still-matching choices continue with,
// whatever the logits prefer, and ends when one choice is complete.
TEST(Sampler, ChoiceConstraintWalksTheChoices) {
  ChoiceConstraint c({{3, 1, 4}, {3, 2}, {5}});
  std::vector<float> l = {9, 8, 7, 0, 0, 1, 0};  // the model prefers 0, 1, 2, which no choice starts with
  for (float temp : {0.0f, 1.0f}) {
    SamplerParams p;
    p.temperature = temp;
    p.top_k = 0;
    p.top_p = 1.0f;
    p.min_p = 0;
    p.seed = 1;
    Sampler s(p, 7);
    ChoiceConstraint walk({{3, 1, 4}, {3, 2}, {5}});
    const int32_t first = s.sample(l.data(), {}, &walk);
    EXPECT_TRUE(first == 3 || first == 5) << first;
    if (temp == 0) EXPECT_EQ(first, 5);  // the best-scoring allowed token
  }
  EXPECT_TRUE(c.allows(3) && c.allows(5) && !c.allows(1));
  c.accept(3);
  EXPECT_TRUE(c.active());
  EXPECT_TRUE(c.allows(1) && c.allows(2) && !c.allows(4));
  c.accept(2);
  EXPECT_FALSE(c.active());  // {3, 2} is complete
}

}  // namespace
}  // namespace pocket
