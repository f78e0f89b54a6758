// Repacked Q4_K / Q5_K / Q6_K kernels at the AVX2 level: the byte dot product is vpmaddubsw (u8 x s8
// pairs to int16, which never saturates for these quants) then vpmaddwd with ones.
#include <immintrin.h>

#include <cstring>
#include <type_traits>

#include "kernels/repack.h"
#include "kernels/x86/gemm_packed_kquants.h"
#include "quant/blocks.h"

namespace pocket::kernels::avx2 {

namespace {
struct MaddDot {
  static __m256i dot(__m256i s, __m256i w, __m256i a) {
    return _mm256_add_epi32(s, _mm256_madd_epi16(_mm256_maddubs_epi16(w, a), _mm256_set1_epi16(1)));
  }
};
}  // namespace

#include "kernels/x86/packed_kquants.inc"

void packed_q4_k_8xT(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_stride, const int32_t*,
                     int n_tok, float* y, int64_t y_stride) {
  run_packed<Ymm8<MaddDot>, RepackedQ4K, Q4K>(nb, group, act, act_stride, n_tok, y, y_stride);
}

void packed_q5_k_8xT(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_stride, const int32_t*,
                     int n_tok, float* y, int64_t y_stride) {
  run_packed<Ymm8<MaddDot>, RepackedQ5K, Q5K>(nb, group, act, act_stride, n_tok, y, y_stride);
}

void packed_q6_k_8xT(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_stride, const int32_t*,
                     int n_tok, float* y, int64_t y_stride) {
  run_packed<Ymm8<MaddDot>, RepackedQ6K, Q6K>(nb, group, act, act_stride, n_tok, y, y_stride);
}

}  // namespace pocket::kernels::avx2
