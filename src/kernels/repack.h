// Weights repacked at load for the int8 VNNI kernels: 8 consecutive rows interleaved in
// 4-byte chunks, so one vpdpbusd with a broadcast activation chunk advances 8 rows at once.
// The repacked matrix is exactly as large as the file's (fp16 scales, no per-row extras):
// decode is bound by the bytes it reads, so a bigger layout is a slower one.
// vpdpbusd multiplies unsigned by signed bytes; the weights are made the unsigned side
// (Q8_0: w + 128, Q4_0: the stored nibble, which is w + 8) and the offset is removed with a
// per-(token, block) correction of -128 * sum(a) or -8 * sum(a), computed once per
// activation block and shared by all rows (llama.cpp's Q8_1 sums play the same role).
// Layout per group of 8 rows and per 32-element block (RepackedQ8 / RepackedQ4 below);
// groups are stored one after another, blocks of a group contiguously.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/aligned.h"
#include "core/thread_pool.h"
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

// True when the active kernel level has packed kernels (AVX512-VNNI) and the matrix can be repacked (Q8_0 or Q4_0, rows a
// multiple of 8).
bool can_repack(const WeightRef& w);
// Repacks w into `out` (resized) and points w.packed at it.
void repack_weight(WeightRef& w, AlignedBuffer<uint8_t>& out, ThreadPool& pool);

}  // namespace pocket::kernels
