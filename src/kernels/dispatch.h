// The one kernel dispatch: every ISA level (ref/, x86/avx2, x86/avxvnni, x86/avx512vnni, arm/neon,
// arm/dotprod, arm/i8mm) is a folder that fills one KernelTable, and the table for this CPU is
// chosen once at start-up. Generic drivers (matmul, attention, gemm_f32, ...) call through the
// active table and include no ISA header.
//
// Levels build on each other: a level's filler starts from the level below it (ref <- avx2 <-
// avxvnni, ref <- avx2 <- avx512vnni; ref <- neon <- dotprod <- i8mm) and replaces what it does better, so an entry a
// level leaves alone is the lower level's (ultimately the scalar reference). Optional entries
// (nullptr) make the driver take its generic path.
//
// POCKET_ISA=ref|avx2|avxvnni|avx512vnni|neon|dotprod|i8mm overrides the choice (refused, with the
// reason, for a level this build or this CPU lacks); tests run every available level.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "kernels/dot.h"
#include "kernels/ops.h"

namespace pocket::kernels {

// Within an architecture, a later level is a better one (start-up takes the last available).
enum class Isa : uint8_t { Ref, Avx2, AvxVnni, Avx512Vnni, Neon, Dotprod, I8mm };
constexpr int kIsaCount = 7;

const char* isa_name(Isa isa);
std::optional<Isa> parse_isa(std::string_view name);

// Number of DType values a table covers (quant/types.h).
constexpr int kMaxDType = 31;

// ---- optional entries (see the drivers for their exact contracts) ----
// Causal attention over the f16 KV cache, prefill tiles (kernels/attention.cpp).
using F16ToF32Fn = void (*)(const uint16_t* src, float* dst, int64_t n);
using AttnScoresFn = void (*)(const float* kbuf, int64_t c0, int64_t nc, int head_dim, const float* const* qs,
                              const int64_t* nks, int nq, float scale, float* scores, int64_t stride);
using AttnValuesFn = void (*)(const float* vbuf, int64_t c0, int64_t nc, int head_dim, const float* scores,
                              int64_t stride, const int64_t* nks, int nq, float* const* outs);
// Repacked Q8_0 / Q4_0 / K-quant weights (kernels/repack.h): 8 or 16 rows x up to 4 tokens.
using PackedTileFn = void (*)(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_stride,
                              const int32_t* asum, int n_tok, float* y, int64_t y_stride);
using BlockSumsFn = void (*)(const uint8_t* row, int64_t nb, int32_t* out);
// Vision GEMM float path (kernels/gemm_f32.h).
using GemmF32TileFn = void (*)(int n_rows, int64_t kc, const float* a, int64_t lda, const float* b, float* c,
                               int64_t ldc, bool accumulate);
using GemmF32PackFn = bool (*)(DType type, const uint8_t* row0, size_t stride, int n_rows, int64_t k0, int64_t kc,
                               float* b);
// Vision GEMM int8 Q8_0 path (kernels/gemm_f32.h).
using Q8PackFn = void (*)(const uint8_t* row0, size_t stride, int n_rows, int64_t block0, int64_t n_blocks,
                          uint8_t* panel);
using Q8SplitActFn = void (*)(const void* blocks, int64_t n, uint8_t* qa, float* da);
using Q8TileFn = void (*)(int n_rows, int64_t n_blocks, const uint8_t* qa, int64_t lda, const float* da, int64_t ldd,
                          const uint8_t* panel, float* c, int64_t ldc, bool accumulate);
// Vision attention micro-kernel (kernels/attention_full.h).
using AttnTileGemmFn = void (*)(const float* a, int64_t lda, int n_rows, int64_t k, const float* b, int64_t n_tiles,
                                int64_t tile_stride, float* c, int64_t ldc);

// Repacked K-quants Q2_K..Q6_K (index: type - Q2_K), Q8_K activations (asum unused): 8-row
// tiles and optional 16-row tiles (two groups).
struct PackedKQuantTiles {
  PackedTileFn rows8[5] = {};
  PackedTileFn rows16[5] = {};
};

struct KernelTable {
  Isa isa = Isa::Ref;
  TypeKernels types[kMaxDType];  // products per weight type (vec_dot null: type unsupported)
  OpsTable ops{};                // float row ops

  F16ToF32Fn f16_to_f32 = nullptr;  // with attn_scores/attn_values: prefill attention tiles
  AttnScoresFn attn_scores = nullptr;
  AttnValuesFn attn_values = nullptr;

  // Repacked Q8_0 / Q4_0 (a type with an 8-row tile is repacked at load; 16-row tiles optional).
  // With q8_0_block_sums the tiles read the activations' block sums (the VNNI offset
  // correction); without it (AVX2: Q8_0 only, signed products) they ignore them.
  PackedTileFn packed_q8_0_8 = nullptr;
  PackedTileFn packed_q4_0_8 = nullptr;
  PackedTileFn packed_q8_0_16 = nullptr;
  PackedTileFn packed_q4_0_16 = nullptr;
  BlockSumsFn q8_0_block_sums = nullptr;
  PackedKQuantTiles packed_k{};  // repacked K-quants

  GemmF32TileFn gemm_f32_tile = nullptr;  // the blocked float GEMM
  GemmF32PackFn gemm_f32_pack = nullptr;  // its fast packers (null, or false for a type: the generic one)
  Q8PackFn q8_pack = nullptr;  // all three: the int8 Q8_0 GEMM
  Q8SplitActFn q8_split_act = nullptr;
  Q8TileFn q8_tile = nullptr;

  AttnTileGemmFn attn_tile_gemm = nullptr;  // the blocked vision attention
};

// The table in use (POCKET_ISA, or the best level this build and CPU have).
const KernelTable& active_kernels();
// A level's table; throws when this build has no such folder or the CPU lacks the level.
const KernelTable& kernels_for(Isa isa);
// Why a level cannot run here, or empty when it can.
std::string_view isa_unavailable_reason(Isa isa);
// The levels that can run here, lowest first (always starts with Ref).
std::vector<Isa> available_isas();
// The level chosen at start-up.
Isa startup_isa();
// Switches the process to another level (tests, `--ref-kernels`); throws if unavailable.
// Not for use while kernels run on other threads.
void set_isa(Isa isa);

}  // namespace pocket::kernels
