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
// Vision GEMM BF16 path (kernels/gemm_f32.h): panels of kBf16PanelWidth outputs; for input
// pair p (inputs 2p, 2p+1) kBf16PanelWidth 32-bit words, word j = output j's two BF16 weights;
// slices of at most kBf16SliceMax inputs (an even count).
constexpr int kBf16PanelWidth = 32;
constexpr int64_t kBf16SliceMax = 256;
using Bf16TileFn = void (*)(int n_rows, int64_t n_pairs, const uint16_t* a, int64_t lda, const uint16_t* b, float* c,
                            int64_t ldc, bool accumulate);
// Packs rows row0 + j*stride (j < n_rows <= 32; the rest zero), all n_in (even) inputs, slice s
// at b + s*slice_stride; false for a type it does not pack (F16 / BF16 only).
using Bf16PackFn = bool (*)(DType type, const uint8_t* row0, size_t stride, int n_rows, int64_t n_in, uint16_t* b,
                            int64_t slice_stride);
using Bf16ActFn = void (*)(const float* x, uint16_t* y, int64_t n);
// BF16 vision attention (kernels/attention_full.h): c[r*ldc + 16t + i] = sum_p a[r*lda + 2p] *
// B_t[p][i][0] + a[r*lda + 2p+1] * B_t[p][i][1] for r < n_rows (1..8), t < n_tiles, i < 16; tile t
// at b + t*tile_stride (BF16 elements), [n_pairs][16][2], 64-byte aligned.
using AttnBf16TilesFn = void (*)(const uint16_t* a, int64_t lda, int n_rows, int64_t n_pairs, const uint16_t* b,
                                 int64_t n_tiles, int64_t tile_stride, float* c, int64_t ldc);
// Softmax of the n scores s (overwritten with their exponentials), written to p as BF16.
using AttnBf16SoftmaxFn = void (*)(float* s, int64_t n, uint16_t* p);
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
  Bf16TileFn bf16_tile = nullptr;  // all three: the BF16 GEMM for F16 / BF16 weights (CPUs with BF16 dot products)
  Bf16PackFn bf16_pack = nullptr;
  Bf16ActFn bf16_act = nullptr;
  AttnBf16TilesFn attn_bf16_tiles = nullptr;  // with bf16_act and attn_bf16_softmax: the BF16 vision attention
  AttnBf16SoftmaxFn attn_bf16_softmax = nullptr;

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
// BF16 products in the vision kernels (gemm_f32's BF16 path, attention_full's BF16 variant) are
// used where the table has them unless turned off here: tests compare them with the float paths,
// and `--no-bf16` keeps the towers in float. Not for use while kernels run on other threads.
void set_vision_bf16(bool allowed);
bool vision_bf16_allowed();
// Switches the process to another level (tests, `--ref-kernels`); throws if unavailable.
// Not for use while kernels run on other threads.
void set_isa(Isa isa);

}  // namespace pocket::kernels
