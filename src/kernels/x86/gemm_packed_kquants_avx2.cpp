// Repacked Q4_K / Q5_K / Q6_K kernels at the AVX2 level: the byte dot product is vpmaddubsw (u8 x s8
// pairs to int16, which never saturates for these quants) then vpmaddwd with ones.
#include <immintrin.h>

#include <cstring>
#include <type_traits>

#include "kernels/repack.h"
#include "kernels/x86/gemm_packed_kquants.h"
#include "kernels/x86/simd_util.h"
#include "quant/blocks.h"

namespace pocket::kernels::avx2 {

namespace {
struct MaddDot {
  static constexpr bool kMaddubs = true;
  static __m256i dot(__m256i s, __m256i w, __m256i a) {
    return _mm256_add_epi32(s, _mm256_madd_epi16(_mm256_maddubs_epi16(w, a), _mm256_set1_epi16(1)));
  }
};
}  // namespace

#include "kernels/x86/packed_kquants.inc"

const PackedKQuantTiles kPackedKQuantTiles = tiles<Ymm8<MaddDot>>();

}  // namespace pocket::kernels::avx2
