// Matrix-product tiles and the threaded matmul agree with the scalar reference row dot
// products, for every weight type and every kernel level, at odd shapes (row/token counts that
// leave partial tiles).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/dot.h"
#include "kernels/matmul.h"
#include "kernels/repack.h"
#include "quant/types.h"
#include "kernels/levels_test_util.h"

namespace pocket::kernels {
namespace {

std::vector<float> randv(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// Reference: dequantized weights dotted with the activations converted through the same
// activation format (so only kernel arithmetic differs).
void reference(DType t, const std::vector<uint8_t>& wq, int64_t n_in, int64_t n_out, const std::vector<float>& x,
               int64_t n_tok, std::vector<float>& y) {
  const TypeKernels& k = type_kernels(kernels_for(Isa::Ref), t);
  const size_t wr = row_bytes(t, n_in), ar = row_bytes(k.act_type, n_in);
  std::vector<uint8_t> act(ar * n_tok);
  for (int64_t i = 0; i < n_tok; ++i) k.quantize_act(x.data() + i * n_in, act.data() + i * ar, n_in);
  y.assign(n_tok * n_out, 0);
  for (int64_t i = 0; i < n_tok; ++i)
    for (int64_t r = 0; r < n_out; ++r) y[i * n_out + r] = k.vec_dot(n_in, wq.data() + r * wr, act.data() + i * ar);
}

// The level under test is made the active one (matmul dispatches through it).
class MatmulLevels : public test::LevelTest {
 protected:
  void SetUp() override { set_isa(GetParam()); }
  void TearDown() override { set_isa(startup_isa()); }
};

TEST(Matmul, MatchesReferenceForEveryType) {
  const DType types[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q8_0, DType::Q4_0, DType::Q4_1, DType::Q5_0,
                         DType::Q5_1, DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K};
  ThreadPool pool(3);
  for (DType t : types) {
    for (int64_t n_tok : {1, 3, 4, 5, 9}) {
      const int64_t n_in = type_traits(t).block_size == 256 ? 512 : 96, n_out = 37;
      SCOPED_TRACE(std::string(dtype_name(t)) + " tokens " + std::to_string(n_tok));
      const auto wf = randv(n_in * n_out, 1 + n_tok);
      std::vector<uint8_t> wq(row_bytes(t, n_in) * n_out);
      for (int64_t r = 0; r < n_out; ++r) quantize_row(t, wf.data() + r * n_in, wq.data() + r * row_bytes(t, n_in), n_in);
      const auto x = randv(n_in * n_tok, 100 + n_tok);
      std::vector<float> want;
      reference(t, wq, n_in, n_out, x, n_tok, want);
      WeightRef w{t, wq.data(), n_in, n_out, row_bytes(t, n_in)};
      MatmulScratch scratch;
      std::vector<float> got(n_tok * n_out);
      for (Isa isa : available_isas()) {
        set_isa(isa);
        matmul(w, x.data(), n_tok, got.data(), scratch, pool);
        for (size_t i = 0; i < got.size(); ++i)
          ASSERT_NEAR(got[i], want[i], 1e-4 * (1 + std::fabs(want[i]))) << "index " << i << " " << isa_name(isa);
      }
      set_isa(startup_isa());
    }
  }
}

TEST_P(MatmulLevels, RepackedWeightsMatchReference) {
  ThreadPool pool(2);
  int n_repacked = 0;
  for (DType t : {DType::Q8_0, DType::Q4_0, DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K}) {
    const bool k = type_traits(t).block_size == 256;
    const int64_t n_in = k ? 768 : 160, n_out = 40;
    const auto wf = randv(n_in * n_out, 7);
    std::vector<uint8_t> wq(row_bytes(t, n_in) * n_out);
    for (int64_t r = 0; r < n_out; ++r) quantize_row(t, wf.data() + r * n_in, wq.data() + r * row_bytes(t, n_in), n_in);
    WeightRef w{t, wq.data(), n_in, n_out, row_bytes(t, n_in)};
    if (!can_repack(w)) continue;  // no repacked kernels for this type at this level
    ++n_repacked;
    AlignedBuffer<uint8_t> storage;
    repack_weight(w, storage, pool);
    ASSERT_NE(w.packed, nullptr);
    for (int64_t n_tok : {1, 2, 3, 4, 5, 9}) {
      SCOPED_TRACE(std::string(dtype_name(t)) + " tokens " + std::to_string(n_tok));
      const auto x = randv(n_in * n_tok, 200 + n_tok);
      std::vector<float> want, got(n_tok * n_out);
      reference(t, wq, n_in, n_out, x, n_tok, want);
      MatmulScratch scratch;
      matmul(w, x.data(), n_tok, got.data(), scratch, pool);
      for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], 1e-4 * (1 + std::fabs(want[i]))) << i;
      // Through matmul_multi with a non-repacked job sharing the same input.
      WeightRef plain = w;
      plain.packed = nullptr;
      std::vector<float> got2(n_tok * n_out);
      const MatmulJob jobs[2] = {{w, x.data(), got.data()}, {plain, x.data(), got2.data()}};
      matmul_multi(jobs, 2, n_tok, scratch, pool);
      for (size_t i = 0; i < got.size(); ++i) {
        ASSERT_NEAR(got[i], want[i], 1e-4 * (1 + std::fabs(want[i]))) << i;
        ASSERT_NEAR(got2[i], want[i], 1e-4 * (1 + std::fabs(want[i]))) << i;
      }
    }
  }
  // Every x86 level repacks Q8_0 and the K-quants Q2_K..Q6_K (AVX2 and up); AVX512-VNNI also Q4_0.
  const int expected = GetParam() == Isa::Avx512Vnni                          ? 7
                       : GetParam() == Isa::Avx2 || GetParam() == Isa::AvxVnni ? 6
                                                                               : -1;
  if (expected >= 0) {
    EXPECT_EQ(n_repacked, expected);
  }
}

// The server batches tokens of different sequences: a row's result must be bit-identical
// whatever tile (16 or 8 rows) and token count computed it.
TEST_P(MatmulLevels, RepackedTilesAreBitIdentical) {
  ThreadPool pool(2);
  for (DType t : {DType::Q8_0, DType::Q4_0, DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K}) {
    const int64_t n_in = 512, n_out = 56;  // 3 chunks of 16 + one of 8 rows
    const auto wf = randv(n_in * n_out, 11);
    std::vector<uint8_t> wq(row_bytes(t, n_in) * n_out);
    for (int64_t r = 0; r < n_out; ++r) quantize_row(t, wf.data() + r * n_in, wq.data() + r * row_bytes(t, n_in), n_in);
    WeightRef w{t, wq.data(), n_in, n_out, row_bytes(t, n_in)};
    if (!can_repack(w)) continue;  // no repacked kernels for this type at this level
    AlignedBuffer<uint8_t> storage;
    repack_weight(w, storage, pool);
    SCOPED_TRACE(dtype_name(t));
    const PackedFormat f = packed_format(table(), t);
    const int64_t nb = n_in / f.block;
    // Kernel level: one 16-row call == two 8-row calls, for every token count.
    const int64_t n_tok = 4;
    const auto x = randv(n_in * n_tok, 300);
    const DType act_type = ref().types[static_cast<int>(t)].act_type;
    const size_t ar = row_bytes(act_type, n_in);
    std::vector<uint8_t> act(ar * n_tok);
    std::vector<int32_t> asum(nb * n_tok);
    for (int64_t i = 0; i < n_tok; ++i) {
      ref().types[static_cast<int>(t)].quantize_act(x.data() + i * n_in, act.data() + i * ar, n_in);
      if (f.block_sums) table().q8_0_block_sums(act.data() + i * ar, nb, asum.data() + i * nb);
    }
    const size_t group_bytes = f.group_block * static_cast<size_t>(nb);
    const auto k8 = f.k8;
    const auto k16 = f.k16;
    for (int nt = 1; nt <= 4 && k16; ++nt) {
      float y16[4 * 16], y8[4 * 16];
      k16(nb, w.packed + 2 * group_bytes, act.data(), ar, asum.data(), nt, y16, 16);
      k8(nb, w.packed + 2 * group_bytes, act.data(), ar, asum.data(), nt, y8, 16);
      k8(nb, w.packed + 3 * group_bytes, act.data(), ar, asum.data(), nt, y8 + 8, 16);
      for (int i = 0; i < nt * 16; ++i) ASSERT_EQ(y16[i], y8[i]) << "tokens " << nt << " lane " << i;
    }
    // Q8_0 and the K-quants: the AVX2 kernel (vpmaddubsw) and this level's give the same bits, so
    // a model's logits do not depend on which x86 level ran it.
    if (GetParam() != Isa::Avx2 &&
        packed_format(kernels_for(Isa::Avx2), t).k8 != nullptr) {
      const auto k8_avx2 = packed_format(kernels_for(Isa::Avx2), t).k8;
      for (int nt = 1; nt <= 4; ++nt) {
        float ya[4 * 8], yb[4 * 8];
        k8(nb, w.packed, act.data(), ar, asum.data(), nt, ya, 8);
        k8_avx2(nb, w.packed, act.data(), ar, asum.data(), nt, yb, 8);
        for (int i = 0; i < nt * 8; ++i) ASSERT_EQ(ya[i], yb[i]) << "tokens " << nt << " lane " << i;
      }
    }
    // Through matmul: token i alone == token i inside a batch of 9.
    const int64_t n_big = 9;
    const auto xb = randv(n_in * n_big, 301);
    std::vector<float> big(n_big * n_out), one(n_out);
    MatmulScratch scratch;
    matmul(w, xb.data(), n_big, big.data(), scratch, pool);
    for (int64_t i = 0; i < n_big; ++i) {
      matmul(w, xb.data() + i * n_in, 1, one.data(), scratch, pool);
      for (int64_t r = 0; r < n_out; ++r) ASSERT_EQ(one[r], big[i * n_out + r]) << "token " << i << " row " << r;
    }
  }
}

TEST_P(MatmulLevels, GemmTilesMatchRowDotsAtManyLengths) {
  int n_tiles = 0;
  for (int ti = 0; ti < kMaxDType; ++ti) {
    const DType t = static_cast<DType>(ti);
    const GemmTileFn fn = table().types[ti].gemm_tile;
    if (!fn) continue;
    ++n_tiles;
    const TypeKernels& ref = type_kernels(kernels_for(Isa::Ref), t);
    for (int64_t nb : {1, 2, 3, 7, 18, 65}) {
      // Float types take any length: exercise the scalar tail too.
      const int64_t bs = type_traits(t).block_size;
      const int64_t n = bs == 256 ? nb * 256 : nb * 32 + (bs == 1 ? nb % 7 : 0);
      const auto wf = randv(n * kGemmRows, static_cast<uint32_t>(nb));
      const auto x = randv(n * kGemmTokens, static_cast<uint32_t>(nb + 50));
      const size_t wr = row_bytes(t, n), ar = row_bytes(ref.act_type, n);
      std::vector<uint8_t> wq(wr * kGemmRows), act(ar * kGemmTokens);
      for (int r = 0; r < kGemmRows; ++r) quantize_row(t, wf.data() + r * n, wq.data() + r * wr, n);
      for (int i = 0; i < kGemmTokens; ++i) ref.quantize_act(x.data() + i * n, act.data() + i * ar, n);
      float y[kGemmTokens * 8];
      fn(n, wq.data(), wr, act.data(), ar, y, 8);
      std::vector<float> wd(n);
      for (int r = 0; r < kGemmRows; ++r) {
        dequantize_row(t, wq.data() + r * wr, wd.data(), n);
        for (int i = 0; i < kGemmTokens; ++i) {
          // Rounding differences scale with sum |w x| (the dot itself may cancel to ~0).
          double mag = 1;
          for (int64_t e = 0; e < n; ++e) mag += std::fabs(wd[e] * x[i * n + e]);
          const float want = ref.vec_dot(n, wq.data() + r * wr, act.data() + i * ar);
          EXPECT_NEAR(y[i * 8 + r], want, 1e-5 * mag) << dtype_name(t) << " blocks " << nb;
        }
      }
    }
  }
  std::printf("%s: %d weight types with 2x4 tiles\n", isa_name(GetParam()), n_tiles);
}

POCKET_INSTANTIATE_LEVELS(MatmulLevels);

}  // namespace
}  // namespace pocket::kernels
