// K-quant formats: dequantization checked bit by bit against the layout definition (hand-made
// blocks with literal expected values, plus random blocks decoded by an independent per-element
// oracle written from the format description), and quantize->dequantize error bounds (llama.cpp's
// test-quantize-fns metric and limits, and an NMSE bound on Gaussian data).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/fp16.h"
#include "quant/blocks.h"
#include "quant/kquants.h"

namespace pocket {
namespace {

using DequantFn = void (*)(const void*, float*, int64_t);
using QuantFn = void (*)(const float*, void*, int64_t);

constexpr uint16_t kHalfOne = 0x3C00, kHalfHalf = 0x3800, kHalfQuarter = 0x3400;

template <typename Block>
std::vector<float> dequant_one(const Block& b, DequantFn fn) {
  std::vector<float> y(QK_K, NAN);
  fn(&b, y.data(), QK_K);
  return y;
}

// Every element not listed must be exactly zero (sub-blocks with scale 0 and min 0).
void expect_zero_except(const std::vector<float>& y, std::initializer_list<int> except) {
  for (int e = 0; e < QK_K; ++e) {
    if (std::find(except.begin(), except.end(), e) != except.end()) continue;
    ASSERT_EQ(y[e], 0.0f) << "element " << e;
  }
}

// ---------------------------------------------------------------------------------------------
// Hand-made blocks. Each comment derives the expected value from the layout in
// ggml/src/ggml-common.h (block_q*_K) / ggml-quants.c (dequantize_row_q*_K).
// ---------------------------------------------------------------------------------------------

TEST(KQuantsDequant, Q2KHandMade) {
  BlockQ2_K b{};
  b.d = kHalfHalf;        // 0.5
  b.dmin = kHalfQuarter;  // 0.25
  // Sub-block 5 = elements 80..95: scale nibble 10, min nibble 3.
  b.scales[5] = 0x3A;
  // Element 83: half 0, 2-bit field k = (83 % 128) / 32 = 2 -> bits 4..5 of qs[83 % 32 = 19].
  b.qs[19] = 0x20;  // q = 2 there, q = 0 at bits 0..1 (element 19, sub-block 1: scale 0)
  const auto y = dequant_one(b, quant::dequantize_row_q2_k);
  EXPECT_EQ(y[83], 0.5f * 10 * 2 - 0.25f * 3);  // 9.25
  for (int e = 80; e < 96; ++e) {
    if (e != 83) {
      EXPECT_EQ(y[e], -0.75f) << e;  // q = 0: only the min remains
    }
  }
  for (int e = 0; e < QK_K; ++e) {
    if (e < 80 || e >= 96) {
      ASSERT_EQ(y[e], 0.0f) << e;
    }
  }
}

TEST(KQuantsDequant, Q3KHandMade) {
  BlockQ3_K b{};
  b.d = kHalfQuarter;  // 0.25
  // Stored scales are 6-bit values minus 32. Make every stored scale 32 (signed 0): low nibbles 0,
  // high pairs 0b10 in every 2-bit slot of bytes 8..11.
  for (int k = 8; k < 12; ++k) b.scales[k] = 0xAA;
  // Sub-block 13 (elements 208..223): low nibble in the high nibble of byte 13 - 8 = 5, high pair
  // at bits 2*(13/4) = 6..7 of byte 8 + 13 % 4 = 9 (already 0b10). Stored 0b10'0101 = 37 -> +5.
  b.scales[5] = 0x50;
  // Element 211: half 1, field k = 2, l = 19 -> bits 4..5 of qs[32 + 19]; high bit = bit 211/32 = 6
  // of hmask[19]. Set: low 3, high bit set (no -4) -> q = 3.
  b.qs[51] = 0x30;
  b.hmask[19] = 0x40;
  // Element 212 (l = 20): low bits 0, high bit clear -> q = -4.
  const auto y = dequant_one(b, quant::dequantize_row_q3_k);
  EXPECT_EQ(y[211], 0.25f * 5 * 3);
  EXPECT_EQ(y[212], 0.25f * 5 * -4);
  for (int e = 208; e < 224; ++e) {
    if (e != 211) {
      EXPECT_EQ(y[e], -5.0f) << e;
    }
  }
  for (int e = 0; e < QK_K; ++e) {
    if (e < 208 || e >= 224) {
      ASSERT_EQ(y[e], 0.0f) << e;
    }
  }
}

// Q4_K and Q5_K share the 12-byte 6-bit scale/min packing.
void fill_q45_scales(uint8_t* s) {
  // Sub-block 2 (j < 4): scale in bits 0..5 of byte 2, min in bits 0..5 of byte 6.
  s[2] = 7;
  s[6] = 3;
  // Sub-block 5 (j >= 4): scale 37 = 0b10'0101, min 10 = 0b00'1010. Low nibbles in byte 9
  // (scale low, min high); scale's top two bits in bits 6..7 of byte 5 - 4 = 1, min's in byte 5.
  s[9] = 0xA5;
  s[1] = 0x80;  // sub-block 1's own 6-bit scale stays 0: bits 6..7 must not leak into it
  s[5] = 0x00;
}

TEST(KQuantsDequant, Q4KHandMade) {
  BlockQ4_K b{};
  b.d = kHalfOne;
  b.dmin = kHalfHalf;
  fill_q45_scales(b.scales);
  // Element 64: 64-chunk 1, first half -> low nibble of qs[32].
  b.qs[32] = 0x0F;
  // Element 163: chunk 2, second half (163 % 64 = 35 >= 32) -> high nibble of qs[64 + 3].
  b.qs[67] = 0xA0;
  const auto y = dequant_one(b, quant::dequantize_row_q4_k);
  EXPECT_EQ(y[64], 1.0f * 7 * 15 - 0.5f * 3);    // 103.5
  EXPECT_EQ(y[65], -1.5f);                       // q = 0
  EXPECT_EQ(y[163], 1.0f * 37 * 10 - 0.5f * 10);  // 365
  EXPECT_EQ(y[164], -5.0f);
  for (int e = 0; e < QK_K; ++e) {
    const int sb = e / 32;
    if (sb == 2 || sb == 5) continue;
    ASSERT_EQ(y[e], 0.0f) << e;
  }
}

TEST(KQuantsDequant, Q5KHandMade) {
  BlockQ5_K b{};
  b.d = kHalfOne;
  b.dmin = kHalfHalf;
  fill_q45_scales(b.scales);
  b.qs[32] = 0x0F;
  b.qs[67] = 0xA0;
  // Fifth bit of element e: bit e / 32 of qh[e % 32]. Element 163 -> bit 5 of qh[3].
  b.qh[3] = 0x20;
  // Element 66 -> bit 2 of qh[2]: its low nibble (qs[34]) is 0, so q = 16.
  b.qh[2] = 0x04;
  const auto y = dequant_one(b, quant::dequantize_row_q5_k);
  EXPECT_EQ(y[64], 1.0f * 7 * 15 - 0.5f * 3);
  EXPECT_EQ(y[66], 1.0f * 7 * 16 - 0.5f * 3);
  EXPECT_EQ(y[163], 1.0f * 37 * 26 - 0.5f * 10);  // 957
  EXPECT_EQ(y[162], -5.0f);  // qh[2] has bit 2 (element 66) set, not bit 5 (element 162)
  for (int e = 0; e < QK_K; ++e) {
    const int sb = e / 32;
    if (sb == 2 || sb == 5) continue;
    ASSERT_EQ(y[e], 0.0f) << e;
  }
}

TEST(KQuantsDequant, Q6KHandMade) {
  BlockQ6_K b{};
  b.d = kHalfHalf;
  b.scales[11] = -3;  // sub-block 11 = elements 176..191
  // Element 180: half 1, quarter k = (180 % 128) / 32 = 1, l = 20. Low nibble: k < 2 -> low nibble
  // of ql[64 + 32*(k & 1) + l] = ql[116]; high pair: bits 2k = 2..3 of qh[32 + l] = qh[52].
  // q = 0b10'1101 - 32 = 45 - 32 = 13.
  b.ql[116] = 0x0D;
  b.qh[52] = 0x08;
  const auto y = dequant_one(b, quant::dequantize_row_q6_k);
  EXPECT_EQ(y[180], 0.5f * -3 * 13);   // -19.5
  EXPECT_EQ(y[181], 0.5f * -3 * -32);  // all bits 0 -> q = -32
  for (int e = 0; e < QK_K; ++e) {
    if (e / 16 != 11) {
      ASSERT_EQ(y[e], 0.0f) << e;
    }
  }
}

TEST(KQuantsDequant, Q8KHandMade) {
  BlockQ8_K b{};
  b.d = 0.5f;
  b.qs[7] = -3;
  b.qs[255] = 127;
  const auto y = dequant_one(b, quant::dequantize_row_q8_k);
  EXPECT_EQ(y[7], -1.5f);
  EXPECT_EQ(y[255], 63.5f);
  expect_zero_except(y, {7, 255});
}

// ---------------------------------------------------------------------------------------------
// Random blocks vs a per-element oracle (element index e -> bits), written from the layout
// independently of the library's loop structure.
// ---------------------------------------------------------------------------------------------

// 6-bit scale/min j of the Q4_K/Q5_K 12-byte packing.
void k4_scale_min(const uint8_t* s, int j, int* sc, int* m) {
  if (j < 4) {
    *sc = s[j] & 63;
    *m = s[j + 4] & 63;
  } else {
    *sc = (s[j + 4] & 15) | ((s[j - 4] >> 6) << 4);
    *m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
}

float oracle_q2_k(const BlockQ2_K& b, int e) {
  const int q = (b.qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3;
  const int sc = b.scales[e / 16];
  return fp16_to_f32(b.d) * (sc & 15) * q - fp16_to_f32(b.dmin) * (sc >> 4);
}

float oracle_q3_k(const BlockQ3_K& b, int e) {
  const int lo = (b.qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3;
  const bool hi = (b.hmask[e % 32] >> (e / 32)) & 1;
  const int j = e / 16;
  const int nib = j < 8 ? (b.scales[j] & 15) : (b.scales[j - 8] >> 4);
  const int top = (b.scales[8 + j % 4] >> (2 * (j / 4))) & 3;
  return fp16_to_f32(b.d) * ((nib | (top << 4)) - 32) * (lo - (hi ? 0 : 4));
}

float oracle_q4_k(const BlockQ4_K& b, int e) {
  const uint8_t byte = b.qs[32 * (e / 64) + e % 32];
  const int q = (e % 64) < 32 ? (byte & 15) : (byte >> 4);
  int sc, m;
  k4_scale_min(b.scales, e / 32, &sc, &m);
  return fp16_to_f32(b.d) * sc * q - fp16_to_f32(b.dmin) * m;
}

float oracle_q5_k(const BlockQ5_K& b, int e) {
  const uint8_t byte = b.qs[32 * (e / 64) + e % 32];
  const int q = ((e % 64) < 32 ? (byte & 15) : (byte >> 4)) + 16 * ((b.qh[e % 32] >> (e / 32)) & 1);
  int sc, m;
  k4_scale_min(b.scales, e / 32, &sc, &m);
  return fp16_to_f32(b.d) * sc * q - fp16_to_f32(b.dmin) * m;
}

float oracle_q6_k(const BlockQ6_K& b, int e) {
  const int h = e / 128, k = (e % 128) / 32, l = e % 32;
  const uint8_t lb = b.ql[64 * h + 32 * (k & 1) + l];
  const int lo = k < 2 ? (lb & 15) : (lb >> 4);
  const int hi = (b.qh[32 * h + l] >> (2 * k)) & 3;
  return fp16_to_f32(b.d) * b.scales[e / 16] * ((lo | (hi << 4)) - 32);
}

// Random bytes everywhere, then finite scales (random halves could be inf/NaN).
template <typename Block>
std::vector<Block> random_blocks(int nb, uint32_t seed) {
  std::vector<Block> v(nb);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> byte(0, 255);
  auto* p = reinterpret_cast<uint8_t*>(v.data());
  for (size_t i = 0; i < v.size() * sizeof(Block); ++i) p[i] = static_cast<uint8_t>(byte(rng));
  return v;
}

template <typename Block, typename Oracle, typename FixScales>
void check_random(DequantFn fn, Oracle oracle, FixScales fix) {
  constexpr int kBlocks = 5;
  auto blocks = random_blocks<Block>(kBlocks, 1234);
  std::mt19937 rng(99);
  std::uniform_real_distribution<float> u(-2.f, 2.f);
  for (auto& b : blocks) fix(b, [&] { return f32_to_fp16(u(rng)); });
  std::vector<float> y(kBlocks * QK_K);
  fn(blocks.data(), y.data(), kBlocks * QK_K);
  for (int i = 0; i < kBlocks; ++i) {
    for (int e = 0; e < QK_K; ++e) {
      ASSERT_FLOAT_EQ(y[i * QK_K + e], oracle(blocks[i], e)) << "block " << i << " element " << e;
    }
  }
}

TEST(KQuantsDequant, RandomBlocksMatchLayoutOracle) {
  check_random<BlockQ2_K>(quant::dequantize_row_q2_k, oracle_q2_k, [](BlockQ2_K& b, auto h) { b.d = h(); b.dmin = h(); });
  check_random<BlockQ3_K>(quant::dequantize_row_q3_k, oracle_q3_k, [](BlockQ3_K& b, auto h) { b.d = h(); });
  check_random<BlockQ4_K>(quant::dequantize_row_q4_k, oracle_q4_k, [](BlockQ4_K& b, auto h) { b.d = h(); b.dmin = h(); });
  check_random<BlockQ5_K>(quant::dequantize_row_q5_k, oracle_q5_k, [](BlockQ5_K& b, auto h) { b.d = h(); b.dmin = h(); });
  check_random<BlockQ6_K>(quant::dequantize_row_q6_k, oracle_q6_k, [](BlockQ6_K& b, auto h) { b.d = h(); });
}

// ---------------------------------------------------------------------------------------------
// Quantize -> dequantize.
// ---------------------------------------------------------------------------------------------

struct Format {
  const char* name;
  QuantFn quantize;
  DequantFn dequantize;
  size_t block_bytes;
  float max_total_error;  // llama.cpp tests/test-quantize-fns.cpp MAX_QUANTIZATION_TOTAL_ERROR*
  float max_gauss_nmse;   // see GaussianNmse below
};

// ref: llama.cpp tests/test-quantize-fns.cpp: MAX_QUANTIZATION_TOTAL_ERROR = 0.002 (4..8 bits),
// _3BITS = 0.0040, _2BITS = 0.0075.
const Format kFormats[] = {
    {"q2_k", quant::quantize_row_q2_k, quant::dequantize_row_q2_k, sizeof(BlockQ2_K), 0.0075f, 0.13f},
    {"q3_k", quant::quantize_row_q3_k, quant::dequantize_row_q3_k, sizeof(BlockQ3_K), 0.0040f, 0.045f},
    {"q4_k", quant::quantize_row_q4_k, quant::dequantize_row_q4_k, sizeof(BlockQ4_K), 0.002f, 0.011f},
    {"q5_k", quant::quantize_row_q5_k, quant::dequantize_row_q5_k, sizeof(BlockQ5_K), 0.002f, 0.0028f},
    {"q6_k", quant::quantize_row_q6_k, quant::dequantize_row_q6_k, sizeof(BlockQ6_K), 0.002f, 6.5e-4f},
    {"q8_k", quant::quantize_row_q8_k, quant::dequantize_row_q8_k, sizeof(BlockQ8_K), 0.002f, 8.0e-5f},
};

std::vector<float> round_trip(const Format& f, const std::vector<float>& x) {
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<uint8_t> q(static_cast<size_t>(n / QK_K) * f.block_bytes);
  std::vector<float> y(x.size(), NAN);
  f.quantize(x.data(), q.data(), n);
  f.dequantize(q.data(), y.data(), n);
  return y;
}

// llama.cpp's synthetic data: 0.1 + 2*cos(i + offset).
std::vector<float> cos_data(size_t n, float offset) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = 0.1f + 2 * std::cos(static_cast<float>(i) + offset);
  return v;
}

// ref: llama.cpp tests/test-quantize-fns.cpp array_rmse: sqrt(sum of squared differences) / n.
double total_error(const std::vector<float>& a, const std::vector<float>& b) {
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
  return std::sqrt(sum) / a.size();
}

TEST(KQuantsQuantize, TotalErrorOnCosineData) {
  const auto x = cos_data(32 * 128, 0.0f);  // test_size in test-quantize-fns.cpp
  for (const Format& f : kFormats) {
    const double err = total_error(x, round_trip(f, x));
    EXPECT_LT(err, f.max_total_error) << f.name;
  }
}

// NMSE = sum (y - x)^2 / sum x^2 on N(0, 1) data. A uniform quantizer of step D adds error
// variance D^2/12. Expected group extremes of standard normals: E[max|x|] over 16 values ~ 2.0,
// over 256 ~ 2.9; E[range] over 16 ~ 3.5, over 32 ~ 4.1. Hence, before the searches improve on
// plain min/max scaling:
//   Q8_K  symmetric 127 steps per side over 256: D = 2.9/127 -> 4.3e-5      bound 8.0e-5
//   Q6_K  symmetric 32 steps per side over 16:   D = 2.0/32  -> 3.3e-4      bound 6.5e-4
//   Q5_K  asymmetric 31 steps over 32:           D = 4.1/31  -> 1.5e-3      bound 2.8e-3
//   Q4_K  asymmetric 15 steps over 32:           D = 4.1/15  -> 6.2e-3      bound 1.1e-2
//   Q3_K  symmetric 4 steps per side over 16:    D = 2.0/4   -> 2.1e-2      bound 4.5e-2
//   Q2_K  4 levels over 16: the D^2/12 model breaks down at this step. The best fixed uniform
//         4-level grid for N(0,1) has NMSE 0.1188 (Lloyd-Max, non-uniform: 0.1175); fitting the
//         grid per group of 16 can only do better in expectation, so 0.1188 plus a margin for
//         the 4-bit scale/min codes                                       bound 0.13
// The bounds allow roughly 2x for the 4/6-bit (fp16 and 6-bit super-block scales on top of the
// step) and cover the rounding of scales; a layout or packing bug produces NMSE of order 1.
TEST(KQuantsQuantize, GaussianNmse) {
  std::mt19937 rng(7);
  std::normal_distribution<float> g(0.f, 1.f);
  std::vector<float> x(64 * QK_K);
  for (float& v : x) v = g(rng);
  for (const Format& f : kFormats) {
    const auto y = round_trip(f, x);
    double num = 0, den = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      num += (double(y[i]) - x[i]) * (double(y[i]) - x[i]);
      den += double(x[i]) * x[i];
    }
    const double nmse = num / den;
    EXPECT_LT(nmse, f.max_gauss_nmse) << f.name;
    RecordProperty(std::string("nmse_") + f.name, std::to_string(nmse));
    std::printf("%s gaussian nmse %.3g (bound %.3g)\n", f.name, nmse, double(f.max_gauss_nmse));
  }
}

TEST(KQuantsQuantize, DegenerateInputsStayFinite) {
  const std::vector<std::vector<float>> cases = {
      std::vector<float>(2 * QK_K, 0.0f),        // all zero
      std::vector<float>(2 * QK_K, 3.25f),       // constant positive
      std::vector<float>(2 * QK_K, -1.0f),       // constant negative
      std::vector<float>(2 * QK_K, 1e-30f),      // below fp16 range
  };
  for (const Format& f : kFormats) {
    for (const auto& x : cases) {
      const auto y = round_trip(f, x);
      for (size_t i = 0; i < x.size(); ++i) {
        ASSERT_TRUE(std::isfinite(y[i])) << f.name << " input " << x[0] << " element " << i;
        ASSERT_NEAR(y[i], x[i], 0.02 * std::fabs(x[i]) + 1e-6) << f.name << " input " << x[0] << " element " << i;
      }
    }
  }
}

TEST(KQuantsQuantize, Q8KBsumsAndScale) {
  std::mt19937 rng(3);
  std::normal_distribution<float> g(0.f, 3.f);
  std::vector<float> x(3 * QK_K);
  for (float& v : x) v = g(rng);
  std::vector<BlockQ8_K> q(3);
  quant::quantize_row_q8_k(x.data(), q.data(), static_cast<int64_t>(x.size()));
  for (int b = 0; b < 3; ++b) {
    // d = -max/127 with max the value of largest magnitude, so that value maps to -127.
    float amax = 0, max = 0;
    for (int j = 0; j < QK_K; ++j) {
      if (std::fabs(x[b * QK_K + j]) > amax) {
        amax = std::fabs(x[b * QK_K + j]);
        max = x[b * QK_K + j];
      }
    }
    EXPECT_FLOAT_EQ(q[b].d, -max / 127.f);
    for (int j = 0; j < QK_K / 16; ++j) {
      int s = 0;
      for (int i = 0; i < 16; ++i) s += q[b].qs[16 * j + i];
      EXPECT_EQ(q[b].bsums[j], s) << "block " << b << " group " << j;
    }
  }
}

}  // namespace
}  // namespace pocket
