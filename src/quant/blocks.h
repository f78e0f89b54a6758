// Block structs, byte-identical to GGML's (ref: ggml/src/ggml-common.h).
#pragma once

#include <cstdint>

namespace pocket {

using fp16_t = uint16_t;

constexpr int QK4_0 = 32;
constexpr int QK4_1 = 32;
constexpr int QK5_0 = 32;
constexpr int QK5_1 = 32;
constexpr int QK8_0 = 32;
constexpr int QK8_1 = 32;
constexpr int QK_K = 256;
constexpr int K_SCALE_SIZE = 12;

struct BlockQ4_0 {
  fp16_t d;
  uint8_t qs[QK4_0 / 2];  // nibbles: low = elements 0..15, high = 16..31
};
struct BlockQ4_1 {
  fp16_t d, m;
  uint8_t qs[QK4_1 / 2];
};
struct BlockQ5_0 {
  fp16_t d;
  uint8_t qh[4];  // fifth bits
  uint8_t qs[QK5_0 / 2];
};
struct BlockQ5_1 {
  fp16_t d, m;
  uint8_t qh[4];
  uint8_t qs[QK5_1 / 2];
};
struct BlockQ8_0 {
  fp16_t d;
  int8_t qs[QK8_0];
};
struct BlockQ8_1 {
  fp16_t d, s;  // s = d * sum(qs)
  int8_t qs[QK8_1];
};
struct BlockQ2_K {
  uint8_t scales[QK_K / 16];  // 4-bit scales and mins
  uint8_t qs[QK_K / 4];
  fp16_t d, dmin;
};
struct BlockQ3_K {
  uint8_t hmask[QK_K / 8];
  uint8_t qs[QK_K / 4];
  uint8_t scales[12];  // 6-bit scales
  fp16_t d;
};
struct BlockQ4_K {
  fp16_t d, dmin;
  uint8_t scales[K_SCALE_SIZE];
  uint8_t qs[QK_K / 2];
};
struct BlockQ5_K {
  fp16_t d, dmin;
  uint8_t scales[K_SCALE_SIZE];
  uint8_t qh[QK_K / 8];
  uint8_t qs[QK_K / 2];
};
struct BlockQ6_K {
  uint8_t ql[QK_K / 2];
  uint8_t qh[QK_K / 4];
  int8_t scales[QK_K / 16];
  fp16_t d;
};
// Activation-side block for K-quant dot products (float scale, per-16 sums).
struct BlockQ8_K {
  float d;
  int8_t qs[QK_K];
  int16_t bsums[QK_K / 16];
};

static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_1) == 20);
static_assert(sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ8_1) == 36);
static_assert(sizeof(BlockQ2_K) == 84);
static_assert(sizeof(BlockQ3_K) == 110);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210);
static_assert(sizeof(BlockQ8_K) == 292);

}  // namespace pocket
