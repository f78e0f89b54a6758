// Every kernel level's float ops agree with the scalar reference on random data at odd sizes.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/fp16.h"
#include "kernels/ops.h"
#include "kernels/levels_test_util.h"

namespace pocket::kernels {
namespace {

std::vector<float> randv(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

double nmse(const std::vector<float>& a, const std::vector<float>& b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    num += (a[i] - b[i]) * static_cast<double>(a[i] - b[i]);
    den += static_cast<double>(b[i]) * b[i];
  }
  return den > 0 ? num / den : num;
}

class OpsLevels : public test::LevelTest {
 protected:
  const OpsTable& r = ref::kOps;
  const OpsTable& s = table().ops;
};

const int kSizes[] = {1, 3, 7, 8, 9, 15, 16, 17, 31, 64, 65, 127, 576, 1001, 4099};

TEST_P(OpsLevels, Norms) {
  for (int n : kSizes) {
    auto x = randv(n, n, 3.0f), w = randv(n, n + 1), b = randv(n, n + 2);
    std::vector<float> y1(n), y2(n);
    r.rmsnorm(x.data(), w.data(), y1.data(), n, 1e-5f);
    s.rmsnorm(x.data(), w.data(), y2.data(), n, 1e-5f);
    EXPECT_LE(nmse(y2, y1), 1e-10) << n;
    r.layernorm(x.data(), w.data(), b.data(), y1.data(), n, 1e-6f);
    s.layernorm(x.data(), w.data(), b.data(), y2.data(), n, 1e-6f);
    EXPECT_LE(nmse(y2, y1), 1e-10) << n;
  }
}

TEST_P(OpsLevels, Activations) {
  for (int n : kSizes) {
    auto g = randv(n, n, 4.0f), u = randv(n, n + 7);
    std::vector<float> y1(n), y2(n);
    r.swiglu(g.data(), u.data(), y1.data(), n);
    s.swiglu(g.data(), u.data(), y2.data(), n);
    EXPECT_LE(nmse(y2, y1), 1e-12) << n;
    auto a1 = randv(n, n + 3, 3.0f), a2 = a1;
    r.gelu_tanh(a1.data(), n);
    s.gelu_tanh(a2.data(), n);
    EXPECT_LE(nmse(a2, a1), 1e-12) << n;
    a1 = randv(n, n + 4, 3.0f);
    a2 = a1;
    r.gelu_erf(a1.data(), n);
    s.gelu_erf(a2.data(), n);
    EXPECT_LE(nmse(a2, a1), 1e-12) << n;
  }
}

TEST_P(OpsLevels, Softmax) {
  for (int n : kSizes) {
    auto x1 = randv(n, n, 10.0f);
    if (n > 2) x1[1] = -INFINITY;  // masked entry
    auto x2 = x1;
    r.softmax(x1.data(), n);
    s.softmax(x2.data(), n);
    EXPECT_LE(nmse(x2, x1), 1e-12) << n;
    double sum = 0;
    for (float v : x2) sum += v;
    EXPECT_NEAR(sum, 1.0, 1e-5);
  }
}

TEST_P(OpsLevels, DotsAndAxpy) {
  for (int n : kSizes) {
    auto a = randv(n, n), b = randv(n, n + 1);
    std::vector<uint16_t> h(n), h2(n);
    r.to_f16(a.data(), h.data(), n);
    s.to_f16(a.data(), h2.data(), n);
    EXPECT_EQ(h, h2) << n;
    const double tol = 1e-5 * std::sqrt(static_cast<double>(n)) + 1e-6;
    EXPECT_NEAR(s.dot_f16(h.data(), b.data(), n), r.dot_f16(h.data(), b.data(), n), tol) << n;
    EXPECT_NEAR(s.dot_f32(a.data(), b.data(), n), r.dot_f32(a.data(), b.data(), n), tol) << n;
    std::vector<float> y1 = b, y2 = b;
    r.axpy_f16(0.37f, h.data(), y1.data(), n);
    s.axpy_f16(0.37f, h.data(), y2.data(), n);
    EXPECT_LE(nmse(y2, y1), 1e-12) << n;
    y1 = b;
    y2 = b;
    r.axpy_f32(-1.5f, a.data(), y1.data(), n);
    s.axpy_f32(-1.5f, a.data(), y2.data(), n);
    EXPECT_LE(nmse(y2, y1), 1e-12) << n;
    y1 = b;
    y2 = b;
    r.add(y1.data(), a.data(), n);
    s.add(y2.data(), a.data(), n);
    EXPECT_EQ(y1, y2);
  }
}

TEST(Rope, RotatesAdjacentPairs) {
  // One head, 4 dims: pair (x0, x1) rotated by 90 degrees, pair (x2, x3) untouched (angle 0).
  float x[4] = {1, 2, 3, 4};
  const float cs[4] = {0.0f, 1.0f, 1.0f, 0.0f};
  rope_adjacent(x, 1, 4, 4, cs);
  EXPECT_FLOAT_EQ(x[0], -2.0f);
  EXPECT_FLOAT_EQ(x[1], 1.0f);
  EXPECT_FLOAT_EQ(x[2], 3.0f);
  EXPECT_FLOAT_EQ(x[3], 4.0f);
}

POCKET_INSTANTIATE_LEVELS(OpsLevels);

}  // namespace
}  // namespace pocket::kernels
