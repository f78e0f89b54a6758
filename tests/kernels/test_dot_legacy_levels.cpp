// Tests for every kernel level's dot products and Q8 activation quantizers of the plain and
// 32-element block formats against the scalar reference (kernels/ref), on random data at odd
// sizes (tests/kernels/levels.h: each level this build and CPU can run).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "core/fp16.h"
#include "kernels/ref/dot_ref.h"
#include "quant/blocks.h"
#include "quant/legacy.h"
#include "kernels/levels_test_util.h"

namespace pocket {
namespace {

using DotFn = float (*)(int64_t, const void*, const void*);
using QuantizeFn = void (*)(const float*, void*, int64_t);
using DequantizeFn = void (*)(const void*, float*, int64_t);

void copy_f32(const float* src, void* dst, int64_t n) { std::memcpy(dst, src, static_cast<size_t>(n) * 4); }
void load_f32(const void* src, float* dst, int64_t n) { std::memcpy(dst, src, static_cast<size_t>(n) * 4); }

struct Kernel {
  const char* name;
  DotFn ref;
  DType type;  // the level's kernel is type_kernels(level, type)
  QuantizeFn quantize_w;
  DequantizeFn dequantize_w;
  size_t w_block_bytes;
  QuantizeFn quantize_x;  // always the scalar reference quantizer
  DequantizeFn dequantize_x;
  size_t x_block_bytes;
  int block;
};

const Kernel kKernels[] = {
    {"f32", kernels::ref::vec_dot_f32_f32, DType::F32, copy_f32, load_f32, 4, copy_f32, load_f32,
     4, 1},
    {"f16", kernels::ref::vec_dot_f16_f32, DType::F16, quant::quantize_row_f16,
     quant::dequantize_row_f16, 2, copy_f32, load_f32, 4, 1},
    {"bf16", kernels::ref::vec_dot_bf16_f32, DType::BF16, quant::quantize_row_bf16,
     quant::dequantize_row_bf16, 2, copy_f32, load_f32, 4, 1},
    {"q8_0", kernels::ref::vec_dot_q8_0_q8_0, DType::Q8_0, quant::quantize_row_q8_0,
     quant::dequantize_row_q8_0, sizeof(BlockQ8_0), quant::quantize_row_q8_0, quant::dequantize_row_q8_0,
     sizeof(BlockQ8_0), 32},
    {"q4_0", kernels::ref::vec_dot_q4_0_q8_0, DType::Q4_0, quant::quantize_row_q4_0,
     quant::dequantize_row_q4_0, sizeof(BlockQ4_0), quant::quantize_row_q8_0, quant::dequantize_row_q8_0,
     sizeof(BlockQ8_0), 32},
    {"q4_1", kernels::ref::vec_dot_q4_1_q8_1, DType::Q4_1, quant::quantize_row_q4_1,
     quant::dequantize_row_q4_1, sizeof(BlockQ4_1), quant::quantize_row_q8_1, quant::dequantize_row_q8_1,
     sizeof(BlockQ8_1), 32},
    {"q5_0", kernels::ref::vec_dot_q5_0_q8_0, DType::Q5_0, quant::quantize_row_q5_0,
     quant::dequantize_row_q5_0, sizeof(BlockQ5_0), quant::quantize_row_q8_0, quant::dequantize_row_q8_0,
     sizeof(BlockQ8_0), 32},
    {"q5_1", kernels::ref::vec_dot_q5_1_q8_1, DType::Q5_1, quant::quantize_row_q5_1,
     quant::dequantize_row_q5_1, sizeof(BlockQ5_1), quant::quantize_row_q8_1, quant::dequantize_row_q8_1,
     sizeof(BlockQ8_1), 32},
};

// Odd sizes: a lone block, odd block counts (the two-block loop's tail), and for the plain
// types every remainder mod 8 and mod 32 around the unrolled loops.
const int64_t kBlockCounts[] = {1, 2, 3, 7, 8, 33, 129};
const int64_t kPlainSizes[] = {1, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 129, 1023, 4097};

std::vector<int64_t> sizes_for(const Kernel& k) {
  std::vector<int64_t> out;
  if (k.block == 1) {
    out.assign(std::begin(kPlainSizes), std::end(kPlainSizes));
  } else {
    for (int64_t b : kBlockCounts) out.push_back(b * k.block);
  }
  return out;
}

struct Rows {
  std::vector<uint8_t> w, x;
  double abs_terms = 0;  // sum_i |w_i x_i| over the dequantized rows
};

Rows make_rows(const Kernel& k, const std::vector<float>& w, const std::vector<float>& x) {
  const int64_t n = static_cast<int64_t>(w.size());
  Rows r;
  r.w.resize(static_cast<size_t>(n / k.block) * k.w_block_bytes);
  r.x.resize(static_cast<size_t>(n / k.block) * k.x_block_bytes);
  k.quantize_w(w.data(), r.w.data(), n);
  k.quantize_x(x.data(), r.x.data(), n);
  std::vector<float> wd(n), xd(n);
  k.dequantize_w(r.w.data(), wd.data(), n);
  k.dequantize_x(r.x.data(), xd.data(), n);
  for (int64_t i = 0; i < n; ++i) r.abs_terms += std::fabs(static_cast<double>(wd[i]) * xd[i]);
  return r;
}

// Both kernels compute the same exact per-block integer dots (or the same float products)
// and differ only in the order and fusing of the float additions. That error is bounded
// relative to sum |terms|, so:
//  - on zero-mean data (where the dot may cancel to near zero) the check is
//    |simd - ref| <= 1e-5 * sum |w_i x_i|;
//  - on all-positive data there is no cancellation and the plain relative error
//    |simd - ref| <= 1e-5 * |ref| is checked.
constexpr double kRelTol = 1e-5;

class DotLegacyLevels : public test::LevelTest {
 protected:
  DotFn level_dot(const Kernel& k) const { return kernels_of(k.type).vec_dot; }
};

TEST_P(DotLegacyLevels, MatchesRefOnZeroMeanData) {
    std::mt19937 rng(7);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (const Kernel& k : kKernels) {
    for (int64_t n : sizes_for(k)) {
      std::vector<float> w(n), x(n);
      for (auto& v : w) v = dist(rng);
      for (auto& v : x) v = dist(rng);
      const Rows r = make_rows(k, w, x);
      const float want = k.ref(n, r.w.data(), r.x.data());
      const float got = level_dot(k)(n, r.w.data(), r.x.data());
      EXPECT_LE(std::fabs(static_cast<double>(got) - want), kRelTol * r.abs_terms)
          << k.name << " n=" << n << " ref=" << want << " simd=" << got;
    }
  }
}

TEST_P(DotLegacyLevels, MatchesRefOnPositiveData) {
    // Positive inputs dequantize to non-negative weights in every format (Q4_0/Q5_0 put the
  // positive extreme at -8/-16 with a negative d), so no term cancels.
  std::mt19937 rng(8);
  std::uniform_real_distribution<float> dist(0.5f, 1.5f);
  for (const Kernel& k : kKernels) {
    for (int64_t n : sizes_for(k)) {
      std::vector<float> w(n), x(n);
      for (auto& v : w) v = dist(rng);
      for (auto& v : x) v = dist(rng);
      const Rows r = make_rows(k, w, x);
      const float want = k.ref(n, r.w.data(), r.x.data());
      const float got = level_dot(k)(n, r.w.data(), r.x.data());
      ASSERT_GT(want, 0.0f) << k.name;
      EXPECT_LE(std::fabs(static_cast<double>(got) - want), kRelTol * std::fabs(want))
          << k.name << " n=" << n << " ref=" << want << " simd=" << got;
    }
  }
}

// Weight blocks made of random bytes reach every nibble, fifth-bit and Q8 value (-128
// included) that a quantizer might never emit; scales are random but finite.
TEST_P(DotLegacyLevels, MatchesRefOnRandomWeightBytes) {
    std::mt19937 rng(9);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_real_distribution<float> scale(-0.05f, 0.05f);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (const Kernel& k : kKernels) {
    if (k.block == 1) continue;
    for (int64_t nb : kBlockCounts) {
      const int64_t n = nb * k.block;
      std::vector<float> w(n), x(n);
      for (auto& v : x) v = dist(rng);
      for (auto& v : w) v = 0.0f;
      Rows r = make_rows(k, w, x);
      for (auto& b : r.w) b = static_cast<uint8_t>(byte(rng));
      // fp16 d (and m for _1 formats) lead every block.
      const int n_scales = (k.w_block_bytes == sizeof(BlockQ4_1) || k.w_block_bytes == sizeof(BlockQ5_1)) ? 2 : 1;
      for (int64_t b = 0; b < nb; ++b) {
        for (int s = 0; s < n_scales; ++s) {
          const uint16_t h = f32_to_fp16(scale(rng));
          std::memcpy(r.w.data() + b * k.w_block_bytes + 2 * s, &h, 2);
        }
      }
      std::vector<float> wd(n), xd(n);
      k.dequantize_w(r.w.data(), wd.data(), n);
      k.dequantize_x(r.x.data(), xd.data(), n);
      double abs_terms = 0;
      for (int64_t i = 0; i < n; ++i) abs_terms += std::fabs(static_cast<double>(wd[i]) * xd[i]);
      const float want = k.ref(n, r.w.data(), r.x.data());
      const float got = level_dot(k)(n, r.w.data(), r.x.data());
      EXPECT_LE(std::fabs(static_cast<double>(got) - want), kRelTol * abs_terms) << k.name << " blocks=" << nb;
    }
  }
}

// Small integers times powers of two: every partial sum is exact, so any summation order
// gives the same float and the SIMD result must equal the reference exactly. Weights are
// random bytes with d in {0.25, 0.5} (and m in {-1, -0.5}); activations are Q8 blocks with
// d in {0.125, 0.25} and |q| <= 15, so s = d * sum(q) is exact in fp16 too. Every term is
// a multiple of 2^-5 and every partial sum stays below 19 blocks * (32 * 128 * 15 * 2^-3
// + 1 * 0.25 * 480) < 2^18, i.e. under 2^23 units of 2^-5: exact in float. Varying the
// scales per block checks that each block's scale meets its own integer sum.
TEST_P(DotLegacyLevels, ExactWhereSummationIsExact) {
    std::mt19937 rng(10);
  std::uniform_int_distribution<int> byte(0, 255), q(-15, 15), small(-8, 8), coin(0, 1);
  const int64_t nb = 19;
  for (const Kernel& k : kKernels) {
    const int64_t n = nb * k.block;
    std::vector<uint8_t> wq(nb * k.w_block_bytes), xq(nb * k.x_block_bytes);
    if (k.block == 1) {
      std::vector<float> w(n), x(n);
      for (auto& v : w) v = static_cast<float>(small(rng)) * 0.5f;
      for (auto& v : x) v = static_cast<float>(small(rng)) * 0.25f;
      k.quantize_w(w.data(), wq.data(), n);
      std::memcpy(xq.data(), x.data(), xq.size());
    } else {
      const bool has_min = k.w_block_bytes == sizeof(BlockQ4_1) || k.w_block_bytes == sizeof(BlockQ5_1);
      const bool has_s = k.x_block_bytes == sizeof(BlockQ8_1);
      for (auto& b : wq) b = static_cast<uint8_t>(byte(rng));
      for (int64_t b = 0; b < nb; ++b) {
        uint8_t* wb = wq.data() + b * k.w_block_bytes;
        const uint16_t d = coin(rng) ? 0x3800 : 0x3400;  // 0.5 or 0.25
        const uint16_t m = coin(rng) ? 0xBC00 : 0xB800;  // -1 or -0.5
        std::memcpy(wb, &d, 2);
        if (has_min) std::memcpy(wb + 2, &m, 2);
        uint8_t* xb = xq.data() + b * k.x_block_bytes;
        const uint16_t dx = coin(rng) ? 0x3400 : 0x3000;  // 0.25 or 0.125
        std::memcpy(xb, &dx, 2);
        int8_t* qs = reinterpret_cast<int8_t*>(xb + (has_s ? 4 : 2));
        int sum = 0;
        for (int j = 0; j < 32; ++j) sum += (qs[j] = static_cast<int8_t>(q(rng)));
        if (has_s) {
          const uint16_t s = f32_to_fp16(fp16_to_f32(dx) * static_cast<float>(sum));
          std::memcpy(xb + 2, &s, 2);
        }
      }
    }
    const float want = k.ref(n, wq.data(), xq.data());
    const float got = level_dot(k)(n, wq.data(), xq.data());
    EXPECT_EQ(got, want) << k.name;
  }
}

// ---- llama.cpp's dot product error with the level's path end to end ------------------------

std::vector<float> cos_data(float offset, size_t n) {
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = static_cast<float>(0.1 + 2.0f * std::cos(static_cast<float>(i) + offset));
  return x;
}

TEST_P(DotLegacyLevels, LlamaCppDotProductError) {
    // ref: llama.cpp tests/test-quantize-fns.cpp (MAX_DOT_PRODUCT_ERROR = 0.02), with the
  // activations quantized by the level's quantizers as the dispatch table does.
  const size_t n = 32 * 128;
  const std::vector<float> w = cos_data(0.0f, n), x = cos_data(1.0f, n);
  double want = 0;
  for (size_t i = 0; i < n; ++i) want += w[i] * x[i];
  for (const Kernel& k : kKernels) {
    const QuantizeFn qx = kernels_of(k.type).quantize_act;
    std::vector<uint8_t> wq(n / k.block * k.w_block_bytes), xq(n / k.block * k.x_block_bytes);
    k.quantize_w(w.data(), wq.data(), static_cast<int64_t>(n));
    qx(x.data(), xq.data(), static_cast<int64_t>(n));
    const float got = level_dot(k)(static_cast<int64_t>(n), wq.data(), xq.data());
    EXPECT_LT(std::fabs(got - static_cast<float>(want)) / static_cast<float>(n), 0.02f) << k.name;
  }
}

// ---- activation quantizers --------------------------------------------------------------
// Every level's quantizers reproduce the scalar ones bit for bit, *including* values exactly at
// a rounding tie: they use the same id = 1 / (amax / 127) and emulate roundf's
// half-away-from-zero rather than the SIMD round-to-even (llama.cpp's AVX2 quantizer does
// the latter and so differs from its _ref on ties). So the check is full byte identity.

struct Q8Quantizer {
  const char* name;
  QuantizeFn ref;
  DType weight;  // a weight type whose activation format this is
  size_t block_bytes;
};
const Q8Quantizer kQ8[] = {
    {"q8_0", quant::quantize_row_q8_0, DType::Q8_0, sizeof(BlockQ8_0)},
    {"q8_1", quant::quantize_row_q8_1, DType::Q4_1, sizeof(BlockQ8_1)},
};

class Q8QuantizeLevels : public test::LevelTest {
 protected:
  void expect_same_bytes(const Q8Quantizer& q, const std::vector<float>& x, const char* what) const;
};

void Q8QuantizeLevels::expect_same_bytes(const Q8Quantizer& q, const std::vector<float>& x, const char* what) const {
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<uint8_t> a(n / 32 * q.block_bytes, 0xAA), b(n / 32 * q.block_bytes, 0x55);
  q.ref(x.data(), a.data(), n);
  kernels_of(q.weight).quantize_act(x.data(), b.data(), n);
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) {
      ADD_FAILURE() << q.name << " " << what << ": first differing byte " << i << " (block " << i / q.block_bytes
                    << "): ref " << int(a[i]) << " simd " << int(b[i]);
      return;
    }
  }
}

TEST_P(Q8QuantizeLevels, SameBytesOnRandomData) {
    std::mt19937 rng(11);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::uniform_real_distribution<float> mag(-20.0f, 20.0f);
  for (const Q8Quantizer& q : kQ8) {
    for (int64_t nb : kBlockCounts) {
      std::vector<float> x(nb * 32);
      for (auto& v : x) v = dist(rng) * std::exp2(std::round(mag(rng)));  // scales from 2^-20 to 2^20
      expect_same_bytes(q, x, "random");
    }
  }
}

TEST_P(Q8QuantizeLevels, SameBytesOnTies) {
    // One element per block is +-15.875 = 127 / 8, so d = 0.125 and id = 8 exactly; the
  // others are k / 128 with |k| <= 2032, so x * id = k / 16 is exactly a half whenever
  // k = 8 (mod 16): about one value in 16 sits on a tie.
  std::mt19937 rng(12);
  std::uniform_int_distribution<int> kdist(-2032, 2032);
  std::vector<float> x(33 * 32);
  int ties = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    if (i % 32 == 5) {
      x[i] = (i / 32) % 2 ? 15.875f : -15.875f;
    } else {
      const int k = kdist(rng);
      x[i] = static_cast<float>(k) / 128.0f;
      ties += ((k % 16) + 16) % 16 == 8;
    }
  }
  ASSERT_GT(ties, 30);
  for (const Q8Quantizer& q : kQ8) expect_same_bytes(q, x, "ties");
}

TEST_P(Q8QuantizeLevels, SameBytesOnEdgeBlocks) {
    std::vector<float> x(5 * 32, 0.0f);  // block 0: all zero
  for (int j = 0; j < 32; ++j) {
    x[32 + j] = (j == 7) ? -1.0f : 0.0f;                    // one non-zero, negative extreme
    x[64 + j] = 1e-3f * static_cast<float>(j % 3 - 1);      // tiny values
    x[96 + j] = 6.0e4f * (j % 2 ? 1.0f : -1.0f);            // near the fp16 range limit
    x[128 + j] = (j % 2 ? -0.0f : 0.0f) + (j == 31 ? 2.0f : 0.0f);  // signed zeros
  }
  for (const Q8Quantizer& q : kQ8) expect_same_bytes(q, x, "edge");
}

POCKET_INSTANTIATE_LEVELS(DotLegacyLevels);
POCKET_INSTANTIATE_LEVELS(Q8QuantizeLevels);

}  // namespace
}  // namespace pocket
