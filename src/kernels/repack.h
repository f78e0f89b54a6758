// Weights repacked at load for the int8 VNNI kernels: 8 consecutive rows interleaved in
// 4-byte chunks, so one vpdpbusd with a broadcast activation chunk advances 8 rows at once,
// with float row scales and the -128*sum(w) correction precomputed per block.
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

struct RepackedQ8 {   // from Q8_0: chunk k of row r at q[k][r]
  float d[kPackRows];
  int32_t seed[kPackRows];          // -128 * sum_j w[r][j]
  int8_t q[8][kPackRows][4];
};
struct RepackedQ4 {   // from Q4_0: byte (k, r, i) = w[r][4k+i] (low nibble) | w[r][16+4k+i] (high), both +8
  float d[kPackRows];
  int32_t seed[kPackRows];
  uint8_t q[4][kPackRows][4];
};
static_assert(sizeof(RepackedQ8) == 320);
static_assert(sizeof(RepackedQ4) == 192);

// True when this CPU has the kernels and the matrix can be repacked (Q8_0 or Q4_0, rows a
// multiple of 8).
bool can_repack(const WeightRef& w);
// Repacks w into `out` (resized) and points w.packed at it.
void repack_weight(WeightRef& w, AlignedBuffer<uint8_t>& out, ThreadPool& pool);

}  // namespace pocket::kernels
