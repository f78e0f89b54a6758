// AVX2 + FMA dot products of K-quant weight rows (Q2_K..Q6_K) with Q8_K activations, and the
// Q8_K activation quantizer. Decode streams each weight row once from memory while the Q8_K row
// stays in L1, so the per-super-block work is kept to: unpack the quants with a few byte ops,
// one maddubs (u8 x i8 -> i16 pairs) per 32 values, one madd with the broadcast sub-block scale
// (i16 -> i32), integer accumulation over the whole 256-value block, and a single FMA with the
// block's float scale. Offsets are never applied per value: a constant offset c (Q3_K's -4,
// Q6_K's -32) or a per-sub-block min (Q2_K, Q4_K, Q5_K) multiplies the activation sum of the
// sub-block, which Q8_K already carries in bsums, so it costs one madd per block.
// Approach after llama.cpp ggml/src/ggml-cpu/arch/x86/quants.c (maddubs/madd and the bsums
// trick); same contracts as kernels/ref/dot_ref.h. maddubs saturates at +-32767; every
// unsigned operand here is <= 63 and |q8| <= 128, so a pair sum stays below 2*63*128 = 16128.
#include <immintrin.h>

#include <cstring>
#include <type_traits>

#include "kernels/x86/dot_avx2.h"
#include "kernels/x86/gemm_avx2.h"
#include "quant/blocks.h"

namespace pocket::kernels::avx2 {

namespace {

inline float hsum_ps(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline float h2f(uint16_t h) { return _cvtsh_ss(h); }

inline __m256i load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// Scales of 16-value sub-blocks as i16 in both halves of a register: lo = [s0..s7 | s0..s7],
// hi = [s8..s15 | s8..s15]. One maddubs over 32 values (group g) yields i16 lanes 0..7 for
// values 0..15 (sub-block 2g) in the low 128 bits and 8..15 (sub-block 2g+1) in the high bits,
// so its madd operand is s[2g] in the low half and s[2g+1] in the high half: an in-lane
// shuffle picking i16 element 2(g%4) resp. 2(g%4)+1.
struct Scales16 {
  __m256i lo, hi;
};

inline Scales16 spread_scales16(__m256i s16) {
  return {_mm256_permute2x128_si256(s16, s16, 0x00), _mm256_permute2x128_si256(s16, s16, 0x11)};
}

alignas(32) constexpr uint8_t kPairShuffle[4][32] = {
    {0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3},
    {4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7},
    {8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11},
    {12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13,
     14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15},
};

template <int G>
inline __m256i group_scale16(const Scales16& s) {
  return _mm256_shuffle_epi8(G < 4 ? s.lo : s.hi, load256(kPairShuffle[G % 4]));
}

// Scales of 32-value sub-blocks (Q4_K, Q5_K): bytes s0..s7 repeated in both 128-bit halves;
// sub-block j's i16 broadcast is a shuffle taking byte j and a zero byte (index with bit 7 set).
alignas(32) constexpr uint8_t kByteToI16[8][32] = {
#define POCKET_K4(j) {j, 0x80, j, 0x80, j, 0x80, j, 0x80, j, 0x80, j, 0x80, j, 0x80, j, 0x80, \
                      j, 0x80, j, 0x80, j, 0x80, j, 0x80, j, 0x80, j, 0x80, j, 0x80, j, 0x80}
    POCKET_K4(0), POCKET_K4(1), POCKET_K4(2), POCKET_K4(3), POCKET_K4(4), POCKET_K4(5), POCKET_K4(6), POCKET_K4(7),
#undef POCKET_K4
};

template <int J>
inline __m256i sub_block_scale32(__m256i scale_bytes) {
  return _mm256_shuffle_epi8(scale_bytes, load256(kByteToI16[J]));
}

// Q4_K/Q5_K 12-byte packing -> 8 six-bit scales (bytes 0..7) and 8 mins (bytes 8..15).
// Sub-blocks 0..3: low 6 bits of bytes 0..3 (scale) and 4..7 (min). Sub-blocks 4..7: low
// nibble from bytes 8..11 (scale low, min high), top two bits from bits 6..7 of bytes 0..3
// (scale) and 4..7 (min). ref: ggml-quants.c get_scale_min_k4.
inline __m128i unpack_scales_mins_k4(const uint8_t* p) {
  uint32_t a[3];
  std::memcpy(a, p, 12);
  const uint32_t sc_lo = a[0] & 0x3f3f3f3fu;
  const uint32_t mn_lo = a[1] & 0x3f3f3f3fu;
  const uint32_t sc_hi = (a[2] & 0x0f0f0f0fu) | ((a[0] >> 2) & 0x30303030u);
  const uint32_t mn_hi = ((a[2] >> 4) & 0x0f0f0f0fu) | ((a[1] >> 2) & 0x30303030u);
  return _mm_set_epi32(static_cast<int>(mn_hi), static_cast<int>(mn_lo), static_cast<int>(sc_hi),
                       static_cast<int>(sc_lo));
}

// sum_k min_k * (bsum[2k] + bsum[2k+1]) as 8 i32 lanes, for 32-value sub-blocks.
inline __m256i mins_times_bsums_k4(__m128i scales_mins, const int16_t* bsums) {
  const __m256i mins_dup = _mm256_cvtepu8_epi16(_mm_unpackhi_epi8(scales_mins, scales_mins));
  return _mm256_madd_epi16(mins_dup, load256(bsums));
}

// Q3_K 12-byte packing -> 16 signed scales. Low nibbles: scales 0..7 in bytes 0..7 (low),
// 8..15 in bytes 0..7 (high nibble); top pairs: scale j at bits 2*(j/4) of byte 8 + j%4.
inline __m128i unpack_scales_q3k(const uint8_t* p) {
  uint32_t a[3];
  std::memcpy(a, p, 12);
  const uint32_t m4 = 0x0f0f0f0fu, m2 = 0x03030303u;
  const uint32_t s0 = (a[0] & m4) | ((a[2] & m2) << 4);
  const uint32_t s1 = (a[1] & m4) | (((a[2] >> 2) & m2) << 4);
  const uint32_t s2 = ((a[0] >> 4) & m4) | (((a[2] >> 4) & m2) << 4);
  const uint32_t s3 = ((a[1] >> 4) & m4) | (((a[2] >> 6) & m2) << 4);
  const __m128i u = _mm_set_epi32(static_cast<int>(s3), static_cast<int>(s2), static_cast<int>(s1),
                                  static_cast<int>(s0));
  return _mm_sub_epi8(u, _mm_set1_epi8(32));
}

// Moves bit B of every byte to bit T (B, T in 0..7), after masking to that bit.
template <int B, int T>
inline __m256i move_bit(__m256i v) {
  const __m256i bit = _mm256_and_si256(v, _mm256_set1_epi8(static_cast<char>(1 << B)));
  if constexpr (B < T) return _mm256_slli_epi16(bit, T - B);
  else if constexpr (B > T) return _mm256_srli_epi16(bit, B - T);
  else return bit;
}

// One 32-value group: (u8 quants) . (i8 activations), weighted by the i16 scale vector.
inline __m256i scaled_dot32(__m256i q, const int8_t* q8, __m256i scale) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(q, load256(q8)), scale);
}

template <int... G>
struct Seq {};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Q2_K: 2-bit quants, 16 sub-blocks of 16 with 4-bit scale (low nibble) and min (high nibble).
// Value 128h + 32k + l is bits 2k..2k+1 of qs[32h + l].
// ---------------------------------------------------------------------------------------------
float vec_dot_q2_k_q8_k(int64_t n, const void* w, const void* xv) {
  const auto* x = static_cast<const BlockQ2_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(xv);
  const __m256i m3 = _mm256_set1_epi8(3);
  const __m128i m15 = _mm_set1_epi8(0xF);
  __m256 acc = _mm256_setzero_ps(), acc_min = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / QK_K; ++i) {
    const float d = y[i].d * h2f(x[i].d);
    const float dmin = -y[i].d * h2f(x[i].dmin);
    const int8_t* q8 = y[i].qs;
    const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[i].scales));
    const __m256i mins16 = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(raw, 4), m15));
    const __m256i msum = _mm256_madd_epi16(mins16, load256(y[i].bsums));
    acc_min = _mm256_fmadd_ps(_mm256_set1_ps(dmin), _mm256_cvtepi32_ps(msum), acc_min);
    const Scales16 sc = spread_scales16(_mm256_cvtepu8_epi16(_mm_and_si128(raw, m15)));

    const __m256i b0 = load256(x[i].qs), b1 = load256(x[i].qs + 32);
    __m256i s0 = scaled_dot32(_mm256_and_si256(b0, m3), q8 + 0, group_scale16<0>(sc));
    __m256i s1 = scaled_dot32(_mm256_and_si256(_mm256_srli_epi16(b0, 2), m3), q8 + 32, group_scale16<1>(sc));
    s0 = _mm256_add_epi32(s0, scaled_dot32(_mm256_and_si256(_mm256_srli_epi16(b0, 4), m3), q8 + 64, group_scale16<2>(sc)));
    s1 = _mm256_add_epi32(s1, scaled_dot32(_mm256_and_si256(_mm256_srli_epi16(b0, 6), m3), q8 + 96, group_scale16<3>(sc)));
    s0 = _mm256_add_epi32(s0, scaled_dot32(_mm256_and_si256(b1, m3), q8 + 128, group_scale16<4>(sc)));
    s1 = _mm256_add_epi32(s1, scaled_dot32(_mm256_and_si256(_mm256_srli_epi16(b1, 2), m3), q8 + 160, group_scale16<5>(sc)));
    s0 = _mm256_add_epi32(s0, scaled_dot32(_mm256_and_si256(_mm256_srli_epi16(b1, 4), m3), q8 + 192, group_scale16<6>(sc)));
    s1 = _mm256_add_epi32(s1, scaled_dot32(_mm256_and_si256(_mm256_srli_epi16(b1, 6), m3), q8 + 224, group_scale16<7>(sc)));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(_mm256_add_epi32(s0, s1)), acc);
  }
  return hsum_ps(_mm256_add_ps(acc, acc_min));
}

// ---------------------------------------------------------------------------------------------
// Q3_K: value = (2 low bits | hmask bit << 2) - 4, 16 signed 6-bit scales. The dot uses the
// unsigned q + 4 in [0, 7] and subtracts 4 * sum_j scale_j * bsum_j once per block.
// The high bit of value e is bit e/32 (= its 32-value group index) of hmask[e % 32].
// ---------------------------------------------------------------------------------------------
namespace {

template <int G>
inline __m256i q3k_group(__m256i low_bits_src, __m256i hmask) {
  constexpr int kShift = 2 * (G % 4);
  __m256i lo = low_bits_src;
  if constexpr (kShift > 0) lo = _mm256_srli_epi16(lo, kShift);
  lo = _mm256_and_si256(lo, _mm256_set1_epi8(3));
  return _mm256_or_si256(lo, move_bit<G, 2>(hmask));
}

}  // namespace

float vec_dot_q3_k_q8_k(int64_t n, const void* w, const void* xv) {
  const auto* x = static_cast<const BlockQ3_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(xv);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / QK_K; ++i) {
    const float d = y[i].d * h2f(x[i].d);
    const int8_t* q8 = y[i].qs;
    const __m256i scales16 = _mm256_cvtepi8_epi16(unpack_scales_q3k(x[i].scales));
    const Scales16 sc = spread_scales16(scales16);
    // 4 * sum_j scale_j * bsum_j, the offset removed from the unsigned products below.
    const __m256i offset = _mm256_slli_epi32(_mm256_madd_epi16(scales16, load256(y[i].bsums)), 2);

    const __m256i hm = load256(x[i].hmask);
    const __m256i b0 = load256(x[i].qs), b1 = load256(x[i].qs + 32);
    __m256i s0 = scaled_dot32(q3k_group<0>(b0, hm), q8 + 0, group_scale16<0>(sc));
    __m256i s1 = scaled_dot32(q3k_group<1>(b0, hm), q8 + 32, group_scale16<1>(sc));
    s0 = _mm256_add_epi32(s0, scaled_dot32(q3k_group<2>(b0, hm), q8 + 64, group_scale16<2>(sc)));
    s1 = _mm256_add_epi32(s1, scaled_dot32(q3k_group<3>(b0, hm), q8 + 96, group_scale16<3>(sc)));
    s0 = _mm256_add_epi32(s0, scaled_dot32(q3k_group<4>(b1, hm), q8 + 128, group_scale16<4>(sc)));
    s1 = _mm256_add_epi32(s1, scaled_dot32(q3k_group<5>(b1, hm), q8 + 160, group_scale16<5>(sc)));
    s0 = _mm256_add_epi32(s0, scaled_dot32(q3k_group<6>(b1, hm), q8 + 192, group_scale16<6>(sc)));
    s1 = _mm256_add_epi32(s1, scaled_dot32(q3k_group<7>(b1, hm), q8 + 224, group_scale16<7>(sc)));
    const __m256i sumi = _mm256_sub_epi32(_mm256_add_epi32(s0, s1), offset);
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
  }
  return hsum_ps(acc);
}

// ---------------------------------------------------------------------------------------------
// Q4_K: 8 sub-blocks of 32 with 6-bit scale and min. 64-value chunk j: low nibbles of
// qs[32j..32j+31] are sub-block 2j, high nibbles sub-block 2j+1.
// ---------------------------------------------------------------------------------------------
float vec_dot_q4_k_q8_k(int64_t n, const void* w, const void* xv) {
  const auto* x = static_cast<const BlockQ4_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(xv);
  const __m256i m15 = _mm256_set1_epi8(0xF);
  __m256 acc = _mm256_setzero_ps(), acc_min = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / QK_K; ++i) {
    const float d = y[i].d * h2f(x[i].d);
    const float dmin = -y[i].d * h2f(x[i].dmin);
    const uint8_t* q4 = x[i].qs;
    const int8_t* q8 = y[i].qs;
    const __m128i sm = unpack_scales_mins_k4(x[i].scales);
    acc_min = _mm256_fmadd_ps(_mm256_set1_ps(dmin), _mm256_cvtepi32_ps(mins_times_bsums_k4(sm, y[i].bsums)), acc_min);
    const __m256i sc = _mm256_broadcastsi128_si256(sm);

    const __m256i b0 = load256(q4), b1 = load256(q4 + 32), b2 = load256(q4 + 64), b3 = load256(q4 + 96);
    __m256i s0 = scaled_dot32(_mm256_and_si256(b0, m15), q8 + 0, sub_block_scale32<0>(sc));
    __m256i s1 = scaled_dot32(_mm256_and_si256(_mm256_srli_epi16(b0, 4), m15), q8 + 32, sub_block_scale32<1>(sc));
    s0 = _mm256_add_epi32(s0, scaled_dot32(_mm256_and_si256(b1, m15), q8 + 64, sub_block_scale32<2>(sc)));
    s1 = _mm256_add_epi32(s1, scaled_dot32(_mm256_and_si256(_mm256_srli_epi16(b1, 4), m15), q8 + 96, sub_block_scale32<3>(sc)));
    s0 = _mm256_add_epi32(s0, scaled_dot32(_mm256_and_si256(b2, m15), q8 + 128, sub_block_scale32<4>(sc)));
    s1 = _mm256_add_epi32(s1, scaled_dot32(_mm256_and_si256(_mm256_srli_epi16(b2, 4), m15), q8 + 160, sub_block_scale32<5>(sc)));
    s0 = _mm256_add_epi32(s0, scaled_dot32(_mm256_and_si256(b3, m15), q8 + 192, sub_block_scale32<6>(sc)));
    s1 = _mm256_add_epi32(s1, scaled_dot32(_mm256_and_si256(_mm256_srli_epi16(b3, 4), m15), q8 + 224, sub_block_scale32<7>(sc)));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(_mm256_add_epi32(s0, s1)), acc);
  }
  return hsum_ps(_mm256_add_ps(acc, acc_min));
}

// ---------------------------------------------------------------------------------------------
// Q5_K: Q4_K plus a fifth bit: bit s of qh[l] for value l of sub-block s.
// ---------------------------------------------------------------------------------------------
namespace {

template <int S>
inline __m256i q5k_sub_block(__m256i nibble_src, __m256i qh) {
  const __m256i m15 = _mm256_set1_epi8(0xF);
  const __m256i lo = (S % 2 == 0) ? _mm256_and_si256(nibble_src, m15)
                                  : _mm256_and_si256(_mm256_srli_epi16(nibble_src, 4), m15);
  return _mm256_or_si256(lo, move_bit<S, 4>(qh));
}

}  // namespace

float vec_dot_q5_k_q8_k(int64_t n, const void* w, const void* xv) {
  const auto* x = static_cast<const BlockQ5_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(xv);
  __m256 acc = _mm256_setzero_ps(), acc_min = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / QK_K; ++i) {
    const float d = y[i].d * h2f(x[i].d);
    const float dmin = -y[i].d * h2f(x[i].dmin);
    const uint8_t* q5 = x[i].qs;
    const int8_t* q8 = y[i].qs;
    const __m128i sm = unpack_scales_mins_k4(x[i].scales);
    acc_min = _mm256_fmadd_ps(_mm256_set1_ps(dmin), _mm256_cvtepi32_ps(mins_times_bsums_k4(sm, y[i].bsums)), acc_min);
    const __m256i sc = _mm256_broadcastsi128_si256(sm);

    const __m256i qh = load256(x[i].qh);
    const __m256i b0 = load256(q5), b1 = load256(q5 + 32), b2 = load256(q5 + 64), b3 = load256(q5 + 96);
    __m256i s0 = scaled_dot32(q5k_sub_block<0>(b0, qh), q8 + 0, sub_block_scale32<0>(sc));
    __m256i s1 = scaled_dot32(q5k_sub_block<1>(b0, qh), q8 + 32, sub_block_scale32<1>(sc));
    s0 = _mm256_add_epi32(s0, scaled_dot32(q5k_sub_block<2>(b1, qh), q8 + 64, sub_block_scale32<2>(sc)));
    s1 = _mm256_add_epi32(s1, scaled_dot32(q5k_sub_block<3>(b1, qh), q8 + 96, sub_block_scale32<3>(sc)));
    s0 = _mm256_add_epi32(s0, scaled_dot32(q5k_sub_block<4>(b2, qh), q8 + 128, sub_block_scale32<4>(sc)));
    s1 = _mm256_add_epi32(s1, scaled_dot32(q5k_sub_block<5>(b2, qh), q8 + 160, sub_block_scale32<5>(sc)));
    s0 = _mm256_add_epi32(s0, scaled_dot32(q5k_sub_block<6>(b3, qh), q8 + 192, sub_block_scale32<6>(sc)));
    s1 = _mm256_add_epi32(s1, scaled_dot32(q5k_sub_block<7>(b3, qh), q8 + 224, sub_block_scale32<7>(sc)));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(_mm256_add_epi32(s0, s1)), acc);
  }
  return hsum_ps(_mm256_add_ps(acc, acc_min));
}

// ---------------------------------------------------------------------------------------------
// Q6_K: value = (4 low bits | 2 high bits << 4) - 32, 16 signed 8-bit scales. Half h, quarter
// k, value l: low nibble of ql[64h + 32(k&1) + l] (low for k < 2, else high), high pair at
// bits 2k of qh[32h + l]. The dot uses the unsigned 6-bit value and removes
// 32 * sum_j scale_j * bsum_j once per block.
// ---------------------------------------------------------------------------------------------
float vec_dot_q6_k_q8_k(int64_t n, const void* w, const void* xv) {
  const auto* x = static_cast<const BlockQ6_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(xv);
  const __m256i m15 = _mm256_set1_epi8(0xF);
  const __m256i m48 = _mm256_set1_epi8(0x30);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / QK_K; ++i) {
    const float d = y[i].d * h2f(x[i].d);
    const int8_t* q8 = y[i].qs;
    const __m256i scales16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x[i].scales)));
    const Scales16 sc = spread_scales16(scales16);
    const __m256i offset = _mm256_slli_epi32(_mm256_madd_epi16(scales16, load256(y[i].bsums)), 5);

    __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
    auto half = [&](const uint8_t* ql, const uint8_t* qh, const int8_t* a, auto g0) {
      constexpr int G = decltype(g0)::value;
      const __m256i l0 = load256(ql), l1 = load256(ql + 32), h = load256(qh);
      // Top pairs to bits 4..5 of each byte: k=0 from bits 0..1, k=1 from 2..3, k=2 in place,
      // k=3 from 6..7 (16-bit shifts are safe because each byte is masked afterwards).
      const __m256i q0 = _mm256_or_si256(_mm256_and_si256(l0, m15), _mm256_and_si256(_mm256_slli_epi16(h, 4), m48));
      const __m256i q1 = _mm256_or_si256(_mm256_and_si256(l1, m15), _mm256_and_si256(_mm256_slli_epi16(h, 2), m48));
      const __m256i q2 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m15), _mm256_and_si256(h, m48));
      const __m256i q3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m15),
                                         _mm256_and_si256(_mm256_srli_epi16(h, 2), m48));
      s0 = _mm256_add_epi32(s0, scaled_dot32(q0, a + 0, group_scale16<G + 0>(sc)));
      s1 = _mm256_add_epi32(s1, scaled_dot32(q1, a + 32, group_scale16<G + 1>(sc)));
      s0 = _mm256_add_epi32(s0, scaled_dot32(q2, a + 64, group_scale16<G + 2>(sc)));
      s1 = _mm256_add_epi32(s1, scaled_dot32(q3, a + 96, group_scale16<G + 3>(sc)));
    };
    half(x[i].ql, x[i].qh, q8, std::integral_constant<int, 0>{});
    half(x[i].ql + 64, x[i].qh + 32, q8 + 128, std::integral_constant<int, 4>{});
    const __m256i sumi = _mm256_sub_epi32(_mm256_add_epi32(s0, s1), offset);
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
  }
  return hsum_ps(acc);
}

// ---------------------------------------------------------------------------------------------
// Q8_K activation quantizer, byte-identical to quant::quantize_row_q8_k (ggml's
// quantize_row_q8_K_ref): same sign convention (scale -127/max with max the first value of
// largest magnitude), same single-rounded product iscale*x, and cvtps_epi32 rounds to nearest
// even under the default MXCSR mode exactly as ggml's nearest_int (1.5*2^23 addition) does, so
// even exact ties (x*iscale = k + 0.5) agree.
// ---------------------------------------------------------------------------------------------
void quantize_row_q8_k(const float* src, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ8_K*>(dst);
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  for (int64_t i = 0; i < n / QK_K; ++i) {
    const float* x = src + i * QK_K;
    __m256 vmax = _mm256_setzero_ps();
    for (int j = 0; j < QK_K; j += 8) vmax = _mm256_max_ps(vmax, _mm256_and_ps(_mm256_loadu_ps(x + j), abs_mask));
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(vmax), _mm256_extractf128_ps(vmax, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    const float amax = _mm_cvtss_f32(m);
    if (!(amax > 0)) {  // all zero (NaN input also lands here and yields zeros)
      std::memset(&y[i], 0, sizeof(BlockQ8_K));
      continue;
    }
    // The sign of the first element reaching amax decides the sign of d (ref's strict '>').
    const __m256 vamax = _mm256_set1_ps(amax);
    float max = amax;
    for (int j = 0; j < QK_K; j += 8) {
      const int hit = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_and_ps(_mm256_loadu_ps(x + j), abs_mask), vamax, _CMP_EQ_OQ));
      if (hit) {
        max = x[j + __builtin_ctz(static_cast<unsigned>(hit))];
        break;
      }
    }
    const float iscale = -127.f / max;
    const __m256 vs = _mm256_set1_ps(iscale);
    const __m256i v127 = _mm256_set1_epi32(127);
    // 32 values per step: four 8 x i32 vectors -> 32 x i8 (the packs interleave 128-bit lanes;
    // the final permute restores order).
    __m256i pair_sums[8];
    for (int j = 0; j < QK_K; j += 32) {
      __m256i v[4];
      for (int k = 0; k < 4; ++k) {
        v[k] = _mm256_min_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(vs, _mm256_loadu_ps(x + j + 8 * k))), v127);
      }
      // Lanes [a01 a23 b01 b23 | a45 a67 b45 b67] with a = v0 + v1 (first 16 values), b = v2 + v3.
      pair_sums[j / 32] = _mm256_hadd_epi32(_mm256_add_epi32(v[0], v[1]), _mm256_add_epi32(v[2], v[3]));
      const __m256i p16a = _mm256_packs_epi32(v[0], v[1]);  // [0..3 8..11 | 4..7 12..15]
      const __m256i p16b = _mm256_packs_epi32(v[2], v[3]);  // [16..19 24..27 | 20..23 28..31]
      const __m256i p8 = _mm256_packs_epi16(p16a, p16b);
      const __m256i ordered = _mm256_permutevar8x32_epi32(p8, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[i].qs + j), ordered);
    }
    // bsums: one more hadd over two 32-value steps leaves the four 16-value totals split across
    // the 128-bit halves; adding the halves gives them in order. |bsum| <= 16 * 127 fits i16.
    __m128i g[4];
    for (int t = 0; t < 4; ++t) {
      const __m256i h = _mm256_hadd_epi32(pair_sums[2 * t], pair_sums[2 * t + 1]);
      g[t] = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
    }
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y[i].bsums), _mm_packs_epi32(g[0], g[1]));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y[i].bsums + 8), _mm_packs_epi32(g[2], g[3]));
    y[i].d = 1 / iscale;
  }
}

}  // namespace pocket::kernels::avx2

namespace pocket::kernels::avx2 {

// ---------------------------------------------------------------------------------------------
// Prefill tiles (declared in kernels/x86/gemm_avx2.h): one weight row against 4 Q8_K
// activation rows per pass, so each sub-block is unpacked once and used 4 times; the 2x4
// tile is two such passes. Same integer arithmetic per block as the row kernels above.
// ---------------------------------------------------------------------------------------------
namespace {

constexpr int kTileTokens = 4;

template <int J>
inline __m256i q4k_quants(const __m256i* b) {
  const __m256i m15 = _mm256_set1_epi8(0xF);
  return (J % 2 == 0) ? _mm256_and_si256(b[J / 2], m15) : _mm256_and_si256(_mm256_srli_epi16(b[J / 2], 4), m15);
}

template <int J>
inline void q4k_sub_block(const __m256i* b, __m256i sc, const int8_t* const* a, __m256i* s) {
  const __m256i q = q4k_quants<J>(b);
  const __m256i scale = sub_block_scale32<J>(sc);
  for (int t = 0; t < kTileTokens; ++t) s[t] = _mm256_add_epi32(s[t], scaled_dot32(q, a[t] + 32 * J, scale));
}

void q4k_row_x4(int64_t n, const BlockQ4_K* x, const BlockQ8_K* const* y, float* out, int64_t out_stride) {
  // Separate accumulators for the scale and min terms, summed at the end exactly as
  // vec_dot_q4_k_q8_k does: the two terms cancel heavily, so any other rounding order would
  // make prefill (tiles) and decode (row dots) disagree by ~1e-4.
  __m256 acc[kTileTokens], acc_min[kTileTokens];
  for (auto& v : acc) v = _mm256_setzero_ps();
  for (auto& v : acc_min) v = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / QK_K; ++i) {
    const __m128i sm = unpack_scales_mins_k4(x[i].scales);
    const __m256i sc = _mm256_broadcastsi128_si256(sm);
    const __m256i b[4] = {load256(x[i].qs), load256(x[i].qs + 32), load256(x[i].qs + 64), load256(x[i].qs + 96)};
    const int8_t* a[kTileTokens];
    __m256i s[kTileTokens];
    for (int t = 0; t < kTileTokens; ++t) {
      a[t] = y[t][i].qs;
      s[t] = _mm256_setzero_si256();
    }
    q4k_sub_block<0>(b, sc, a, s);
    q4k_sub_block<1>(b, sc, a, s);
    q4k_sub_block<2>(b, sc, a, s);
    q4k_sub_block<3>(b, sc, a, s);
    q4k_sub_block<4>(b, sc, a, s);
    q4k_sub_block<5>(b, sc, a, s);
    q4k_sub_block<6>(b, sc, a, s);
    q4k_sub_block<7>(b, sc, a, s);
    const float dw = h2f(x[i].d), mw = h2f(x[i].dmin);
    for (int t = 0; t < kTileTokens; ++t) {
      // Same operand order as the row kernel (y.d * x.d), so the products round identically.
      acc_min[t] = _mm256_fmadd_ps(_mm256_set1_ps(-y[t][i].d * mw), _mm256_cvtepi32_ps(mins_times_bsums_k4(sm, y[t][i].bsums)),
                                   acc_min[t]);
      acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(y[t][i].d * dw), _mm256_cvtepi32_ps(s[t]), acc[t]);
    }
  }
  for (int t = 0; t < kTileTokens; ++t) out[t * out_stride] = hsum_ps(_mm256_add_ps(acc[t], acc_min[t]));
}

template <int G>
inline void q6k_quarter(__m256i q, __m256i scale, const int8_t* const* a, int off, __m256i* s) {
  for (int t = 0; t < kTileTokens; ++t) s[t] = _mm256_add_epi32(s[t], scaled_dot32(q, a[t] + off, scale));
}

void q6k_row_x4(int64_t n, const BlockQ6_K* x, const BlockQ8_K* const* y, float* out, int64_t out_stride) {
  const __m256i m15 = _mm256_set1_epi8(0xF);
  const __m256i m48 = _mm256_set1_epi8(0x30);
  __m256 acc[kTileTokens];
  for (auto& v : acc) v = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / QK_K; ++i) {
    const __m256i scales16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x[i].scales)));
    const Scales16 sc = spread_scales16(scales16);
    const int8_t* a[kTileTokens];
    __m256i s[kTileTokens];
    for (int t = 0; t < kTileTokens; ++t) {
      a[t] = y[t][i].qs;
      s[t] = _mm256_setzero_si256();
    }
    auto half = [&](const uint8_t* ql, const uint8_t* qh, int base, auto g0) {
      constexpr int G = decltype(g0)::value;
      const __m256i l0 = load256(ql), l1 = load256(ql + 32), h = load256(qh);
      const __m256i q0 = _mm256_or_si256(_mm256_and_si256(l0, m15), _mm256_and_si256(_mm256_slli_epi16(h, 4), m48));
      const __m256i q1 = _mm256_or_si256(_mm256_and_si256(l1, m15), _mm256_and_si256(_mm256_slli_epi16(h, 2), m48));
      const __m256i q2 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m15), _mm256_and_si256(h, m48));
      const __m256i q3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m15),
                                         _mm256_and_si256(_mm256_srli_epi16(h, 2), m48));
      q6k_quarter<G + 0>(q0, group_scale16<G + 0>(sc), a, base + 0, s);
      q6k_quarter<G + 1>(q1, group_scale16<G + 1>(sc), a, base + 32, s);
      q6k_quarter<G + 2>(q2, group_scale16<G + 2>(sc), a, base + 64, s);
      q6k_quarter<G + 3>(q3, group_scale16<G + 3>(sc), a, base + 96, s);
    };
    half(x[i].ql, x[i].qh, 0, std::integral_constant<int, 0>{});
    half(x[i].ql + 64, x[i].qh + 32, 128, std::integral_constant<int, 4>{});
    const float dw = h2f(x[i].d);
    for (int t = 0; t < kTileTokens; ++t) {
      // The unsigned 6-bit values carry +32: remove 32 * sum_j scale_j * bsum_j.
      const __m256i offset = _mm256_slli_epi32(_mm256_madd_epi16(scales16, load256(y[t][i].bsums)), 5);
      acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(y[t][i].d * dw), _mm256_cvtepi32_ps(_mm256_sub_epi32(s[t], offset)), acc[t]);
    }
  }
  for (int t = 0; t < kTileTokens; ++t) out[t * out_stride] = hsum_ps(acc[t]);
}

template <typename WB, void (*RowX4)(int64_t, const WB*, const BlockQ8_K* const*, float*, int64_t)>
void tile_2x4(int64_t n, const uint8_t* w, size_t w_stride, const uint8_t* a, size_t a_stride, float* y, int64_t y_stride) {
  const BlockQ8_K* act[kTileTokens];
  for (int t = 0; t < kTileTokens; ++t) act[t] = reinterpret_cast<const BlockQ8_K*>(a + t * a_stride);
  RowX4(n, reinterpret_cast<const WB*>(w), act, y, y_stride);
  RowX4(n, reinterpret_cast<const WB*>(w + w_stride), act, y + 1, y_stride);
}

}  // namespace

void gemm_q4_k_q8_k_2x4(int64_t n, const uint8_t* w, size_t w_stride, const uint8_t* a, size_t a_stride, float* y,
                        int64_t y_stride) {
  tile_2x4<BlockQ4_K, q4k_row_x4>(n, w, w_stride, a, a_stride, y, y_stride);
}

void gemm_q6_k_q8_k_2x4(int64_t n, const uint8_t* w, size_t w_stride, const uint8_t* a, size_t a_stride, float* y,
                        int64_t y_stride) {
  tile_2x4<BlockQ6_K, q6k_row_x4>(n, w, w_stride, a, a_stride, y, y_stride);
}

}  // namespace pocket::kernels::avx2
