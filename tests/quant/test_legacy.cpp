// Tests for the scalar F16/BF16/Q8_0/Q8_1/Q4_0/Q4_1/Q5_0/Q5_1 (de)quantizers:
// exact bytes for hand-made blocks (expected values worked out by hand from the rules in
// llama.cpp ggml/src/ggml-quants.c, not from our output), round-trip error with
// llama.cpp's tests/test-quantize-fns.cpp metric and bound, and an NMSE bound on Gaussian
// data derived from each format's step size.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "quant/blocks.h"
#include "quant/legacy.h"

namespace pocket {
namespace {

using QuantizeFn = void (*)(const float*, void*, int64_t);
using DequantizeFn = void (*)(const void*, float*, int64_t);

struct Format {
  const char* name;
  QuantizeFn quantize;
  DequantizeFn dequantize;
  size_t block_bytes;
  int block_size;
};

const Format kFormats[] = {
    {"f16", quant::quantize_row_f16, quant::dequantize_row_f16, 2, 1},
    {"bf16", quant::quantize_row_bf16, quant::dequantize_row_bf16, 2, 1},
    {"q8_0", quant::quantize_row_q8_0, quant::dequantize_row_q8_0, sizeof(BlockQ8_0), QK8_0},
    {"q8_1", quant::quantize_row_q8_1, quant::dequantize_row_q8_1, sizeof(BlockQ8_1), QK8_1},
    {"q4_0", quant::quantize_row_q4_0, quant::dequantize_row_q4_0, sizeof(BlockQ4_0), QK4_0},
    {"q4_1", quant::quantize_row_q4_1, quant::dequantize_row_q4_1, sizeof(BlockQ4_1), QK4_1},
    {"q5_0", quant::quantize_row_q5_0, quant::dequantize_row_q5_0, sizeof(BlockQ5_0), QK5_0},
    {"q5_1", quant::quantize_row_q5_1, quant::dequantize_row_q5_1, sizeof(BlockQ5_1), QK5_1},
};

const Format& format(const char* name) {
  for (const Format& f : kFormats)
    if (std::strcmp(f.name, name) == 0) return f;
  throw std::runtime_error("unknown format");
}

std::vector<uint8_t> quantize(const Format& f, const std::vector<float>& x) {
  std::vector<uint8_t> q(x.size() / f.block_size * f.block_bytes);
  f.quantize(x.data(), q.data(), static_cast<int64_t>(x.size()));
  return q;
}

std::vector<float> round_trip(const Format& f, const std::vector<float>& x) {
  const std::vector<uint8_t> q = quantize(f, x);
  std::vector<float> y(x.size());
  f.dequantize(q.data(), y.data(), static_cast<int64_t>(x.size()));
  return y;
}

uint16_t u16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}

// ---- exact bytes for hand-made blocks ----------------------------------------------------

// Nibble bytes shared by several blocks below: q_j = min(15, (j + 1) / 2), packed as
// qs[k] = q_k | q_{k+16} << 4.
const uint8_t kHalfStepNibbles[16] = {0x80, 0x91, 0x91, 0xA2, 0xA2, 0xB3, 0xB3, 0xC4,
                                      0xC4, 0xD5, 0xD5, 0xE6, 0xE6, 0xF7, 0xF7, 0xF8};

TEST(LegacyExact, Q4_0HalfStepsRoundUpNotAwayFromZero) {
  // x_j = (j - 16) / 2: the extreme is -8 (negative), so d = -8 / -8 = 1 and
  // q = min(15, trunc(x + 8.5)) = min(15, (j + 1) / 2). Halves such as -7.5 go *up*
  // to -7 (q = 1), unlike roundf; j = 31 (7.5 -> 16) clips to 15.
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j - 16) * 0.5f;
  const auto q = quantize(format("q4_0"), x);
  ASSERT_EQ(q.size(), 18u);
  EXPECT_EQ(u16(&q[0]), 0x3C00);  // fp16 1.0
  for (int k = 0; k < 16; ++k) EXPECT_EQ(q[2 + k], kHalfStepNibbles[k]) << k;
}

TEST(LegacyExact, Q4_0SignedExtremeAndFirstWinsOnTies) {
  // x = {4, -4, 0, ...}: both have |x| = 4; ggml keeps the first (strict <), so max = +4,
  // d = 4 / -8 = -0.5, id = -2. 4 -> trunc(-8 + 8.5) = 0; -4 -> trunc(8 + 8.5) = 16 -> 15;
  // 0 -> 8.
  std::vector<float> x(64, 0.0f);
  x[0] = 4.0f;
  x[1] = -4.0f;
  // Second block: the same values in the other order, so max = -4 and d = +0.5.
  x[32] = -4.0f;
  x[33] = 4.0f;
  const auto q = quantize(format("q4_0"), x);
  ASSERT_EQ(q.size(), 36u);
  EXPECT_EQ(u16(&q[0]), 0xB800);   // fp16 -0.5
  EXPECT_EQ(u16(&q[18]), 0x3800);  // fp16 +0.5
  for (int b = 0; b < 2; ++b) {
    const uint8_t* qs = &q[b * 18 + 2];
    EXPECT_EQ(qs[0], 0x80);  // q0 = 0, q16 = 8
    EXPECT_EQ(qs[1], 0x8F);  // q1 = 15, q17 = 8
    for (int k = 2; k < 16; ++k) EXPECT_EQ(qs[k], 0x88) << k;
  }
  // Dequantized: the clipped element comes back as 7 * d, the rest exactly.
  const auto y = round_trip(format("q4_0"), x);
  EXPECT_EQ(y[0], 4.0f);
  EXPECT_EQ(y[1], -3.5f);
  EXPECT_EQ(y[32], -4.0f);
  EXPECT_EQ(y[33], 3.5f);
  EXPECT_EQ(y[2], 0.0f);
}

TEST(LegacyExact, Q4_0ZeroBlock) {
  // d = 0 / -8 = -0.0 (stored as fp16 0x8000), id = 0 -> every q = trunc(8.5) = 8.
  std::vector<float> x(32, 0.0f);
  const auto q = quantize(format("q4_0"), x);
  EXPECT_EQ(u16(&q[0]), 0x8000);
  for (int k = 0; k < 16; ++k) EXPECT_EQ(q[2 + k], 0x88);
}

TEST(LegacyExact, Q4_1MinAndHalfSteps) {
  // x_j = -3.25 + t_j, t_j = min(15, j / 2): min = -3.25, max = 11.75, d = 15 / 15 = 1,
  // q = min(15, trunc(t + 0.5)) = (j + 1) / 2 clipped: the same nibbles as the Q4_0 case.
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[j] = -3.25f + std::fmin(15.0f, static_cast<float>(j) * 0.5f);
  const auto q = quantize(format("q4_1"), x);
  ASSERT_EQ(q.size(), 20u);
  EXPECT_EQ(u16(&q[0]), 0x3C00);  // d = 1.0
  EXPECT_EQ(u16(&q[2]), 0xC280);  // m = -3.25 = -(1.625 * 2^1)
  for (int k = 0; k < 16; ++k) EXPECT_EQ(q[4 + k], kHalfStepNibbles[k]) << k;
  const auto y = round_trip(format("q4_1"), x);
  EXPECT_EQ(y[0], -3.25f);
  EXPECT_EQ(y[1], -2.25f);   // t = 0.5 -> q = 1
  EXPECT_EQ(y[31], 11.75f);  // t = 15 -> q = 15
}

TEST(LegacyExact, Q5_0FifthBitAndSign) {
  // Block 0: x_j = j - 16, extreme -16, d = 1, q = trunc(x + 16.5) = j.
  // Block 1: x_j = (16 - j) / 4, extreme +4, d = 4 / -16 = -0.25, id = -4,
  //          q = trunc(j - 16 + 16.5) = j again.
  // Either way qs[k] = k | k << 4 (low nibbles of q_k and q_{k+16} are both k) and the
  // fifth bit is set exactly for j >= 16: qh = 0xFFFF0000 little-endian.
  std::vector<float> x(64);
  for (int j = 0; j < 32; ++j) {
    x[j] = static_cast<float>(j - 16);
    x[32 + j] = static_cast<float>(16 - j) * 0.25f;
  }
  const auto q = quantize(format("q5_0"), x);
  ASSERT_EQ(q.size(), 44u);
  EXPECT_EQ(u16(&q[0]), 0x3C00);   // 1.0
  EXPECT_EQ(u16(&q[22]), 0xB400);  // -0.25
  for (int b = 0; b < 2; ++b) {
    const uint8_t* blk = &q[b * 22];
    EXPECT_EQ(blk[2], 0x00);
    EXPECT_EQ(blk[3], 0x00);
    EXPECT_EQ(blk[4], 0xFF);
    EXPECT_EQ(blk[5], 0xFF);
    for (int k = 0; k < 16; ++k) EXPECT_EQ(blk[6 + k], static_cast<uint8_t>(k | (k << 4))) << k;
  }
  const auto y = round_trip(format("q5_0"), x);
  for (int j = 0; j < 64; ++j) EXPECT_EQ(y[j], x[j]) << j;  // every value is on the grid
}

TEST(LegacyExact, Q5_1Grid) {
  // x_j = 2 + j / 4: min 2, max 9.75, d = 7.75 / 31 = 0.25, q = trunc(4 (x - 2) + 0.5) = j.
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[j] = 2.0f + static_cast<float>(j) * 0.25f;
  const auto q = quantize(format("q5_1"), x);
  ASSERT_EQ(q.size(), 24u);
  EXPECT_EQ(u16(&q[0]), 0x3400);  // d = 0.25
  EXPECT_EQ(u16(&q[2]), 0x4000);  // m = 2
  EXPECT_EQ(q[4], 0x00);
  EXPECT_EQ(q[5], 0x00);
  EXPECT_EQ(q[6], 0xFF);
  EXPECT_EQ(q[7], 0xFF);
  for (int k = 0; k < 16; ++k) EXPECT_EQ(q[8 + k], static_cast<uint8_t>(k | (k << 4))) << k;
  const auto y = round_trip(format("q5_1"), x);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(y[j], x[j]) << j;
}

// x_0 = -15.875 = -127 / 8 sets d = 0.125 (id = 8); the others are (j - 16)/2 + 1/16, so
// x * id = 4 (j - 16) + 0.5 lands exactly on a half, which roundf sends away from zero:
// 4 (j - 16) for j < 16 (negative) and 4 (j - 16) + 1 for j >= 16.
std::vector<float> q8_tie_block() {
  std::vector<float> x(32);
  x[0] = -15.875f;
  for (int j = 1; j < 32; ++j) x[j] = static_cast<float>(j - 16) * 0.5f + 0.0625f;
  return x;
}
int8_t q8_tie_expected(int j) { return static_cast<int8_t>(j == 0 ? -127 : j < 16 ? 4 * (j - 16) : 4 * (j - 16) + 1); }

TEST(LegacyExact, Q8_0HalvesAwayFromZero) {
  const auto q = quantize(format("q8_0"), q8_tie_block());
  ASSERT_EQ(q.size(), 34u);
  EXPECT_EQ(u16(&q[0]), 0x3000);  // 0.125
  for (int j = 0; j < 32; ++j) EXPECT_EQ(static_cast<int8_t>(q[2 + j]), q8_tie_expected(j)) << j;
}

TEST(LegacyExact, Q8_1SumScale) {
  // sum(qs) = -127 + 4 * (-120) + (4 * 120 + 16) = -111, s = -111 * 0.125 = -13.875,
  // fp16: 1.734375 * 2^3 -> 0xCAF0.
  const auto q = quantize(format("q8_1"), q8_tie_block());
  ASSERT_EQ(q.size(), 36u);
  EXPECT_EQ(u16(&q[0]), 0x3000);
  EXPECT_EQ(u16(&q[2]), 0xCAF0);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(static_cast<int8_t>(q[4 + j]), q8_tie_expected(j)) << j;
}

TEST(LegacyExact, Q8ZeroBlock) {
  std::vector<float> x(32, 0.0f);
  for (const char* name : {"q8_0", "q8_1"}) {
    const auto q = quantize(format(name), x);
    for (uint8_t b : q) EXPECT_EQ(b, 0) << name;
  }
}

TEST(LegacyExact, F16RoundingAndSpecials) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  struct Case {
    float x;
    uint16_t h;
  };
  const Case cases[] = {
      {1.0f, 0x3C00},
      {-2.0f, 0xC000},
      {65504.0f, 0x7BFF},                      // largest finite half
      {65520.0f, 0x7C00},                      // halfway to 2^16: ties to even -> inf
      {1.0f + 0x1p-11f, 0x3C00},               // tie between 0x3C00 and 0x3C01 -> even
      {1.0f + 3 * 0x1p-11f, 0x3C02},           // tie between 0x3C01 and 0x3C02 -> even
      {1.0f + 0x1p-11f + 0x1p-20f, 0x3C01},    // just above the tie
      {0x1p-24f, 0x0001},                      // smallest subnormal
      {0x1p-25f, 0x0000},                      // tie with zero -> even (zero)
      {3 * 0x1p-25f, 0x0002},                  // 1.5 subnormal steps -> 2
      {-0.0f, 0x8000},
      {inf, 0x7C00},
      {-inf, 0xFC00},
      {nan, 0x7E00},
  };
  for (const Case& c : cases) {
    uint16_t h = 0;
    quant::quantize_row_f16(&c.x, &h, 1);
    EXPECT_EQ(h, c.h) << c.x;
  }
  const uint16_t hs[] = {0x3555, 0x0001, 0xFC00, 0x7BFF, 0x8400};
  const float want[] = {0.333251953125f, 0x1p-24f, -inf, 65504.0f, -0x1p-14f};
  float y[5];
  quant::dequantize_row_f16(hs, y, 5);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(y[i], want[i]) << i;
}

float from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

TEST(LegacyExact, BF16RoundingAndSpecials) {
  struct Case {
    uint32_t x;
    uint16_t h;
  };
  const Case cases[] = {
      {0x3F800000u, 0x3F80},  // 1.0
      {0x3F808000u, 0x3F80},  // tie -> even
      {0x3F818000u, 0x3F82},  // tie -> even (up)
      {0x3F808001u, 0x3F81},  // just above the tie
      {0xBF7FFFFFu, 0xBF80},  // carries into the exponent
      {0x7F7FFFFFu, 0x7F80},  // FLT_MAX rounds to inf
      {0x7F800000u, 0x7F80},  // inf
      {0x7FC00000u, 0x7FC0},  // quiet NaN
      {0x7F800001u, 0x7FC0},  // signalling NaN is quietened (| 64), not turned into inf
      {0x00018000u, 0x0002},  // subnormal: rounded, not flushed (current ggml)
  };
  for (const Case& c : cases) {
    const float x = from_bits(c.x);
    uint16_t h = 0;
    quant::quantize_row_bf16(&x, &h, 1);
    EXPECT_EQ(h, c.h) << std::hex << c.x;
  }
  const uint16_t hs[] = {0x3F80, 0xC049, 0x0001};
  float y[3];
  quant::dequantize_row_bf16(hs, y, 3);
  EXPECT_EQ(y[0], 1.0f);
  EXPECT_EQ(y[1], -3.140625f);
  EXPECT_EQ(y[2], from_bits(0x00010000u));
}

// ---- round-trip error, llama.cpp's metric ------------------------------------------------

// ref: llama.cpp tests/test-quantize-fns.cpp: generate_data, array_rmse,
// MAX_QUANTIZATION_TOTAL_ERROR. Note the "rmse" there is sqrt(sum sq) / n.
constexpr float kMaxQuantizationTotalError = 0.002f;

std::vector<float> cos_data(float offset, size_t n) {
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = static_cast<float>(0.1 + 2.0f * std::cos(static_cast<float>(i) + offset));
  return x;
}

float llama_rmse(const std::vector<float>& a, const std::vector<float>& b) {
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = static_cast<double>(a[i]) - b[i];
    sum += d * d;
  }
  return static_cast<float>(std::sqrt(sum) / static_cast<double>(a.size()));
}

TEST(LegacyRoundTrip, LlamaCppTotalError) {
  const std::vector<float> x = cos_data(0.0f, 32 * 128);
  for (const Format& f : kFormats) {
    const float err = llama_rmse(x, round_trip(f, x));
    EXPECT_LT(err, kMaxQuantizationTotalError) << f.name;
  }
}

// ---- NMSE on Gaussian data --------------------------------------------------------------
//
// A uniform quantizer with step D leaves an error ~ U(-D/2, D/2), MSE = D^2 / 12. With
// x ~ N(0, 1) in blocks of 32, the block scale follows the block's extreme values:
//   E[amax^2] of 32 |N(0,1)| ~ 5.4   (median amax ~ 2.3: P(|x| > 2.3)^... = 1 - 0.5^(1/32))
//   E[range^2] of 32 N(0,1)  ~ 16.9  (E[range] ~ 4.07, Tippett's d2 for n = 32)
// so the expected NMSE (signal variance 1) is
//   Q8_0/Q8_1: D = amax / 127  -> 5.4 / 127^2 / 12 = 2.8e-5
//   Q4_0:      D = amax / 8    -> 5.4 / 64 / 12    = 7.0e-3 (the far side clips at 7/8 amax,
//                                                            a rare, small extra)
//   Q5_0:      D = amax / 16   -> 5.4 / 256 / 12   = 1.8e-3
//   Q4_1:      D = range / 15  -> 16.9 / 225 / 12  = 6.3e-3
//   Q5_1:      D = range / 31  -> 16.9 / 961 / 12  = 1.5e-3
// The fp16 scale adds a relative error <= 2^-11 on each value (< 3e-7 in NMSE). The bounds
// below are these estimates plus 30% for the data-dependent spread of the block extremes
// over 64K samples. F16 and BF16 are hard bounds: round-to-nearest keeps the relative error
// of a normal number within 2^-11 (F16) or 2^-8 (BF16), so NMSE <= 2^-22 or 2^-16 (the few
// F16 subnormals below 2^-14 err by <= 2^-25 absolute, far under that budget).
struct NmseBound {
  const char* name;
  double bound;
  bool estimate;  // the bound is an expected value (+30%), not a worst case
};
const NmseBound kNmseBounds[] = {
    {"f16", 0x1p-22, false}, {"bf16", 0x1p-16, false}, {"q8_0", 3.7e-5, true}, {"q8_1", 3.7e-5, true},
    {"q4_0", 9.1e-3, true},  {"q4_1", 8.2e-3, true},   {"q5_0", 2.3e-3, true}, {"q5_1", 2.0e-3, true},
};

TEST(LegacyRoundTrip, GaussianNmse) {
  std::mt19937 rng(1234);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(1 << 16);
  for (float& v : x) v = dist(rng);
  double power = 0;
  for (float v : x) power += static_cast<double>(v) * v;
  for (const NmseBound& b : kNmseBounds) {
    const std::vector<float> y = round_trip(format(b.name), x);
    double err = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      const double d = static_cast<double>(x[i]) - y[i];
      err += d * d;
    }
    const double nmse = err / power;
    EXPECT_LE(nmse, b.bound) << b.name;
    // Far below the step-size estimate would mean the data or the metric is degenerate.
    if (b.estimate) {
      EXPECT_GE(nmse, b.bound / 3) << b.name;
    }
    std::printf("%s nmse %.3g (bound %.3g)\n", b.name, nmse, b.bound);
  }
}

TEST(LegacyRoundTrip, ScaledCopiesOfTheGridAreExact) {
  // Q8 blocks whose values are already k * d (with an fp16-exact d) must come back exactly.
  std::vector<float> x(96);
  for (int j = 0; j < 96; ++j) x[j] = static_cast<float>((j * 37) % 255 - 127) * 0.03125f;
  for (int b = 0; b < 3; ++b) x[b * 32] = 127 * 0.03125f;  // pin amax so d = 1/32
  for (const char* name : {"q8_0", "q8_1"}) {
    const auto y = round_trip(format(name), x);
    for (int j = 0; j < 96; ++j) EXPECT_EQ(y[j], x[j]) << name << " " << j;
  }
}

}  // namespace
}  // namespace pocket
