// AVX2+FMA parts of kernels/gemm_f32.h: the 6x16 broadcast micro-kernel and the panel packers
// that dequantize 16 weight rows and transpose them to [input][16 outputs] with 8x8 register
// transposes. Compiled with ISA flags; called only when the CPU has AVX2, FMA and F16C.
#include <immintrin.h>

#include <cstring>

#include "kernels/x86/vision_x86.h"
#include "quant/blocks.h"

namespace pocket::kernels::avx2 {
namespace {

// R token rows x 16 outputs: 2R accumulators + 2 panel vectors + 1 broadcast <= 15 ymm for
// R <= 6, and each panel vector loaded is used R times. Accumulation starts from C (Acc) or
// zero. The accumulators are named variables, not arrays: GCC 12 kept arrays of them in
// memory here (a store per FMA), whatever the loop shape.
#define POCKET_ROW_(r)                                                  \
  if constexpr (R > r) {                                                \
    const __m256 s = _mm256_broadcast_ss(a + (r) * lda + k);            \
    c##r##0 = _mm256_fmadd_ps(s, b0, c##r##0);                          \
    c##r##1 = _mm256_fmadd_ps(s, b1, c##r##1);                          \
  }
#define POCKET_INIT_(r)                                                        \
  if constexpr (R > r) {                                                       \
    c##r##0 = Acc ? _mm256_loadu_ps(c + (r) * ldc) : _mm256_setzero_ps();      \
    c##r##1 = Acc ? _mm256_loadu_ps(c + (r) * ldc + 8) : _mm256_setzero_ps();  \
  }
#define POCKET_STORE_(r)                            \
  if constexpr (R > r) {                            \
    _mm256_storeu_ps(c + (r) * ldc, c##r##0);       \
    _mm256_storeu_ps(c + (r) * ldc + 8, c##r##1);   \
  }

template <int R, bool Acc>
void tile(int64_t kc, const float* a, int64_t lda, const float* b, float* c, int64_t ldc) {
  __m256 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
  POCKET_INIT_(0) POCKET_INIT_(1) POCKET_INIT_(2) POCKET_INIT_(3) POCKET_INIT_(4) POCKET_INIT_(5)
  for (int64_t k = 0; k < kc; ++k) {
    const __m256 b0 = _mm256_load_ps(b + 16 * k);
    const __m256 b1 = _mm256_load_ps(b + 16 * k + 8);
    POCKET_ROW_(0) POCKET_ROW_(1) POCKET_ROW_(2) POCKET_ROW_(3) POCKET_ROW_(4) POCKET_ROW_(5)
  }
  POCKET_STORE_(0) POCKET_STORE_(1) POCKET_STORE_(2) POCKET_STORE_(3) POCKET_STORE_(4) POCKET_STORE_(5)
}
#undef POCKET_ROW_
#undef POCKET_INIT_
#undef POCKET_STORE_

template <int R>
void tile(int64_t kc, const float* a, int64_t lda, const float* b, float* c, int64_t ldc, bool accumulate) {
  if (accumulate) {
    tile<R, true>(kc, a, lda, b, c, ldc);
  } else {
    tile<R, false>(kc, a, lda, b, c, ldc);
  }
}

// In-register transpose: on return r[i] holds element i of each input row, rows in order.
inline void transpose8(__m256 r[8]) {
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  const __m256 s0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 s1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 s2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 s3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 s4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 s5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 s6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 s7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
  r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
  r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
  r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
  r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
  r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
  r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
  r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
  r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

// Loaders: 8 consecutive floats of one weight row starting at element k (k % 8 == 0), and one.
struct F32Rows {
  static __m256 load8(const uint8_t* row, int64_t k) { return _mm256_loadu_ps(reinterpret_cast<const float*>(row) + k); }
  static float load1(const uint8_t* row, int64_t k) { return reinterpret_cast<const float*>(row)[k]; }
};
struct F16Rows {
  static __m256 load8(const uint8_t* row, int64_t k) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(reinterpret_cast<const uint16_t*>(row) + k)));
  }
  static float load1(const uint8_t* row, int64_t k) { return _cvtsh_ss(reinterpret_cast<const uint16_t*>(row)[k]); }
};
struct BF16Rows {
  static __m256 load8(const uint8_t* row, int64_t k) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(reinterpret_cast<const uint16_t*>(row) + k));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  }
  static float load1(const uint8_t* row, int64_t k) {
    const uint32_t u = static_cast<uint32_t>(reinterpret_cast<const uint16_t*>(row)[k]) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
};
// Q8_0: 8 elements never straddle a 32-element block when k % 8 == 0.
struct Q8_0Rows {
  static __m256 load8(const uint8_t* row, int64_t k) {
    const BlockQ8_0& blk = reinterpret_cast<const BlockQ8_0*>(row)[k / QK8_0];
    const __m128i q = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(blk.qs + k % QK8_0));
    return _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q)), _mm256_set1_ps(_cvtsh_ss(blk.d)));
  }
  static float load1(const uint8_t* row, int64_t k) {
    const BlockQ8_0& blk = reinterpret_cast<const BlockQ8_0*>(row)[k / QK8_0];
    return _cvtsh_ss(blk.d) * static_cast<float>(blk.qs[k % QK8_0]);
  }
};

template <typename L>
void pack(const uint8_t* row0, size_t stride, int n_rows, int64_t k0, int64_t kc, float* b) {
  const int64_t k8 = kc / 8 * 8;
  for (int g = 0; g < 2; ++g) {  // output rows 8g..8g+7
    const uint8_t* rows[8];
    int valid = 0;
    for (int i = 0; i < 8; ++i) {
      const int j = 8 * g + i;
      rows[i] = j < n_rows ? row0 + static_cast<size_t>(j) * stride : nullptr;
      valid += j < n_rows;
    }
    float* dst = b + 8 * g;
    if (valid == 0) {
      for (int64_t k = 0; k < kc; ++k) _mm256_store_ps(dst + 16 * k, _mm256_setzero_ps());
      continue;
    }
    for (int64_t k = 0; k < k8; k += 8) {
      __m256 r[8];
      for (int i = 0; i < 8; ++i) r[i] = rows[i] ? L::load8(rows[i], k0 + k) : _mm256_setzero_ps();
      transpose8(r);
      for (int i = 0; i < 8; ++i) _mm256_store_ps(dst + 16 * (k + i), r[i]);
    }
    for (int64_t k = k8; k < kc; ++k)
      for (int i = 0; i < 8; ++i) dst[16 * k + i] = rows[i] ? L::load1(rows[i], k0 + k) : 0.0f;
  }
}

}  // namespace

void gemm_f32_tile(int n_rows, int64_t kc, const float* a, int64_t lda, const float* b, float* c, int64_t ldc,
                   bool accumulate) {
  switch (n_rows) {
    case 6: tile<6>(kc, a, lda, b, c, ldc, accumulate); break;
    case 5: tile<5>(kc, a, lda, b, c, ldc, accumulate); break;
    case 4: tile<4>(kc, a, lda, b, c, ldc, accumulate); break;
    case 3: tile<3>(kc, a, lda, b, c, ldc, accumulate); break;
    case 2: tile<2>(kc, a, lda, b, c, ldc, accumulate); break;
    case 1: tile<1>(kc, a, lda, b, c, ldc, accumulate); break;
    default: break;
  }
}

bool gemm_f32_pack(DType type, const uint8_t* row0, size_t stride, int n_rows, int64_t k0, int64_t kc, float* b) {
  switch (type) {
    case DType::F32: pack<F32Rows>(row0, stride, n_rows, k0, kc, b); return true;
    case DType::F16: pack<F16Rows>(row0, stride, n_rows, k0, kc, b); return true;
    case DType::BF16: pack<BF16Rows>(row0, stride, n_rows, k0, kc, b); return true;
    case DType::Q8_0: pack<Q8_0Rows>(row0, stride, n_rows, k0, kc, b); return true;
    default: return false;
  }
}

}  // namespace pocket::kernels::avx2
