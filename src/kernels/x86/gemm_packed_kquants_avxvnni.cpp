// Repacked Q4_K / Q5_K / Q6_K kernels at the AVX-VNNI level: the VEX-encoded vpdpbusd on 8 rows
// (ymm), for the Intel client cores (Alder Lake and later) and AMD Zen 5 that have 256-bit
// VNNI without AVX-512.
#include <immintrin.h>

#include <cstring>
#include <type_traits>

#include "kernels/repack.h"
#include "kernels/x86/gemm_packed_kquants.h"
#include "kernels/x86/simd_util.h"
#include "quant/blocks.h"

namespace pocket::kernels::avxvnni {

namespace {
struct VexDot {
  static constexpr bool kMaddubs = false;
  static __m256i dot(__m256i s, __m256i w, __m256i a) { return _mm256_dpbusd_avx_epi32(s, w, a); }
};
}  // namespace

#include "kernels/x86/packed_kquants.inc"

const PackedKQuantTiles kPackedKQuantTiles = tiles<Ymm8<VexDot>>();

}  // namespace pocket::kernels::avxvnni
