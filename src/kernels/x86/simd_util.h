// Small AVX2 helpers shared by the x86 kernel files (each compiled with AVX2 flags): the
// horizontal sums the row/tile kernels and the float ops end with, the signed-int8 unpacking of the
// 32-element Q8_0 / Q4_0 blocks used by the matrix-product tiles, and the activation dword load
// of the repacked tiles.
#pragma once

#include <immintrin.h>

#include "quant/blocks.h"

namespace pocket::kernels::x86 {
// Internal linkage on purpose: these files are compiled with different ISA flags (AVX2 vs
// AVX-512), and a shared inline definition could let the linker hand an AVX-512 copy to an
// AVX2-only caller.
namespace {

// Sum of the 8 lanes; the order (halves, then pairs) is fixed so every kernel rounds alike.
inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// The other fixed order (movehdup pairs first), used by x86/ops_avx2.cpp's norms and f16/f32
// dot products. The prefill attention tiles (attention_tile_avx2.cpp) must reduce exactly as
// decode's dot_f16 does, so both files take this one.
inline float hsum_ops(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v);
  __m128 hi = _mm256_extractf128_ps(v, 1);
  lo = _mm_add_ps(lo, hi);
  __m128 sh = _mm_movehdup_ps(lo);
  lo = _mm_add_ps(lo, sh);
  sh = _mm_movehl_ps(sh, lo);
  lo = _mm_add_ss(lo, sh);
  return _mm_cvtss_f32(lo);
}

// Block quants as 32 signed bytes in element order.
struct LoadQ8_0 {
  using Block = BlockQ8_0;
  static __m256i load(const Block& b) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs)); }
};

struct LoadQ4_0 {
  using Block = BlockQ4_0;
  // Nibbles -> values in [-8, 7]; low nibbles are elements 0..15 (low lane), high 16..31.
  static __m256i load(const Block& b) {
    const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qs));
    const __m256i both = _mm256_set_m128i(_mm_srli_epi16(raw, 4), raw);
    return _mm256_sub_epi8(_mm256_and_si256(both, _mm256_set1_epi8(0x0F)), _mm256_set1_epi8(8));
  }
};

// 4 activation quants as one int32, for a broadcast (an unaligned load: a block's quants sit
// at offset 2 or 4; memcpy keeps it defined and compiles to one mov).
inline int32_t chunk4(const int8_t* p) {
  int32_t v;
  __builtin_memcpy(&v, p, 4);
  return v;
}

}  // namespace
}  // namespace pocket::kernels::x86
