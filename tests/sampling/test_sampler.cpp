// Sampler semantics: greedy, seeded reproducibility, truncation rules and penalties.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

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

}  // namespace
}  // namespace pocket
