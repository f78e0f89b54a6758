// K-quant dot products (Q2_K..Q6_K weights x Q8_K activations): the scalar reference against the
// float dot of the dequantized rows and against llama.cpp's accuracy bounds, and every kernel
// level's products (and Q8_K quantizer) against the scalar reference on random data of 1..9
// super-blocks (tests/kernels/levels_test_util.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <random>
#include <vector>

#include "core/fp16.h"
#include "kernels/ref/dot_ref.h"
#include "quant/blocks.h"
#include "quant/kquants.h"
#include "kernels/levels_test_util.h"

namespace pocket {
namespace {

using DotFn = float (*)(int64_t, const void*, const void*);
using QuantFn = void (*)(const float*, void*, int64_t);
using DequantFn = void (*)(const void*, float*, int64_t);

struct KFormat {
  const char* name;
  size_t block_bytes;
  QuantFn quantize;
  DequantFn dequantize;
  DotFn ref_dot;
  DType type;  // the level's kernel is type_kernels(level, type)
  float max_dot_error;  // llama.cpp tests/test-quantize-fns.cpp
  // Offsets of the fp16 scale fields inside the block, so random blocks get finite scales.
  int half_offsets[2];
};

// ref: llama.cpp tests/test-quantize-fns.cpp: MAX_DOT_PRODUCT_ERROR = 0.02, and
// MAX_DOT_PRODUCT_ERROR_LOWBIT = 0.04 for Q2_K.
const KFormat kFormats[] = {
    {"q2_k", sizeof(BlockQ2_K), quant::quantize_row_q2_k, quant::dequantize_row_q2_k, kernels::ref::vec_dot_q2_k_q8_k,
     DType::Q2_K, 0.04f, {offsetof(BlockQ2_K, d), offsetof(BlockQ2_K, dmin)}},
    {"q3_k", sizeof(BlockQ3_K), quant::quantize_row_q3_k, quant::dequantize_row_q3_k, kernels::ref::vec_dot_q3_k_q8_k,
     DType::Q3_K, 0.02f, {offsetof(BlockQ3_K, d), -1}},
    {"q4_k", sizeof(BlockQ4_K), quant::quantize_row_q4_k, quant::dequantize_row_q4_k, kernels::ref::vec_dot_q4_k_q8_k,
     DType::Q4_K, 0.02f, {offsetof(BlockQ4_K, d), offsetof(BlockQ4_K, dmin)}},
    {"q5_k", sizeof(BlockQ5_K), quant::quantize_row_q5_k, quant::dequantize_row_q5_k, kernels::ref::vec_dot_q5_k_q8_k,
     DType::Q5_K, 0.02f, {offsetof(BlockQ5_K, d), offsetof(BlockQ5_K, dmin)}},
    {"q6_k", sizeof(BlockQ6_K), quant::quantize_row_q6_k, quant::dequantize_row_q6_k, kernels::ref::vec_dot_q6_k_q8_k,
     DType::Q6_K, 0.02f, {offsetof(BlockQ6_K, d), -1}},
};

class DotKQuantsLevels : public test::LevelTest {
 protected:
  DotFn level_dot(const KFormat& f) const { return kernels_of(f.type).vec_dot; }
  QuantFn level_q8_k() const { return kernels_of(DType::Q4_K).quantize_act; }
  void expect_same_q8_k(const std::vector<float>& x, const char* what) const;
};

std::vector<float> cos_data(size_t n, float offset) {  // llama.cpp's generate_data
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = 0.1f + 2 * std::cos(static_cast<float>(i) + offset);
  return v;
}

std::vector<float> gaussian(size_t n, uint32_t seed, float sigma) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.f, sigma);
  std::vector<float> v(n);
  for (float& f : v) f = g(rng);
  return v;
}

std::vector<uint8_t> quantize(const KFormat& f, const std::vector<float>& x) {
  std::vector<uint8_t> q(x.size() / QK_K * f.block_bytes);
  f.quantize(x.data(), q.data(), static_cast<int64_t>(x.size()));
  return q;
}

std::vector<BlockQ8_K> quantize_q8_k(const std::vector<float>& x, QuantFn fn) {
  std::vector<BlockQ8_K> q(x.size() / QK_K);
  fn(x.data(), q.data(), static_cast<int64_t>(x.size()));
  return q;
}

// Random bytes with finite fp16 scales in [-0.5, 0.5]: reaches every bit pattern of quants and
// sub-block scales, which the quantizers alone would not (e.g. Q6_K scale -128, Q3_K scale -32).
std::vector<uint8_t> random_weight_blocks(const KFormat& f, int nb, std::mt19937& rng) {
  std::vector<uint8_t> q(nb * f.block_bytes);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_real_distribution<float> u(-0.5f, 0.5f);
  for (uint8_t& b : q) b = static_cast<uint8_t>(byte(rng));
  for (int i = 0; i < nb; ++i) {
    for (int off : f.half_offsets) {
      if (off < 0) continue;
      const uint16_t h = f32_to_fp16(u(rng));
      std::memcpy(q.data() + i * f.block_bytes + off, &h, 2);
    }
  }
  return q;
}

// Random Q8_K activations over the full int8 range (including -128) with consistent bsums.
std::vector<BlockQ8_K> random_q8_k(int nb, std::mt19937& rng) {
  std::vector<BlockQ8_K> y(nb);
  std::uniform_int_distribution<int> q(-128, 127);
  std::uniform_real_distribution<float> u(0.001f, 0.1f);
  for (auto& b : y) {
    b.d = u(rng);
    for (int8_t& v : b.qs) v = static_cast<int8_t>(q(rng));
    for (int j = 0; j < QK_K / 16; ++j) {
      int s = 0;
      for (int l = 0; l < 16; ++l) s += b.qs[16 * j + l];
      b.bsums[j] = static_cast<int16_t>(s);
    }
  }
  return y;
}

// Float dot of the dequantized rows in double, and the scale of its rounding error sum |w x|.
struct FloatDot {
  double dot = 0, magnitude = 0;
};

FloatDot dequantized_dot(const KFormat& f, const uint8_t* w, const BlockQ8_K* x, int nb) {
  const int64_t n = int64_t{nb} * QK_K;
  std::vector<float> wf(n), xf(n);
  f.dequantize(w, wf.data(), n);
  quant::dequantize_row_q8_k(x, xf.data(), n);
  FloatDot r;
  for (int64_t i = 0; i < n; ++i) {
    r.dot += double(wf[i]) * xf[i];
    r.magnitude += std::fabs(double(wf[i]) * xf[i]);
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// Reference kernels.
// ---------------------------------------------------------------------------------------------

// ref: llama.cpp tests/test-quantize-fns.cpp dot_product_error: |q-dot - float dot| / n on
// test_size = 32*128 values of 0.1 + 2 cos(i) and 0.1 + 2 cos(i + 1).
TEST(DotKQuantsRef, DotProductErrorWithinLlamaCppBounds) {
  const size_t n = 32 * 128;
  const auto a = cos_data(n, 0.0f), b = cos_data(n, 1.0f);
  double exact = 0;
  for (size_t i = 0; i < n; ++i) exact += a[i] * b[i];  // float products, as llama.cpp does
  const auto qb = quantize_q8_k(b, quant::quantize_row_q8_k);
  for (const KFormat& f : kFormats) {
    const auto qa = quantize(f, a);
    const float got = f.ref_dot(static_cast<int64_t>(n), qa.data(), qb.data());
    EXPECT_LT(std::fabs(got - exact) / n, f.max_dot_error) << f.name;
  }
}

// The integer kernel must equal the dot of the dequantized rows up to float rounding: this ties
// the reference's bit indexing to the (separately tested) dequantizers. Tolerance: a few float
// roundings per super-block term, relative to sum |w x|.
TEST(DotKQuantsRef, MatchesDequantizedDot) {
  std::mt19937 rng(11);
  for (const KFormat& f : kFormats) {
    for (int nb : {1, 3, 8}) {
      const auto x = random_q8_k(nb, rng);
      for (int source = 0; source < 2; ++source) {
        const auto w = source == 0 ? random_weight_blocks(f, nb, rng) : quantize(f, gaussian(nb * QK_K, nb, 1.0f));
        const FloatDot e = dequantized_dot(f, w.data(), x.data(), nb);
        const float got = f.ref_dot(int64_t{nb} * QK_K, w.data(), x.data());
        EXPECT_LE(std::fabs(got - e.dot), 1e-5 * e.magnitude) << f.name << " nb " << nb << " source " << source;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Every level's kernels vs the reference.
// ---------------------------------------------------------------------------------------------

// Both sides are exact in integers per super-block; they differ only in how the per-block float
// terms are summed (8 lanes + horizontal sum vs one scalar chain). Each is within a few float
// epsilons (6e-8) per term of sum |w x|, so 1e-5 relative to that scale is ~100x headroom while
// any unpacking error is of order 1. (Relative to |ref| alone would be ill-posed: random rows
// can cancel to almost 0.)
TEST_P(DotKQuantsLevels, MatchesReferenceOnRandomData) {
  std::mt19937 rng(2024);
  for (const KFormat& f : kFormats) {
    for (int nb = 1; nb <= 9; ++nb) {
      for (int source = 0; source < 3; ++source) {
        std::vector<uint8_t> w;
        std::vector<BlockQ8_K> x;
        if (source == 0) {  // random bit patterns
          w = random_weight_blocks(f, nb, rng);
          x = random_q8_k(nb, rng);
        } else {  // quantized Gaussian rows; source 2 uses the level's activation quantizer
          w = quantize(f, gaussian(nb * QK_K, 100 + nb, 0.05f));
          x = quantize_q8_k(gaussian(nb * QK_K, 200 + nb, 3.0f),
                            source == 1 ? quant::quantize_row_q8_k : level_q8_k());
        }
        const int64_t n = int64_t{nb} * QK_K;
        const float ref = f.ref_dot(n, w.data(), x.data());
        const float simd = level_dot(f)(n, w.data(), x.data());
        const double scale = std::max<double>(std::fabs(ref), dequantized_dot(f, w.data(), x.data(), nb).magnitude);
        EXPECT_LE(std::fabs(double(simd) - ref), 1e-5 * scale)
            << f.name << " nb " << nb << " source " << source << " ref " << ref << " level " << simd;
      }
    }
  }
}

TEST_P(DotKQuantsLevels, DotProductErrorWithinLlamaCppBounds) {
  const size_t n = 32 * 128;
  const auto a = cos_data(n, 0.0f), b = cos_data(n, 1.0f);
  double exact = 0;
  for (size_t i = 0; i < n; ++i) exact += a[i] * b[i];
  const auto qb = quantize_q8_k(b, level_q8_k());
  for (const KFormat& f : kFormats) {
    const auto qa = quantize(f, a);
    const float got = level_dot(f)(static_cast<int64_t>(n), qa.data(), qb.data());
    EXPECT_LT(std::fabs(got - exact) / n, f.max_dot_error) << f.name;
  }
}

// Every level's Q8_K quantizer computes the same single-rounded products and rounds to nearest,
// ties to even (AVX2 cvtps_epi32 under the default MXCSR; the arm levels keep the reference's),
// like ggml's nearest_int (1.5*2^23 addition, also ties to even), so the bytes are identical,
// exact ties included.
void DotKQuantsLevels::expect_same_q8_k(const std::vector<float>& x, const char* what) const {
  const auto a = quantize_q8_k(x, quant::quantize_row_q8_k);
  const auto b = quantize_q8_k(x, level_q8_k());
  ASSERT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(BlockQ8_K)), 0) << what;
}

TEST_P(DotKQuantsLevels, QuantizeQ8KIdenticalToReference) {
  for (int nb = 1; nb <= 9; ++nb) {
    expect_same_q8_k(gaussian(nb * QK_K, 300 + nb, 1.0f), "gaussian");
    expect_same_q8_k(gaussian(nb * QK_K, 400 + nb, 1e-3f), "small gaussian");
    expect_same_q8_k(cos_data(nb * QK_K, 0.5f), "cosine");
  }
  // Exact ties: with max = -127 the scale is exactly 1, and k + 0.5 rounds to even on both sides.
  std::vector<float> ties(2 * QK_K);
  for (int i = 0; i < 2 * QK_K; ++i) ties[i] = static_cast<float>(i % 250) - 125.0f + 0.5f;
  ties[5] = -127.0f;
  ties[QK_K + 9] = -127.0f;
  expect_same_q8_k(ties, "ties");
  {
    const auto q = quantize_q8_k(ties, level_q8_k());
    EXPECT_EQ(q[0].d, 1.0f);
    EXPECT_EQ(q[0].qs[0], -124);  // -124.5 -> -124 (even)
    EXPECT_EQ(q[0].qs[1], -124);  // -123.5 -> -124 (even)
  }
  // Largest magnitude reached with both signs: the first occurrence decides the sign of d.
  std::vector<float> both(QK_K, 0.25f);
  both[3] = 2.0f;
  both[7] = -2.0f;
  expect_same_q8_k(both, "first max positive");
  both[3] = -2.0f;
  both[7] = 2.0f;
  expect_same_q8_k(both, "first max negative");
  // An all-zero block between non-zero ones.
  auto mixed = gaussian(3 * QK_K, 5, 1.0f);
  std::fill(mixed.begin() + QK_K, mixed.begin() + 2 * QK_K, 0.0f);
  expect_same_q8_k(mixed, "zero block");
}

POCKET_INSTANTIATE_LEVELS(DotKQuantsLevels);

}  // namespace
}  // namespace pocket
