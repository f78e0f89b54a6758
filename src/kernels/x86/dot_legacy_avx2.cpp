// AVX2 + FMA + F16C dot products for F32/F16/BF16 and the 32-element block formats, and
// the Q8_0/Q8_1 activation quantizers. These are the decode hot path: one weight row
// streamed from memory against an activation row that stays in L1. Q4_0/Q5_x are
// compute-bound on one core even so (a Q4_0 block is 18 bytes), so the per-block vector
// work is trimmed: nibbles unpacked by one variable shift, the -8/-16 offsets applied
// through a second maddubs instead of the sign trick, and the float side (scale
// conversion, int->float, FMA) done once per four blocks. Measured on a Zen 4 core, 4096-
// element rows in L1: Q4_0 ~1.05 ns/block vs ~1.47 for a one-block-per-iteration
// ggml-style loop; Q8_0 ~0.98 vs ~1.11.
// Same contracts as kernels/ref/dot_ref.h; the block math follows llama.cpp
// ggml/src/ggml-cpu/arch/x86/quants.c (maddubs + madd per block, scaled by the product of
// the two fp16 scales).
#include <immintrin.h>

#include <cstring>

#include "kernels/x86/dot_avx2.h"
#include "kernels/x86/simd_util.h"
#include "quant/blocks.h"

namespace pocket::kernels::avx2 {

namespace {

using x86::hsum;

inline int hsum_i32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(s);
}

inline float h2f(uint16_t h) { return _cvtsh_ss(h); }

// 16 bytes of packed nibbles -> 32 bytes in [0, 15]: low nibbles are elements 0..15 and
// go to the low 128-bit lane, high nibbles (16..31) to the high lane, matching the
// activation block's element order. Broadcasting the 16 bytes to both lanes is a pure
// load, and one per-lane variable shift (0 bits low, 4 bits high) replaces the usual
// shift + lane insert.
inline __m256i unpack_nibbles(const uint8_t* p) {
  const __m256i both = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  const __m256i shifted = _mm256_srlv_epi64(both, _mm256_set_epi64x(4, 4, 0, 0));
  return _mm256_and_si256(shifted, _mm256_set1_epi8(0x0F));
}

// qh (32 bits, bit j = fifth bit of element j) -> 32 bytes, 0xFF where the bit is set.
inline __m256i fifth_bit_mask(const uint8_t* qh) {
  // The 4 bytes are broadcast to every 32-bit lane (compilers fold the memcpy into a
  // vpbroadcastd from memory; _mm256_broadcast_ss on a uint8_t* would be a misaligned,
  // type-punned load). Byte j of the result then takes source byte j / 8 (an in-lane
  // shuffle works because every lane holds all 4 bytes), and every bit except j % 8 is
  // forced on, so the byte is all ones exactly when bit j % 8 was set.
  int32_t bits;
  std::memcpy(&bits, qh, 4);
  const __m256i all = _mm256_set1_epi32(bits);
  const __m256i spread =
      _mm256_shuffle_epi8(all, _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0));
  const __m256i probe = _mm256_or_si256(spread, _mm256_set1_epi64x(0x7FBFDFEFF7FBFDFE));
  return _mm256_cmpeq_epi8(probe, _mm256_set1_epi8(-1));
}

// Sum over pairs of u8 * i8 into 16 i16 lanes, then 8 i32 lanes. maddubs saturates at
// +-32767; callers keep |u| <= 31, or |u| <= 128 with |i| <= 127, so a pair sum stays
// below 2 * 128 * 127 = 32512.
inline __m256i madd_i32(__m256i p16) { return _mm256_madd_epi16(p16, _mm256_set1_epi16(1)); }

// Sum_j (u_j - off_j) * y_j for u, off in [0, 16]: maddubs(u, y) - maddubs(off, y) in i16
// (|u y pair| <= 2 * 15 * 127 and |off y pair| <= 2 * 16 * 127 fit), which costs one op
// less than making the weights signed and using the sign trick.
inline __m256i offset_dot(__m256i u, __m256i y, __m256i off) {
  return madd_i32(_mm256_sub_epi16(_mm256_maddubs_epi16(u, y), _mm256_maddubs_epi16(off, y)));
}

// Signed i8 * i8 via |a| * (y signed like a). Needs y != -128 wherever a < 0 (the Q8
// quantizers only produce [-127, 127]); a = -128 is fine (|a| is read as unsigned 128).
inline __m256i signed_dot(__m256i a, __m256i y) {
  return madd_i32(_mm256_maddubs_epi16(_mm256_sign_epi8(a, a), _mm256_sign_epi8(y, a)));
}

inline __m256i load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

}  // namespace

// ---- plain types ------------------------------------------------------------------------
// Four independent accumulators hide the FMA latency; the last n % 8 elements go scalar.

float vec_dot_f32_f32(int64_t n, const void* w, const void* x) {
  const auto* a = static_cast<const float*>(w);
  const auto* b = static_cast<const float*>(x);
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  __m256 acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
    acc2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), acc2);
    acc3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), acc3);
  }
  for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
  float sum = hsum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

float vec_dot_f16_f32(int64_t n, const void* w, const void* x) {
  const auto* a = static_cast<const uint16_t*>(w);
  const auto* b = static_cast<const float*>(x);
  auto load_h = [a](int64_t i) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i))); };
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  __m256 acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    acc0 = _mm256_fmadd_ps(load_h(i), _mm256_loadu_ps(b + i), acc0);
    acc1 = _mm256_fmadd_ps(load_h(i + 8), _mm256_loadu_ps(b + i + 8), acc1);
    acc2 = _mm256_fmadd_ps(load_h(i + 16), _mm256_loadu_ps(b + i + 16), acc2);
    acc3 = _mm256_fmadd_ps(load_h(i + 24), _mm256_loadu_ps(b + i + 24), acc3);
  }
  for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(load_h(i), _mm256_loadu_ps(b + i), acc0);
  float sum = hsum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
  for (; i < n; ++i) sum += h2f(a[i]) * b[i];
  return sum;
}

// bf16 is the top half of an f32: widen to 32 bits and shift into place.
float vec_dot_bf16_f32(int64_t n, const void* w, const void* x) {
  const auto* a = static_cast<const uint16_t*>(w);
  const auto* b = static_cast<const float*>(x);
  auto load_bf = [a](int64_t i) {
    const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
  };
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  __m256 acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    acc0 = _mm256_fmadd_ps(load_bf(i), _mm256_loadu_ps(b + i), acc0);
    acc1 = _mm256_fmadd_ps(load_bf(i + 8), _mm256_loadu_ps(b + i + 8), acc1);
    acc2 = _mm256_fmadd_ps(load_bf(i + 16), _mm256_loadu_ps(b + i + 16), acc2);
    acc3 = _mm256_fmadd_ps(load_bf(i + 24), _mm256_loadu_ps(b + i + 24), acc3);
  }
  for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(load_bf(i), _mm256_loadu_ps(b + i), acc0);
  float sum = hsum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
  for (; i < n; ++i) {
    uint32_t u = static_cast<uint32_t>(a[i]) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    sum += f * b[i];
  }
  return sum;
}

// ---- block formats ----------------------------------------------------------------------
// Each kernel supplies the per-block integer dot as 8 i32 lane sums; the driver does the
// float side four blocks at a time:
//  - the four blocks' fp16 scales are packed into one register with scalar loads and
//    converted by a single vcvtph2ps (instead of two conversions and a broadcast per block);
//  - three hadds fold the four 8-lane sums into one register holding each block's two
//    half sums, [b0 b1 b2 b3 | b0 b1 b2 b3], so one int->float conversion and one FMA
//    against [d0 d1 d2 d3 | d0 d1 d2 d3] serve all four blocks.
// For the _1 formats the fp16 m_w and s_x sit right after the d's, so (d, m) and (d, s)
// pairs convert together and the m_w * s_x products accumulate in the odd lanes of a
// second register. Blocks past the last multiple of four run one at a time.

namespace {

inline uint64_t load_u16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}
inline uint64_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Keeps a value in a general register: GCC's SLP vectorizer otherwise rebuilds the scalar
// packing below out of several vector shuffles, which costs more than it saves.
inline uint64_t in_gpr(uint64_t v) {
#if defined(__GNUC__)
  asm("" : "+r"(v));
#endif
  return v;
}

// The fp16 at the start of 4 consecutive blocks of kStride bytes, packed block k -> bits 16k.
template <size_t kStride>
inline int64_t first_halves4(const uint8_t* p) {
  const uint64_t lo = in_gpr(load_u16(p) | load_u16(p + kStride) << 16);
  const uint64_t hi = in_gpr(load_u16(p + 2 * kStride) | load_u16(p + 3 * kStride) << 16);
  return static_cast<int64_t>(in_gpr(lo | hi << 32));
}

// The two fp16s at the start of 2 consecutive blocks, packed as d0 m0 d1 m1.
template <size_t kStride>
inline int64_t first_pairs2(const uint8_t* p) {
  return static_cast<int64_t>(in_gpr(load_u32(p) | load_u32(p + kStride) << 32));
}

template <typename WBlock, typename XBlock, bool kHasMin, typename Dot>
inline float drive_blocks(const void* w, const void* x, int64_t nb, Dot dot) {
  constexpr size_t kW = sizeof(WBlock), kX = sizeof(XBlock);
  const auto* wp = static_cast<const uint8_t*>(w);
  const auto* xp = static_cast<const uint8_t*>(x);
  __m256 acc = _mm256_setzero_ps(), acc_min = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 4 <= nb; i += 4) {
    const uint8_t* w4 = wp + i * kW;
    const uint8_t* x4 = xp + i * kX;
    __m256 d;  // [d0 d1 d2 d3 | d0 d1 d2 d3], d_k = d_w * d_x of block i + k
    if constexpr (kHasMin) {
      const __m256 fw = _mm256_cvtph_ps(_mm_set_epi64x(first_pairs2<kW>(w4 + 2 * kW), first_pairs2<kW>(w4)));
      const __m256 fx = _mm256_cvtph_ps(_mm_set_epi64x(first_pairs2<kX>(x4 + 2 * kX), first_pairs2<kX>(x4)));
      const __m256 prod = _mm256_mul_ps(fw, fx);  // d0 ms0 d1 ms1 d2 ms2 d3 ms3
      acc_min = _mm256_add_ps(acc_min, prod);
      d = _mm256_permutevar8x32_ps(prod, _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6));
    } else {
      const __m256 f = _mm256_cvtph_ps(_mm_set_epi64x(first_halves4<kX>(x4), first_halves4<kW>(w4)));
      const __m128 d4 = _mm_mul_ps(_mm256_castps256_ps128(f), _mm256_extractf128_ps(f, 1));
      d = _mm256_set_m128(d4, d4);
    }
    const __m256i s01 = _mm256_hadd_epi32(dot(i), dot(i + 1));
    const __m256i s23 = _mm256_hadd_epi32(dot(i + 2), dot(i + 3));
    acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(_mm256_hadd_epi32(s01, s23)), acc);
  }
  float tail_min = 0.0f;
  for (; i < nb; ++i) {
    const uint8_t* wb = wp + i * kW;
    const uint8_t* xb = xp + i * kX;
    const float d = h2f(static_cast<uint16_t>(load_u16(wb))) * h2f(static_cast<uint16_t>(load_u16(xb)));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(dot(i)), acc);
    if constexpr (kHasMin) {
      tail_min += h2f(static_cast<uint16_t>(load_u16(wb + 2))) * h2f(static_cast<uint16_t>(load_u16(xb + 2)));
    }
  }
  float sum = hsum(acc);
  if constexpr (kHasMin) sum += hsum(_mm256_blend_ps(_mm256_setzero_ps(), acc_min, 0xAA)) + tail_min;
  return sum;
}

}  // namespace

float vec_dot_q8_0_q8_0(int64_t n, const void* w, const void* x) {
  const auto* bw = static_cast<const BlockQ8_0*>(w);
  const auto* bx = static_cast<const BlockQ8_0*>(x);
  return drive_blocks<BlockQ8_0, BlockQ8_0, false>(
      w, x, n / QK8_0, [&](int64_t i) { return signed_dot(load256(bw[i].qs), load256(bx[i].qs)); });
}

float vec_dot_q4_0_q8_0(int64_t n, const void* w, const void* x) {
  const auto* bw = static_cast<const BlockQ4_0*>(w);
  const auto* bx = static_cast<const BlockQ8_0*>(x);
  const __m256i off = _mm256_set1_epi8(8);
  return drive_blocks<BlockQ4_0, BlockQ8_0, false>(w, x, n / QK8_0, [&](int64_t i) {
    return offset_dot(unpack_nibbles(bw[i].qs), load256(bx[i].qs), off);
  });
}

float vec_dot_q5_0_q8_0(int64_t n, const void* w, const void* x) {
  const auto* bw = static_cast<const BlockQ5_0*>(w);
  const auto* bx = static_cast<const BlockQ8_0*>(x);
  const __m256i sixteen = _mm256_set1_epi8(16);
  // q - 16 = nibble - (16 where the fifth bit is clear): the offset_dot form with a
  // per-element offset, which saves merging the bit into the nibbles.
  return drive_blocks<BlockQ5_0, BlockQ8_0, false>(w, x, n / QK8_0, [&](int64_t i) {
    const __m256i off = _mm256_andnot_si256(fifth_bit_mask(bw[i].qh), sixteen);
    return offset_dot(unpack_nibbles(bw[i].qs), load256(bx[i].qs), off);
  });
}

float vec_dot_q4_1_q8_1(int64_t n, const void* w, const void* x) {
  const auto* bw = static_cast<const BlockQ4_1*>(w);
  const auto* bx = static_cast<const BlockQ8_1*>(x);
  return drive_blocks<BlockQ4_1, BlockQ8_1, true>(w, x, n / QK8_1, [&](int64_t i) {
    return madd_i32(_mm256_maddubs_epi16(unpack_nibbles(bw[i].qs), load256(bx[i].qs)));
  });
}

float vec_dot_q5_1_q8_1(int64_t n, const void* w, const void* x) {
  const auto* bw = static_cast<const BlockQ5_1*>(w);
  const auto* bx = static_cast<const BlockQ8_1*>(x);
  const __m256i sixteen = _mm256_set1_epi8(16);
  return drive_blocks<BlockQ5_1, BlockQ8_1, true>(w, x, n / QK8_1, [&](int64_t i) {
    const __m256i u = _mm256_or_si256(unpack_nibbles(bw[i].qs), _mm256_and_si256(fifth_bit_mask(bw[i].qh), sixteen));
    return madd_i32(_mm256_maddubs_epi16(u, load256(bx[i].qs)));
  });
}

// ---- activation quantizers --------------------------------------------------------------
// Bit-identical to quant::quantize_row_q8_0/_q8_1 (ggml's _ref), ties included: the scale
// and its inverse are computed in scalar exactly as there (id = 1 / (amax / 127), not
// 127 / amax as ggml's AVX2 path does), and rounding is roundf's half-away-from-zero, built
// from trunc(v) plus a +-1 step where |v - trunc(v)| >= 0.5 (v - trunc(v) is exact). The
// extra few ops per 8 values are negligible: the activation row is quantized once per
// matrix-vector product, not once per weight row.

namespace {

struct Q8Block {
  float d;        // unrounded scale
  __m256i q;      // 32 int8, in element order
  __m256i sum32;  // 8 partial sums of q (for Q8_1)
};

inline __m256 round_half_away(__m256 v) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m256 frac = _mm256_andnot_ps(sign, _mm256_sub_ps(v, t));
  const __m256 step = _mm256_or_ps(_mm256_and_ps(v, sign), _mm256_set1_ps(1.0f));  // +-1 like v
  const __m256 need = _mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ);
  return _mm256_add_ps(t, _mm256_and_ps(need, step));
}

inline Q8Block quantize_q8_block(const float* x) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 v[4];
  for (int k = 0; k < 4; ++k) v[k] = _mm256_loadu_ps(x + 8 * k);
  __m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(sign, v[0]), _mm256_andnot_ps(sign, v[1])),
                           _mm256_max_ps(_mm256_andnot_ps(sign, v[2]), _mm256_andnot_ps(sign, v[3])));
  __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
  m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
  m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
  const float amax = _mm_cvtss_f32(m4);
  const float d = amax / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  const __m256 mul = _mm256_set1_ps(id);
  __m256i q32[4];
  for (int k = 0; k < 4; ++k) q32[k] = _mm256_cvttps_epi32(round_half_away(_mm256_mul_ps(v[k], mul)));
  Q8Block b;
  b.d = d;
  b.sum32 = _mm256_add_epi32(_mm256_add_epi32(q32[0], q32[1]), _mm256_add_epi32(q32[2], q32[3]));
  // packs works per 128-bit lane, leaving 4-element groups in the order 0 2 4 6 1 3 5 7;
  // one cross-lane permute restores 0..7.
  const __m256i p16a = _mm256_packs_epi32(q32[0], q32[1]);
  const __m256i p16b = _mm256_packs_epi32(q32[2], q32[3]);
  b.q = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(p16a, p16b), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  return b;
}

inline uint16_t f2h(float f) { return static_cast<uint16_t>(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT)); }

}  // namespace

void quantize_row_q8_0(const float* src, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ8_0*>(dst);
  for (int64_t i = 0; i < n / QK8_0; ++i) {
    const Q8Block b = quantize_q8_block(src + i * QK8_0);
    y[i].d = f2h(b.d);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[i].qs), b.q);
  }
}

void quantize_row_q8_1(const float* src, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ8_1*>(dst);
  for (int64_t i = 0; i < n / QK8_1; ++i) {
    const Q8Block b = quantize_q8_block(src + i * QK8_1);
    y[i].d = f2h(b.d);
    y[i].s = f2h(static_cast<float>(hsum_i32(b.sum32)) * b.d);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[i].qs), b.q);
  }
}

}  // namespace pocket::kernels::avx2
