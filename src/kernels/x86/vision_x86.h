// The x86 vision micro-kernels behind KernelTable's gemm_f32_*, q8_* and attn_tile_gemm
// entries (contracts in kernels/dispatch.h and the drivers, kernels/gemm_f32.h and
// kernels/attention_full.h).
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/dispatch.h"
#include "quant/types.h"

namespace pocket::kernels {

namespace avx2 {
// Micro-kernel: c[r*ldc + j] (= or +=) sum_{k<kc} a[r*lda + k] * b[16k + j] for r < n_rows (1..6),
// j < 16. b is a packed panel, 32-byte aligned.
void gemm_f32_tile(int n_rows, int64_t kc, const float* a, int64_t lda, const float* b, float* c, int64_t ldc,
                   bool accumulate);
// Packs weight rows row0 + j*stride (j < n_rows <= 16), elements [k0, k0 + kc), into the panel
// b[16k + j] as float; rows n_rows..15 are zero. k0 is a multiple of the type's block size.
// Returns false when the type has no fast packer here.
bool gemm_f32_pack(DType type, const uint8_t* row0, size_t stride, int n_rows, int64_t k0, int64_t kc, float* b);
// The micro-kernel of the blocked attention (x86/attention_full_avx2.cpp), used for both products:
// c[r*ldc + 16t + i] = sum_{x<k} a[r*lda + x] * b[t*tile_stride + 16x + i] for r < n_rows (<= 6),
// t < n_tiles, i < 16, where each tile of b is [k][16] floats, 64-byte aligned.
//  - scores:  a = scaled Q rows, k = head_dim, tiles = K packed 16 keys at a time;
//  - outputs: a = probability rows, k = n_tokens, tiles = V packed 16 dims at a time.
void attn_tile_gemm(const float* a, int64_t lda, int n_rows, int64_t k, const float* b, int64_t n_tiles,
                    int64_t tile_stride, float* c, int64_t ldc);
}  // namespace avx2

namespace vnni {
// Panels as gemm_f32.h kQ8PanelWidth / kQ8PanelBlockBytes describe.
// Packs blocks [block0, block0 + n_blocks) of rows row0 + o*stride (o < n_rows <= 32; the rest
// zero) into consecutive panel blocks. panel is 64-byte aligned.
void q8_pack(const uint8_t* row0, size_t stride, int n_rows, int64_t block0, int64_t n_blocks, uint8_t* panel);
// Splits a row of n/32 BlockQ8_0 into offset bytes qa[i] = q[i] + 128 and float scales da[b].
void q8_split_act(const void* blocks, int64_t n, uint8_t* qa, float* da);
// c[r*ldc + j] (= or +=) sum over n_blocks blocks b of da[r*ldd + b] * dw[b][j] * sum_i
// (qa[r*lda + 32b + i] - 128) * w[b][j][i], for r < n_rows (1..4), j < 32.
void q8_tile(int n_rows, int64_t n_blocks, const uint8_t* qa, int64_t lda, const float* da, int64_t ldd,
             const uint8_t* panel, float* c, int64_t ldc, bool accumulate);
}  // namespace vnni

namespace bf16x {  // AVX512-BF16 (x86/gemm_bf16_avx512.cpp)
// Panels as kernels/dispatch.h kBf16PanelWidth / kBf16SliceMax describe.
// c[r*ldc + j] (= or +=) sum_{p<n_pairs} a[r*lda + 2p] * B[p][j][0] + a[r*lda + 2p+1] * B[p][j][1]
// for r < n_rows (1..8), j < 32; a is BF16 (lda in elements, even), b a 64-byte aligned panel.
void gemm_bf16_tile(int n_rows, int64_t n_pairs, const uint16_t* a, int64_t lda, const uint16_t* b, float* c,
                    int64_t ldc, bool accumulate);
// KernelTable::bf16_pack (contract in kernels/dispatch.h).
bool gemm_bf16_pack(DType type, const uint8_t* row0, size_t stride, int n_rows, int64_t n_in, uint16_t* b,
                    int64_t slice_stride);
// n floats to BF16, round to nearest even.
void gemm_bf16_act(const float* x, uint16_t* y, int64_t n);
// KernelTable::attn_bf16_softmax (contract in kernels/dispatch.h).
void attn_bf16_softmax(float* s, int64_t n, uint16_t* p);
// KernelTable::attn_bf16_tiles (contract in kernels/dispatch.h).
void attn_bf16_tiles(const uint16_t* a, int64_t lda, int n_rows, int64_t n_pairs, const uint16_t* b, int64_t n_tiles,
                     int64_t tile_stride, float* c, int64_t ldc);
}  // namespace bf16x

}  // namespace pocket::kernels
