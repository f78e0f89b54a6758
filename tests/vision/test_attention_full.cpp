// Every kernel level's blocked bidirectional attention agrees with the scalar reference on random data,
// at odd token counts and head sizes and with strided (packed QKV) layouts; the BF16 variant
// (CPUs with BF16 dot products) agrees with a double computation from BF16-rounded Q (scaled),
// K, probabilities and V, and stays within 1e-4 NMSE of the exact attention.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <random>
#include <vector>

#include "kernels/attention_full.h"
#include "kernels/levels_test_util.h"

namespace pocket::kernels {
namespace {

double nmse(const std::vector<float>& a, const std::vector<float>& b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    num += (a[i] - static_cast<double>(b[i])) * (a[i] - static_cast<double>(b[i]));
    den += static_cast<double>(b[i]) * b[i];
  }
  return den > 0 ? num / den : num;
}

// x rounded to BF16, to nearest, ties to even (compares the two neighbours).
double bf16(double xd) {
  const float x = static_cast<float>(xd);
  const uint32_t u = std::bit_cast<uint32_t>(x);
  const float lo = std::bit_cast<float>(u & 0xffff0000u), hi = std::bit_cast<float>((u & 0xffff0000u) + 0x10000u);
  const double dl = std::fabs(static_cast<double>(x) - lo), dh = std::fabs(static_cast<double>(hi) - x);
  if (dl != dh) return dl < dh ? lo : hi;
  return ((u >> 16) & 1) ? hi : lo;
}

// Random Q, K and V of n tokens x d, each its own array; args() points attention at them.
struct Qkv {
  std::vector<float> q, k, v;
  int64_t n, d;
  Qkv(int64_t n_, int64_t d_, uint32_t seed, float sigma) : q(n_ * d_), k(n_ * d_), v(n_ * d_), n(n_), d(d_) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.0f, sigma);
    for (auto* vec : {&q, &k, &v})
      for (float& x : *vec) x = dist(rng);
  }
  FullAttentionArgs args(int heads, int head_dim, float scale) const {
    FullAttentionArgs a;
    a.q = q.data();
    a.k = k.data();
    a.v = v.data();
    a.n_tokens = n;
    a.n_heads = heads;
    a.head_dim = head_dim;
    a.q_stride = a.k_stride = a.v_stride = a.out_stride = d;
    a.scale = scale;
    return a;
  }
};

struct Case {
  int64_t n;
  int heads;
  int head_dim;
};

// Q, K, V packed per token as [q | k | v] (stride 3*d), output with its own stride.
void run_case(const KernelTable& level, const Case& c, ThreadPool& pool, uint32_t seed) {
  const int64_t d = static_cast<int64_t>(c.heads) * c.head_dim;
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.5f);
  std::vector<float> qkv(static_cast<size_t>(c.n * 3 * d));
  for (float& x : qkv) x = dist(rng);
  const int64_t out_stride = d + 5;
  std::vector<float> o_ref(static_cast<size_t>(c.n * out_stride), 0.0f), o_simd = o_ref;

  FullAttentionArgs a;
  a.q = qkv.data();
  a.k = qkv.data() + d;
  a.v = qkv.data() + 2 * d;
  a.n_tokens = c.n;
  a.n_heads = c.heads;
  a.head_dim = c.head_dim;
  a.q_stride = a.k_stride = a.v_stride = 3 * d;
  a.out_stride = out_stride;
  a.scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));

  AlignedBuffer<float> scratch;
  a.out = o_ref.data();
  attention_full(kernels_for(Isa::Ref), a, scratch, pool);
  a.out = o_simd.data();
  attention_full(level, a, scratch, pool);
  EXPECT_LE(nmse(o_simd, o_ref), 1e-10) << "n=" << c.n << " heads=" << c.heads << " hd=" << c.head_dim;

  // Rows are convex combinations of V rows: check one element against a direct computation.
  const int64_t t = c.n / 2;
  const int h = c.heads - 1;
  std::vector<double> s(static_cast<size_t>(c.n));
  double mx = -1e300, sum = 0;
  for (int64_t j = 0; j < c.n; ++j) {
    double acc = 0;
    for (int e = 0; e < c.head_dim; ++e)
      acc += static_cast<double>(a.q[t * 3 * d + h * c.head_dim + e]) * a.k[j * 3 * d + h * c.head_dim + e];
    s[j] = acc * a.scale;
    mx = std::max(mx, s[j]);
  }
  for (double& x : s) sum += (x = std::exp(x - mx));
  double want = 0;
  for (int64_t j = 0; j < c.n; ++j) want += s[j] / sum * a.v[j * 3 * d + h * c.head_dim];
  EXPECT_NEAR(o_ref[t * out_stride + h * c.head_dim], want, 1e-4);
}

class AttentionFullLevels : public test::LevelTest {};

const Case kCases[] = {{1, 1, 8},   {2, 2, 16},  {5, 3, 64},  {16, 2, 64}, {17, 4, 64}, {31, 1, 72},
                       {33, 2, 12}, {64, 4, 16}, {100, 3, 40}, {129, 2, 64}, {257, 1, 8}};

TEST_P(AttentionFullLevels, MatchesReference) {
  if (!table().attn_tile_gemm) GTEST_SKIP() << "no blocked attention at this level: it runs the reference";
  ThreadPool pool(2);
  set_vision_bf16(false);  // the float products here
  uint32_t seed = 1;
  for (const Case& c : kCases) run_case(table(), c, pool, seed++);
  set_vision_bf16(true);
}

TEST_P(AttentionFullLevels, Bf16MatchesBf16RoundedComputation) {
  if (!table().attn_bf16_tiles) GTEST_SKIP() << "no BF16 attention at this level or on this CPU";
  ThreadPool pool(2);
  uint32_t seed = 50;
  for (const Case& c : kCases) {
    if (c.head_dim % 2) continue;
    const int64_t d = static_cast<int64_t>(c.heads) * c.head_dim;
    const Qkv in(c.n, d, seed++, 1.5f);
    const std::vector<float>& q = in.q;
    const std::vector<float>& k = in.k;
    const std::vector<float>& v = in.v;
    std::vector<float> out(c.n * d), exact(c.n * d);
    FullAttentionArgs a = in.args(c.heads, c.head_dim, 1.0f / std::sqrt(static_cast<float>(c.head_dim)));
    AlignedBuffer<float> scratch;
    a.out = out.data();
    attention_full(table(), a, scratch, pool);
    a.out = exact.data();
    attention_full(kernels_for(Isa::Ref), a, scratch, pool);
    // The oracle: float scores from BF16 operands (summed in double), softmax in double,
    // probabilities rounded to BF16, outputs in double.
    std::vector<float> want(c.n * d);
    std::vector<double> s(c.n);
    for (int h = 0; h < c.heads; ++h)
      for (int64_t i = 0; i < c.n; ++i) {
        double mx = -1e300, sum = 0;
        for (int64_t j = 0; j < c.n; ++j) {
          double acc = 0;
          for (int e = 0; e < c.head_dim; ++e)
            acc += bf16(static_cast<double>(q[i * d + h * c.head_dim + e] * a.scale)) * bf16(k[j * d + h * c.head_dim + e]);
          s[j] = acc;
          mx = std::max(mx, acc);
        }
        for (double& x : s) sum += (x = std::exp(x - mx));
        for (int e = 0; e < c.head_dim; ++e) {
          double o = 0;
          for (int64_t j = 0; j < c.n; ++j) o += bf16(s[j] / sum) * bf16(v[j * d + h * c.head_dim + e]);
          want[i * d + h * c.head_dim + e] = static_cast<float>(o);
        }
      }
    EXPECT_LE(nmse(out, want), 1e-8) << "n=" << c.n << " heads=" << c.heads << " hd=" << c.head_dim;
    EXPECT_LE(nmse(out, exact), 1e-4) << "n=" << c.n << " heads=" << c.heads << " hd=" << c.head_dim;
  }
}

TEST(AttentionFull, SingleThreadEqualsMultiThread) {
  ThreadPool p1(1), p3(3);
  const int64_t n = 70, d = 64;
  const Qkv in(n, d, 7, 1.0f);
  std::vector<float> o1(n * d), o3(n * d);
  FullAttentionArgs a = in.args(4, 16, 0.25f);
  AlignedBuffer<float> s1, s3;
  a.out = o1.data();
  attention_full(a, s1, p1);
  a.out = o3.data();
  attention_full(a, s3, p3);
  EXPECT_EQ(o1, o3);  // work split never changes the arithmetic of a row
}

POCKET_INSTANTIATE_LEVELS(AttentionFullLevels);

}  // namespace
}  // namespace pocket::kernels
