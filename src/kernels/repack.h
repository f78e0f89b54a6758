// Weights repacked at load for the int8 VNNI kernels: 8 consecutive rows interleaved in
// 4-byte chunks, so one vpdpbusd with a broadcast activation chunk advances 8 rows at once.
// The repacked matrix is exactly as large as the file's (fp16 scales, no per-row extras):
// decode is bound by the bytes it reads, so a bigger layout is a slower one.
// vpdpbusd multiplies unsigned by signed bytes; the weights are made the unsigned side
// (Q8_0: w + 128, Q4_0: the stored nibble, which is w + 8) and the offset is removed with a
// per-(token, block) correction of -128 * sum(a) or -8 * sum(a), computed once per
// activation block and shared by all rows (llama.cpp's Q8_1 sums play the same role). Plain
// AVX2 (vpmaddubsw, whose int16 pairs would saturate on w + 128) flips Q8_0 back to signed
// bytes in registers and needs no correction.
// Layout per group of 8 rows and per 32-element block (RepackedQ8 / RepackedQ4 below);
// groups are stored one after another, blocks of a group contiguously.
//
// K-quants (Q2_K to Q6_K) are repacked the same way per 256-element super-block, with Q8_K
// activations: the quants stay unsigned (Q2_K: the 2-bit value; Q3_K: the 3-bit value, w + 4; Q4_K: the nibble; Q5_K: nibble | fifth bit << 4; Q6_K: the 6-bit value, which is
// w + 32), the 6-bit sub-block scales are unpacked to one byte per row so that 8 (or 16) rows'
// scales load as one vector, and Q6_K's -32 offset is seeded per 16-element sub-block from the
// Q8_K block sums, as is Q3_K's -4 (Q4_K's and Q2_K's mins are a separate term, as in the format). Q4_K and Q5_K grow by 32 bytes
// per 8 rows x 256 columns (+2.8% / +2.3%: the scales unpacked), Q6_K by 16 (+1%: alignment padding), Q3_K by 48 (+5.5%: scales unpacked, padding), Q2_K keeps its size.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/aligned.h"
#include "core/thread_pool.h"
#include "kernels/dispatch.h"
#include "kernels/matmul.h"

namespace pocket::kernels {

constexpr int kPackRows = 8;

struct RepackedQ8 {   // from Q8_0: byte (k, r, i) = w[r][4k+i] + 128
  uint16_t d[kPackRows];            // fp16 row scales, as in the file
  uint8_t q[8][kPackRows][4];
};
struct RepackedQ4 {   // from Q4_0: byte (k, r, i) = w[r][4k+i] (low nibble) | w[r][16+4k+i] (high), both +8
  uint16_t d[kPackRows];
  uint8_t q[4][kPackRows][4];
};
static_assert(sizeof(RepackedQ8) == 8 * 34);   // 8 BlockQ8_0
static_assert(sizeof(RepackedQ4) == 8 * 18);   // 8 BlockQ4_0

struct RepackedQ2K {  // from Q2_K, one super-block of 8 rows (the file's size)
  uint16_t d[kPackRows], dmin[kPackRows];
  uint8_t sm[16][kPackRows];               // [16-element sub-block][row]: scale (low nibble) | min (high)
  uint8_t qs[2][8][kPackRows][4];          // [half h][chunk c][row]: qs[32h + 4c ..]; bits 2k: quarter k
};
struct RepackedQ3K {  // from Q3_K, one super-block of 8 rows
  uint16_t d[kPackRows];
  uint8_t pad[16];                         // keeps every 32-byte quant load 32-byte aligned
  int8_t sc[16][kPackRows];                // [16-element sub-block][row] signed 6-bit scales
  uint8_t hm[8][kPackRows][4];             // [chunk c][row]: hmask[4c ..]; bit 4h + k: quarter k of half h
  uint8_t qs[2][8][kPackRows][4];          // [half h][chunk c][row]: qs[32h + 4c ..]; bits 2k: quarter k
};
struct RepackedQ4K {  // from Q4_K, one super-block of 8 rows
  uint16_t d[kPackRows], dmin[kPackRows];  // fp16, as in the file
  uint8_t sc[8][kPackRows];                // [sub-block][row] 6-bit scales
  uint8_t m[4][kPackRows][2];              // [sub-block pair][row][2] 6-bit mins (int16 pairs once widened)
  uint8_t q[4][8][kPackRows][4];           // [64-element part j][chunk k][row]: qs[32j + 4k ..]; low nibble:
                                           // sub-block 2j, high: 2j + 1
};
struct RepackedQ5K {  // from Q5_K: Q4_K's fields plus the fifth bits
  uint16_t d[kPackRows], dmin[kPackRows];
  uint8_t sc[8][kPackRows];
  uint8_t m[4][kPackRows][2];
  uint8_t qh[8][kPackRows][4];             // [chunk k][row]: qh[4k ..]; bit s is sub-block s's fifth bit
  uint8_t q[4][8][kPackRows][4];           // as RepackedQ4K
};
struct RepackedQ6K {  // from Q6_K, one super-block of 8 rows
  uint16_t d[kPackRows];
  uint8_t pad[16];                         // keeps every 32-byte quant load 32-byte aligned
  int8_t sc[16][kPackRows];                // [16-element sub-block][row]
  // [128-element half h][chunk c][part][row], in the order the kernel reads them (a layout that
  // made it jump between three places in the block ran at a third of the speed once the matrix
  // left the cache): part 0 = ql[64h + 4c ..] (quarters 0 and 2), part 1 = ql[64h + 32 + 4c ..]
  // (quarters 1 and 3), part 2 = qh[32h + 4c ..] (the top two bits of all four).
  uint8_t q[2][8][3][kPackRows][4];
};
static_assert(sizeof(RepackedQ2K) == 8 * 84);
static_assert(sizeof(RepackedQ3K) == 8 * 110 + 48);
static_assert(sizeof(RepackedQ4K) == 8 * 144 + 32);
static_assert(sizeof(RepackedQ5K) == 8 * 176 + 32);
static_assert(sizeof(RepackedQ6K) == 8 * 210 + 16);
static_assert(sizeof(RepackedQ2K) % 32 == 0 && sizeof(RepackedQ3K) % 32 == 0 && sizeof(RepackedQ4K) % 32 == 0 && sizeof(RepackedQ5K) % 32 == 0 && sizeof(RepackedQ6K) % 32 == 0);

// How a repacked type is laid out and which kernels read it (null when the active level has
// none for this type).
struct PackedFormat {
  int64_t block = 0;         // elements per block (32, or 256 for K-quants)
  size_t group_block = 0;    // bytes of one block of an 8-row group
  PackedTileFn k8 = nullptr, k16 = nullptr;  // 8-row tile; 16-row tile (two groups) or null
  bool block_sums = false;   // the kernels read per-block activation sums (Q8_0 / Q4_0)
};
PackedFormat packed_format(const KernelTable& kt, DType t);

// True when the active kernel level has packed kernels for w's type (Q8_0 and Q2_K..Q6_K: AVX2
// and up; Q4_0: AVX512-VNNI), the rows are a multiple of 8 and the columns of the block.
bool can_repack(const WeightRef& w);
// Repacks w into `out` (resized) and points w.packed at it. release_source: w.data is a mapped
// file (core/mmap.h) whose pages are dropped slice by slice as they are repacked (they read back
// from the file if touched again).
void repack_weight(WeightRef& w, AlignedBuffer<uint8_t>& out, ThreadPool& pool, bool release_source = false);

}  // namespace pocket::kernels
