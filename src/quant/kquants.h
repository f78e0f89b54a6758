// 256-element super-block formats: Q2_K, Q3_K, Q4_K, Q5_K, Q6_K and the activation format Q8_K.
// Scalar reference (de)quantization; n is a multiple of 256.
#pragma once

#include <cstdint>

namespace pocket::quant {

void dequantize_row_q2_k(const void* src, float* dst, int64_t n);
void dequantize_row_q3_k(const void* src, float* dst, int64_t n);
void dequantize_row_q4_k(const void* src, float* dst, int64_t n);
void dequantize_row_q5_k(const void* src, float* dst, int64_t n);
void dequantize_row_q6_k(const void* src, float* dst, int64_t n);
void dequantize_row_q8_k(const void* src, float* dst, int64_t n);

void quantize_row_q2_k(const float* src, void* dst, int64_t n);
void quantize_row_q3_k(const float* src, void* dst, int64_t n);
void quantize_row_q4_k(const float* src, void* dst, int64_t n);
void quantize_row_q5_k(const float* src, void* dst, int64_t n);
void quantize_row_q6_k(const float* src, void* dst, int64_t n);
void quantize_row_q8_k(const float* src, void* dst, int64_t n);

// Q4_K/Q5_K pack eight 6-bit scales and eight 6-bit mins into 12 bytes: sub-blocks 0..3 keep
// scale and min in the low 6 bits of bytes 0..3 and 4..7; sub-blocks 4..7 put their low nibbles
// in bytes 8..11 (scale low, min high) and their top two bits in the spare bits 6..7 of bytes
// 0..3 (scale) and 4..7 (min). Returns sub-block j's scale and min.
// ref: ggml-quants.c get_scale_min_k4.
inline void scale_min_k4(int j, const uint8_t* q, int* sc, int* m) {
  if (j < 4) {
    *sc = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

// Q3_K: sixteen 6-bit scales (stored +32) in 12 bytes. Low nibbles: scale j < 8 in the low nibble
// of byte j, scale j >= 8 in the high nibble of byte j-8; the two high bits of scale j sit at bit
// 2*(j/4) of byte 8 + j%4. Returns the signed scale. ref: ggml-quants.c quantize_row_q3_K_ref.
inline int q3_k_scale(const uint8_t* s, int j) {
  const int lo = j < 8 ? (s[j] & 0xF) : (s[j - 8] >> 4);
  const int hi = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
  return (lo | (hi << 4)) - 32;
}

}  // namespace pocket::quant
