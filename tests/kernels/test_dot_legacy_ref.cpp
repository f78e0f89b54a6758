// Tests for the scalar reference dot products of the plain and 32-element block formats:
// exact results on hand-built blocks (expected sums worked out by hand), llama.cpp's
// dot-product error bound (tests/test-quantize-fns.cpp), and agreement with the float dot
// of the dequantized rows.
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

namespace pocket {
namespace {

using DotFn = float (*)(int64_t, const void*, const void*);
using QuantizeFn = void (*)(const float*, void*, int64_t);
using DequantizeFn = void (*)(const void*, float*, int64_t);

void copy_f32(const float* src, void* dst, int64_t n) { std::memcpy(dst, src, static_cast<size_t>(n) * 4); }
void load_f32(const void* src, float* dst, int64_t n) { std::memcpy(dst, src, static_cast<size_t>(n) * 4); }

// A weight format with its activation format, as kernels/dot.cpp pairs them.
struct Pair {
  const char* name;
  DotFn dot;
  QuantizeFn quantize_w;
  DequantizeFn dequantize_w;
  size_t w_block_bytes;
  QuantizeFn quantize_x;
  DequantizeFn dequantize_x;
  size_t x_block_bytes;
  int block;
  bool has_min = false;  // _1 weight formats: d, m, ... against Q8_1 activations
};

const Pair kPairs[] = {
    {"f32", kernels::ref::vec_dot_f32_f32, copy_f32, load_f32, 4, copy_f32, load_f32, 4, 1},
    {"f16", kernels::ref::vec_dot_f16_f32, quant::quantize_row_f16, quant::dequantize_row_f16, 2, copy_f32, load_f32,
     4, 1},
    {"bf16", kernels::ref::vec_dot_bf16_f32, quant::quantize_row_bf16, quant::dequantize_row_bf16, 2, copy_f32,
     load_f32, 4, 1},
    {"q8_0", kernels::ref::vec_dot_q8_0_q8_0, quant::quantize_row_q8_0, quant::dequantize_row_q8_0,
     sizeof(BlockQ8_0), quant::quantize_row_q8_0, quant::dequantize_row_q8_0, sizeof(BlockQ8_0), 32},
    {"q4_0", kernels::ref::vec_dot_q4_0_q8_0, quant::quantize_row_q4_0, quant::dequantize_row_q4_0,
     sizeof(BlockQ4_0), quant::quantize_row_q8_0, quant::dequantize_row_q8_0, sizeof(BlockQ8_0), 32},
    {"q4_1", kernels::ref::vec_dot_q4_1_q8_1, quant::quantize_row_q4_1, quant::dequantize_row_q4_1,
     sizeof(BlockQ4_1), quant::quantize_row_q8_1, quant::dequantize_row_q8_1, sizeof(BlockQ8_1), 32, true},
    {"q5_0", kernels::ref::vec_dot_q5_0_q8_0, quant::quantize_row_q5_0, quant::dequantize_row_q5_0,
     sizeof(BlockQ5_0), quant::quantize_row_q8_0, quant::dequantize_row_q8_0, sizeof(BlockQ8_0), 32},
    {"q5_1", kernels::ref::vec_dot_q5_1_q8_1, quant::quantize_row_q5_1, quant::dequantize_row_q5_1,
     sizeof(BlockQ5_1), quant::quantize_row_q8_1, quant::dequantize_row_q8_1, sizeof(BlockQ8_1), 32, true},
};

struct Rows {
  std::vector<uint8_t> w, x;
};

Rows quantize_rows(const Pair& p, const std::vector<float>& w, const std::vector<float>& x) {
  const int64_t n = static_cast<int64_t>(w.size());
  Rows r;
  r.w.resize(static_cast<size_t>(n / p.block) * p.w_block_bytes);
  r.x.resize(static_cast<size_t>(n / p.block) * p.x_block_bytes);
  p.quantize_w(w.data(), r.w.data(), n);
  p.quantize_x(x.data(), r.x.data(), n);
  return r;
}

// ---- hand-built blocks -------------------------------------------------------------------
// Every value below is a small integer times a power of two, so the exact sum is also the
// float result whatever the summation order.

void put16(uint8_t* p, uint16_t v) { std::memcpy(p, &v, 2); }

// Q8 activation block: d = 0.25, q_j = j - 16 (sum = -16, so s = d * sum = -4).
void q8_act(uint8_t* blk, bool with_s) {
  put16(blk, 0x3400);
  if (with_s) put16(blk + 2, 0xC400);
  int8_t* qs = reinterpret_cast<int8_t*>(blk + (with_s ? 4 : 2));
  for (int j = 0; j < 32; ++j) qs[j] = static_cast<int8_t>(j - 16);
}

// Sums over q_j = j - 16 used below: sum_{j<16} q_j = -136, sum_{j>=16} q_j = 120,
// sum_j q_j^2 = 16^2 + 2 * (1^2 + ... + 15^2) = 256 + 2 * 1240 = 2736.

TEST(DotLegacyRefExact, Q8_0) {
  // w: d = 0.5, q_j = j - 16 -> 0.5 * 0.25 * 2736 = 342.
  BlockQ8_0 w, x;
  q8_act(reinterpret_cast<uint8_t*>(&x), false);
  w = x;
  w.d = 0x3800;
  EXPECT_EQ(kernels::ref::vec_dot_q8_0_q8_0(32, &w, &x), 342.0f);
}

TEST(DotLegacyRefExact, Q4_0) {
  // w: d = 0.5, every byte 0x9A: low nibble 10 -> +2 (elements 0..15), high 9 -> +1
  // (16..31): 0.125 * (2 * -136 + 1 * 120) = -19.
  BlockQ4_0 w;
  w.d = 0x3800;
  std::memset(w.qs, 0x9A, sizeof(w.qs));
  BlockQ8_0 x;
  q8_act(reinterpret_cast<uint8_t*>(&x), false);
  EXPECT_EQ(kernels::ref::vec_dot_q4_0_q8_0(32, &w, &x), -19.0f);
}

TEST(DotLegacyRefExact, Q4_1) {
  // w = 0.5 q - 1 with q = 10 (elements 0..15) and 9 (16..31), i.e. 4 and 3.5:
  // 0.125 * (10 * -136 + 9 * 120) + (-1) * s = -35 + 4 = -31
  // (= 4 * 0.25 * -136 + 3.5 * 0.25 * 120 from the dequantized values).
  BlockQ4_1 w;
  w.d = 0x3800;
  w.m = 0xBC00;
  std::memset(w.qs, 0x9A, sizeof(w.qs));
  BlockQ8_1 x;
  q8_act(reinterpret_cast<uint8_t*>(&x), true);
  EXPECT_EQ(kernels::ref::vec_dot_q4_1_q8_1(32, &w, &x), -31.0f);
}

TEST(DotLegacyRefExact, Q5_0TwoBlocks) {
  // Block 0: d = 0.5, qh = 0x0000FFFF (fifth bit on for elements 0..15), bytes 0x9A:
  //   elements 0..15: (10 | 16) - 16 = 10, 16..31: 9 - 16 = -7, against q_j = j - 16, d 0.25:
  //   0.125 * (10 * -136 - 7 * 120) = -275.
  // Block 1: d = 1, qh = 0x55555555 (even elements), bytes 0x00: even -> 0, odd -> -16,
  //   against all-ones with d = 1: 16 * -16 = -256.
  BlockQ5_0 w[2];
  w[0].d = 0x3800;
  const uint8_t qh0[4] = {0xFF, 0xFF, 0x00, 0x00};
  std::memcpy(w[0].qh, qh0, 4);
  std::memset(w[0].qs, 0x9A, 16);
  w[1].d = 0x3C00;
  std::memset(w[1].qh, 0x55, 4);
  std::memset(w[1].qs, 0x00, 16);
  BlockQ8_0 x[2];
  q8_act(reinterpret_cast<uint8_t*>(&x[0]), false);
  x[1].d = 0x3C00;
  std::memset(x[1].qs, 1, 32);
  EXPECT_EQ(kernels::ref::vec_dot_q5_0_q8_0(64, w, x), -531.0f);
}

TEST(DotLegacyRefExact, Q5_1) {
  // d = 0.5, m = -1, qh = 0x0000FFFF, bytes 0x9A: q = 26 (elements 0..15), 9 (16..31):
  // 0.125 * (26 * -136 + 9 * 120) + (-1) * (-4) = -307 + 4 = -303.
  BlockQ5_1 w;
  w.d = 0x3800;
  w.m = 0xBC00;
  const uint8_t qh[4] = {0xFF, 0xFF, 0x00, 0x00};
  std::memcpy(w.qh, qh, 4);
  std::memset(w.qs, 0x9A, 16);
  BlockQ8_1 x;
  q8_act(reinterpret_cast<uint8_t*>(&x), true);
  EXPECT_EQ(kernels::ref::vec_dot_q5_1_q8_1(32, &w, &x), -303.0f);
}

TEST(DotLegacyRefExact, PlainTypes) {
  // w = {1, -2, 0.5}, x = {3, 4, -8}: 3 - 8 - 4 = -9, in every plain format.
  const float wf[3] = {1.0f, -2.0f, 0.5f};
  const float x[3] = {3.0f, 4.0f, -8.0f};
  const uint16_t wh[3] = {0x3C00, 0xC000, 0x3800};
  const uint16_t wb[3] = {0x3F80, 0xC000, 0x3F00};
  EXPECT_EQ(kernels::ref::vec_dot_f32_f32(3, wf, x), -9.0f);
  EXPECT_EQ(kernels::ref::vec_dot_f16_f32(3, wh, x), -9.0f);
  EXPECT_EQ(kernels::ref::vec_dot_bf16_f32(3, wb, x), -9.0f);
}

// ---- llama.cpp's dot product error ------------------------------------------------------

// ref: llama.cpp tests/test-quantize-fns.cpp: generate_data(0) for the weights,
// generate_data(1) for the activations, test_size = 32 * 128, error = |dot - ref| / n,
// MAX_DOT_PRODUCT_ERROR = 0.02, with ref summed in double over float products.
constexpr float kMaxDotProductError = 0.02f;

std::vector<float> cos_data(float offset, size_t n) {
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = static_cast<float>(0.1 + 2.0f * std::cos(static_cast<float>(i) + offset));
  return x;
}

float float_dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return static_cast<float>(s);
}

TEST(DotLegacyRef, LlamaCppDotProductError) {
  const size_t n = 32 * 128;
  const std::vector<float> w = cos_data(0.0f, n), x = cos_data(1.0f, n);
  const float want = float_dot(w, x);
  for (const Pair& p : kPairs) {
    const Rows r = quantize_rows(p, w, x);
    const float got = p.dot(static_cast<int64_t>(n), r.w.data(), r.x.data());
    EXPECT_LT(std::fabs(got - want) / static_cast<float>(n), kMaxDotProductError) << p.name;
  }
}

// ---- agreement with the dequantized rows ------------------------------------------------

// The kernel must equal sum(dequant(w) * dequant(x)) up to float summation error, except
// that the _1 formats use s = fp16(d_x * sum q) built from the unrounded d_x while the
// dequantized activation uses fp16(d_x): that moves each block's min term m_w * s_x by up
// to |m_w s_x| * 2^-10 (two fp16 roundings of at most 2^-11 each).
TEST(DotLegacyRef, MatchesDequantizedDot) {
  std::mt19937 rng(42);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  const int64_t n = 32 * 37;
  std::vector<float> w(n), x(n);
  for (auto& v : w) v = dist(rng) + 0.3f;
  for (auto& v : x) v = dist(rng);
  for (const Pair& p : kPairs) {
    const Rows r = quantize_rows(p, w, x);
    std::vector<float> wd(n), xd(n);
    p.dequantize_w(r.w.data(), wd.data(), n);
    p.dequantize_x(r.x.data(), xd.data(), n);
    double want = 0, abs_terms = 0;
    for (int64_t i = 0; i < n; ++i) {
      want += static_cast<double>(wd[i]) * xd[i];
      abs_terms += std::fabs(static_cast<double>(wd[i]) * xd[i]);
    }
    double tol = 1e-6 * abs_terms;
    if (p.has_min) {
      const auto* xb = reinterpret_cast<const BlockQ8_1*>(r.x.data());
      for (int64_t b = 0; b < n / 32; ++b) {
        uint16_t m;
        std::memcpy(&m, r.w.data() + b * p.w_block_bytes + 2, 2);
        tol += std::fabs(fp16_to_f32(m) * fp16_to_f32(xb[b].s)) * 0x1p-10;
      }
    }
    const float got = p.dot(n, r.w.data(), r.x.data());
    EXPECT_NEAR(got, want, tol) << p.name;
  }
}

}  // namespace
}  // namespace pocket
