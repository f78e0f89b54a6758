// The blocked float GEMM the vision towers use (kernels/gemm_f32.h), at every kernel level, against a double-precision
// product of the dequantized weights (quant/ dequantize_row is the oracle for the weights), for
// every weight type it packs itself and a generic one, at odd shapes (token counts that are not
// multiples of 6, outputs not multiples of 16, inputs not multiples of 8 or of the 256 slice),
// strided activations/outputs, bias, and 1-3 threads; and its integer Q8_0 path against
// llama.cpp's Q8_0 x Q8_0 product (reference activation quantizer) in double; and its BF16 path
// (F16 / BF16 weights on CPUs with BF16 dot products) against the double product of weights and
// activations rounded to BF16 (round to nearest even, computed here by comparing the two
// neighbours). Tolerance NMSE <= 1e-10: float accumulation over at most a few thousand terms
// (observed ~1e-13).
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <random>
#include <vector>

#include "core/fp16.h"
#include "kernels/dispatch.h"
#include "kernels/gemm_f32.h"
#include "quant/blocks.h"
#include "quant/types.h"
#include "kernels/levels_test_util.h"

namespace pocket::kernels {
namespace {

struct Shape {
  int64_t m, k, n;
};

// x rounded to BF16 (8 mantissa bits), to nearest, ties to the even neighbour: the two BF16
// values around x are x with its low 16 bits cleared and the next one up in magnitude.
double bf16_nearest(float x) {
  const uint32_t u = std::bit_cast<uint32_t>(x);
  const float lo = std::bit_cast<float>(u & 0xffff0000u);
  const float hi = std::bit_cast<float>((u & 0xffff0000u) + 0x10000u);
  const double dl = std::fabs(static_cast<double>(x) - lo), dh = std::fabs(static_cast<double>(hi) - x);
  if (dl != dh) return dl < dh ? lo : hi;
  return ((u >> 16) & 1) ? hi : lo;  // tie: the one whose last mantissa bit is 0
}

enum class Oracle { kExact, kInt8, kBf16 };

// int8_oracle: the product Q8_0 x Q8_0 as llama.cpp defines it (activations quantized per 32
// by the reference quantizer, integer block dots scaled by both scales), in double.
void run(DType type, const Shape& s, int threads, bool with_bias, uint32_t seed, Oracle oracle = Oracle::kExact) {
  const bool int8_oracle = oracle == Oracle::kInt8, bf16 = oracle == Oracle::kBf16;
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  const size_t rb = row_bytes(type, s.k);
  std::vector<uint8_t> wq(rb * static_cast<size_t>(s.n));
  std::vector<float> row(static_cast<size_t>(s.k));
  for (int64_t r = 0; r < s.n; ++r) {
    for (float& v : row) v = dist(rng) * 0.1f;
    quantize_row(type, row.data(), wq.data() + r * rb, s.k);
  }
  WeightRef w;
  w.type = type;
  w.data = wq.data();
  w.n_in = s.k;
  w.n_out = s.n;
  w.row_stride = rb;

  const int64_t xs = s.k + 3, ys = s.n + 5;  // strided rows
  std::vector<float> x(static_cast<size_t>(s.m * xs));
  for (float& v : x) v = dist(rng);
  std::vector<float> bias(static_cast<size_t>(s.n));
  for (float& v : bias) v = dist(rng);
  std::vector<float> y(static_cast<size_t>(s.m * ys), -7.0f);

  ThreadPool pool(threads);
  GemmF32Scratch scratch;
  gemm_f32(w, x.data(), xs, s.m, y.data(), ys, with_bias ? bias.data() : nullptr, scratch, pool);

  std::vector<float> wd(static_cast<size_t>(s.k));
  std::vector<BlockQ8_0> xq(static_cast<size_t>(s.m * s.k / QK8_0 + 1));
  if (int8_oracle)
    for (int64_t t = 0; t < s.m; ++t) quantize_row(DType::Q8_0, x.data() + t * xs, xq.data() + t * (s.k / QK8_0), s.k);
  double num = 0, den = 0;
  for (int64_t o = 0; o < s.n; ++o) {
    dequantize_row(type, wq.data() + o * rb, wd.data(), s.k);
    const BlockQ8_0* wb = reinterpret_cast<const BlockQ8_0*>(wq.data() + o * rb);
    for (int64_t t = 0; t < s.m; ++t) {
      double acc = with_bias ? bias[o] : 0.0;
      if (int8_oracle) {
        for (int64_t b = 0; b < s.k / QK8_0; ++b) {
          const BlockQ8_0& ab = xq[t * (s.k / QK8_0) + b];
          int64_t dot = 0;
          for (int i = 0; i < QK8_0; ++i) dot += wb[b].qs[i] * ab.qs[i];
          acc += static_cast<double>(fp16_to_f32(wb[b].d)) * fp16_to_f32(ab.d) * static_cast<double>(dot);
        }
      }
      for (int64_t i = 0; !int8_oracle && !bf16 && i < s.k; ++i) acc += static_cast<double>(wd[i]) * x[t * xs + i];
      for (int64_t i = 0; bf16 && i < s.k; ++i) acc += bf16_nearest(wd[i]) * bf16_nearest(x[t * xs + i]);
      const double d = y[t * ys + o] - acc;
      num += d * d;
      den += acc * acc;
    }
  }
  // Padding between rows is untouched.
  for (int64_t t = 0; t < s.m; ++t)
    for (int64_t o = s.n; o < ys; ++o) ASSERT_EQ(y[t * ys + o], -7.0f) << "t=" << t << " o=" << o;
  EXPECT_LE(num / den, 1e-10) << dtype_name(type) << " m=" << s.m << " k=" << s.k << " n=" << s.n
                              << " threads=" << threads;
}

// The level under test is made the active one (gemm_f32 dispatches through it).
class VisionGemmLevels : public test::LevelTest {
 protected:
  void SetUp() override { set_isa(GetParam()); }
  void TearDown() override { set_isa(startup_isa()); }
};

TEST_P(VisionGemmLevels, MatchesDoubleProductOfDequantizedWeights) {
  if (!gemm_f32_is_simd()) GTEST_SKIP() << "no blocked GEMM at this level: gemm_f32 is the reference matmul";
  gemm_f32_disable_int8(true);  // Q8_0 through the float path here
  set_vision_bf16(false);  // and F16 / BF16
  const Shape shapes[] = {{1, 32, 16}, {7, 96, 33}, {13, 300, 50}, {64, 512, 80}, {200, 544, 129}, {37, 1056, 16}};
  uint32_t seed = 1;
  for (DType type : {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0}) {
    for (const Shape& s : shapes) {
      if (s.k % type_traits(type).block_size != 0) continue;
      for (int threads : {1, 3}) {
        run(type, s, threads, (seed & 1) != 0, seed);
        ++seed;
      }
    }
  }
  // Inputs not a multiple of 8 (the packers' scalar tail), float types only.
  for (DType type : {DType::F32, DType::F16}) run(type, {19, 588, 40}, 2, true, seed++);
  // K-quants take the generic packer with 256-element blocks.
  run(DType::Q4_K, {25, 768, 48}, 2, true, seed++);
  run(DType::Q6_K, {9, 256, 17}, 1, false, seed++);
  gemm_f32_disable_int8(false);
  set_vision_bf16(true);
}

TEST_P(VisionGemmLevels, Bf16PathMatchesBf16RoundedProducts) {
  if (!gemm_f32_is_simd() || !gemm_f32_has_bf16()) GTEST_SKIP() << "no BF16 GEMM at this level or on this CPU";
  // Tokens not a multiple of 8, outputs not of 32, inputs not of the 256 slice or of 16.
  const Shape shapes[] = {{1, 32, 32}, {9, 96, 33}, {13, 300, 50}, {200, 544, 129}, {37, 1056, 16}, {19, 588, 40}, {8, 2, 3}};
  uint32_t seed = 300;
  for (DType type : {DType::F16, DType::BF16})
    for (const Shape& s : shapes)
      for (int threads : {1, 2}) {
        run(type, s, threads, (seed & 1) != 0, seed, Oracle::kBf16);
        ++seed;
      }
  // An odd input count has no BF16 pairs: the float path, exact.
  run(DType::F16, {5, 35, 20}, 1, true, seed++);
}

TEST_P(VisionGemmLevels, Q8_0IntegerPathMatchesQ8_0Products) {
  if (!gemm_f32_q8_is_int8()) GTEST_SKIP() << "no int8 GEMM at this level: Q8_0 takes the float path";
  const Shape shapes[] = {{1, 32, 32}, {5, 64, 33}, {13, 544, 70}, {200, 1056, 64}, {37, 768, 100}};
  uint32_t seed = 100;
  for (const Shape& s : shapes)
    for (int threads : {1, 2}) {
      run(DType::Q8_0, s, threads, (seed & 1) != 0, seed, Oracle::kInt8);
      ++seed;
    }
}

TEST(VisionGemm, ReferenceDispatchFallsBackToMatmul) {
  // Under the reference kernels the product is kernels::matmul plus the bias.
  set_isa(Isa::Ref);
  EXPECT_FALSE(gemm_f32_is_simd());
  run(DType::F16, {11, 64, 24}, 2, true, 99);
  set_isa(startup_isa());
}

POCKET_INSTANTIATE_LEVELS(VisionGemmLevels);

}  // namespace
}  // namespace pocket::kernels
