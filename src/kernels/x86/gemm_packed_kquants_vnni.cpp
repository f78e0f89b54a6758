// Repacked Q4_K / Q5_K / Q6_K kernels at the AVX512-VNNI level: vpdpbusd on 8 rows (ymm, decode
// streams one group) and on 16 rows (zmm over two groups: each broadcast activation chunk
// feeds twice the rows, which bounds prefill).
#include <immintrin.h>

#include <cstring>
#include <type_traits>

// GCC 12 reports its own _mm512 intrinsics as maybe-uninitialized (see gemm_packed_vnni.cpp).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "kernels/repack.h"
#include "kernels/x86/gemm_packed_kquants.h"
#include "kernels/x86/simd_util.h"
#include "quant/blocks.h"

namespace pocket::kernels::vnni {

namespace {
struct DpbusdDot {
  static constexpr bool kMaddubs = false;
  static __m256i dot(__m256i s, __m256i w, __m256i a) { return _mm256_dpbusd_epi32(s, w, a); }
};

// Two groups: the low 8 lanes from the block at p, the high 8 from the block `next` bytes on.
struct Zmm16 {
  using I = __m512i;
  using F = __m512;
  static constexpr bool kMaddubs = false;
  static __m128i lo8x2(const void* p, size_t next) {
    const auto* b = static_cast<const uint8_t*>(p);
    return _mm_unpacklo_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(b)),
                              _mm_loadl_epi64(reinterpret_cast<const __m128i*>(b + next)));
  }
  static __m256i x16x2(const void* p, size_t next) {
    const auto* b = static_cast<const uint8_t*>(p);
    return _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b))),
                                   _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + next)), 1);
  }
  static I w(const uint8_t* p, size_t next) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))),
                              _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + next)), 1);
  }
  static I u8_i32(const uint8_t* p, size_t next) { return _mm512_cvtepu8_epi32(lo8x2(p, next)); }
  static I i8_i32(const int8_t* p, size_t next) { return _mm512_cvtepi8_epi32(lo8x2(p, next)); }
  static I u8_i16(const uint8_t* p, size_t next) { return _mm512_cvtepu8_epi16(x16x2(p, next)); }
  static F f16(const uint16_t* p, size_t next) { return _mm512_cvtph_ps(x16x2(p, next)); }
  static I dot(I s, I w, int32_t a) { return _mm512_dpbusd_epi32(s, w, _mm512_set1_epi32(a)); }
  static I zero() { return _mm512_setzero_si512(); }
  static I set1(int32_t v) { return _mm512_set1_epi32(v); }
  static I set1_8(char v) { return _mm512_set1_epi8(v); }
  static I add(I a, I b) { return _mm512_add_epi32(a, b); }
  static I mullo(I a, I b) { return _mm512_mullo_epi32(a, b); }
  static I madd16(I a, I b) { return _mm512_madd_epi16(a, b); }
  static I and_(I a, I b) { return _mm512_and_si512(a, b); }
  static I or_(I a, I b) { return _mm512_or_si512(a, b); }
  static I srli16(I a, int n) { return _mm512_srli_epi16(a, static_cast<unsigned>(n)); }
  static I slli16(I a, int n) { return _mm512_slli_epi16(a, static_cast<unsigned>(n)); }
  static I srli32(I a, int n) { return _mm512_srli_epi32(a, static_cast<unsigned>(n)); }
  static F zerof() { return _mm512_setzero_ps(); }
  static F set1f(float v) { return _mm512_set1_ps(v); }
  static F cvt(I a) { return _mm512_cvtepi32_ps(a); }
  static F mul(F a, F b) { return _mm512_mul_ps(a, b); }
  static F sub(F a, F b) { return _mm512_sub_ps(a, b); }
  static F fmadd(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }
  static void store(float* y, F v) { _mm512_storeu_ps(y, v); }
};
}  // namespace

#include "kernels/x86/packed_kquants.inc"

const PackedKQuantTiles kPackedKQuantTiles = tiles<Ymm8<DpbusdDot>, Zmm16>();

}  // namespace pocket::kernels::vnni
