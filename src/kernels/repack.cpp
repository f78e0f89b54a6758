// Repacking Q8_0/Q4_0 and K-quant (Q2_K..Q6_K) matrices into 8-row interleaved groups (see repack.h).
#include "kernels/repack.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "core/mmap.h"
#include "kernels/dispatch.h"
#include "quant/blocks.h"
#include "quant/kquants.h"

namespace pocket::kernels {

namespace {

// Calls fill(p, src, r) for every block p of group g's output, with the source block of row r of
// the group (block: elements per block).
template <typename Block, typename Packed, typename Fill>
void pack_group(const WeightRef& w, int64_t g, int64_t block, Packed* out, Fill fill) {
  for (int64_t b = 0; b < w.n_in / block; ++b)
    for (int r = 0; r < kPackRows; ++r) fill(out[b], reinterpret_cast<const Block*>(w.row(g * kPackRows + r))[b], r);
}

void pack_group_q8(const WeightRef& w, int64_t g, RepackedQ8* out) {
  pack_group<BlockQ8_0>(w, g, QK8_0, out, [](RepackedQ8& p, const BlockQ8_0& src, int r) {
    p.d[r] = src.d;
    for (int k = 0; k < 8; ++k)
      for (int i = 0; i < 4; ++i) p.q[k][r][i] = static_cast<uint8_t>(src.qs[4 * k + i] + 128);
  });
}

void pack_group_q4(const WeightRef& w, int64_t g, RepackedQ4* out) {
  pack_group<BlockQ4_0>(w, g, QK4_0, out, [](RepackedQ4& p, const BlockQ4_0& src, int r) {
    p.d[r] = src.d;
    // Element e < 16 is the low nibble of qs[e], element 16 + e the high nibble: chunk k
    // (elements 4k..4k+3) and chunk k + 4 (16+4k..) share the same source bytes.
    for (int k = 0; k < 4; ++k) std::memcpy(p.q[k][r], src.qs + 4 * k, 4);
  });
}

// Q4_K and Q5_K share the scales, mins and nibbles (Q5_K adds qh).
template <typename Packed, typename Block>
void pack_group_k45(const WeightRef& w, int64_t g, Packed* out) {
  pack_group<Block>(w, g, QK_K, out, [](Packed& p, const Block& src, int r) {
    p.d[r] = src.d;
    p.dmin[r] = src.dmin;
    for (int s = 0; s < 8; ++s) {
      int sc = 0, m = 0;
      quant::scale_min_k4(s, src.scales, &sc, &m);
      p.sc[s][r] = static_cast<uint8_t>(sc);
      p.m[s / 2][r][s % 2] = static_cast<uint8_t>(m);
    }
    for (int j = 0; j < 4; ++j)
      for (int k = 0; k < 8; ++k) std::memcpy(p.q[j][k][r], src.qs + 32 * j + 4 * k, 4);
    if constexpr (std::is_same_v<Block, BlockQ5_K>)
      for (int k = 0; k < 8; ++k) std::memcpy(p.qh[k][r], src.qh + 4 * k, 4);
  });
}

void pack_group_q2k(const WeightRef& w, int64_t g, RepackedQ2K* out) {
  pack_group<BlockQ2_K>(w, g, QK_K, out, [](RepackedQ2K& p, const BlockQ2_K& src, int r) {
    p.d[r] = src.d;
    p.dmin[r] = src.dmin;
    for (int s = 0; s < 16; ++s) p.sm[s][r] = src.scales[s];
    for (int h = 0; h < 2; ++h)
      for (int c = 0; c < 8; ++c) std::memcpy(p.qs[h][c][r], src.qs + 32 * h + 4 * c, 4);
  });
}

void pack_group_q3k(const WeightRef& w, int64_t g, RepackedQ3K* out) {
  pack_group<BlockQ3_K>(w, g, QK_K, out, [](RepackedQ3K& p, const BlockQ3_K& src, int r) {
    p.d[r] = src.d;
    p.pad[r] = p.pad[r + 8] = 0;
    for (int s = 0; s < 16; ++s) p.sc[s][r] = static_cast<int8_t>(quant::q3_k_scale(src.scales, s));
    for (int c = 0; c < 8; ++c) {
      std::memcpy(p.hm[c][r], src.hmask + 4 * c, 4);
      for (int h = 0; h < 2; ++h) std::memcpy(p.qs[h][c][r], src.qs + 32 * h + 4 * c, 4);
    }
  });
}

void pack_group_q6k(const WeightRef& w, int64_t g, RepackedQ6K* out) {
  pack_group<BlockQ6_K>(w, g, QK_K, out, [](RepackedQ6K& p, const BlockQ6_K& src, int r) {
    p.d[r] = src.d;
    p.pad[r] = p.pad[r + 8] = 0;
    for (int s = 0; s < 16; ++s) p.sc[s][r] = src.scales[s];
    for (int h = 0; h < 2; ++h)
      for (int c = 0; c < 8; ++c) {
        std::memcpy(p.q[h][c][0][r], src.ql + 64 * h + 4 * c, 4);
        std::memcpy(p.q[h][c][1][r], src.ql + 64 * h + 32 + 4 * c, 4);
        std::memcpy(p.q[h][c][2][r], src.qh + 32 * h + 4 * c, 4);
      }
  });
}

// K-quant tiles sit in the table by type, Q2_K first.
PackedFormat k_format(const KernelTable& kt, DType t, size_t group_block) {
  const int i = static_cast<int>(t) - static_cast<int>(DType::Q2_K);
  return {QK_K, group_block, kt.packed_k.rows8[i], kt.packed_k.rows16[i], false};
}

}  // namespace

PackedFormat packed_format(const KernelTable& kt, DType t) {
  switch (t) {
    // Block sums: the VNNI kernels' offset correction (an AVX2 level has no sums: its Q8_0
    // kernel multiplies signed bytes, and it has no Q4_0 tiles).
    case DType::Q8_0: return {32, sizeof(RepackedQ8), kt.packed_q8_0_8, kt.packed_q8_0_16, kt.q8_0_block_sums != nullptr};
    case DType::Q4_0: return {32, sizeof(RepackedQ4), kt.packed_q4_0_8, kt.packed_q4_0_16, kt.q8_0_block_sums != nullptr};
    case DType::Q2_K: return k_format(kt, t, sizeof(RepackedQ2K));
    case DType::Q3_K: return k_format(kt, t, sizeof(RepackedQ3K));
    case DType::Q4_K: return k_format(kt, t, sizeof(RepackedQ4K));
    case DType::Q5_K: return k_format(kt, t, sizeof(RepackedQ5K));
    case DType::Q6_K: return k_format(kt, t, sizeof(RepackedQ6K));
    default: return {};
  }
}

bool can_repack(const WeightRef& w) {
  const PackedFormat f = packed_format(active_kernels(), w.type);
  return f.k8 != nullptr && w.n_out % kPackRows == 0 && w.n_in % f.block == 0 && w.n_in > 0;
}

void repack_weight(WeightRef& w, AlignedBuffer<uint8_t>& out, ThreadPool& pool, bool release_source) {
  const PackedFormat f = packed_format(active_kernels(), w.type);
  const int64_t groups = w.n_out / kPackRows;
  const size_t group_bytes = f.group_block * static_cast<size_t>(w.n_in / f.block);
  out.resize(group_bytes * static_cast<size_t>(groups));
  // Slices of about 32 MiB of source rows, each released once repacked: a large matrix (a tied
  // 131k-row output) is never resident twice (Ministral 3 Q8_0: peak RSS 366 MiB over the file).
  const size_t src_group_bytes = w.row_stride * kPackRows;
  const int64_t slice = std::max<int64_t>(1, static_cast<int64_t>((size_t{32} << 20) / src_group_bytes));
  for (int64_t s0 = 0; s0 < groups; s0 += slice) {
    const int64_t s1 = std::min(groups, s0 + slice);
    pool.parallel_for(s1 - s0, [&](int64_t g0, int64_t g1, int) {
      for (int64_t g = s0 + g0; g < s0 + g1; ++g) {
        uint8_t* dst = out.data() + static_cast<size_t>(g) * group_bytes;
        switch (w.type) {
          case DType::Q8_0: pack_group_q8(w, g, reinterpret_cast<RepackedQ8*>(dst)); break;
          case DType::Q4_0: pack_group_q4(w, g, reinterpret_cast<RepackedQ4*>(dst)); break;
          case DType::Q2_K: pack_group_q2k(w, g, reinterpret_cast<RepackedQ2K*>(dst)); break;
          case DType::Q3_K: pack_group_q3k(w, g, reinterpret_cast<RepackedQ3K*>(dst)); break;
          case DType::Q4_K: pack_group_k45<RepackedQ4K, BlockQ4_K>(w, g, reinterpret_cast<RepackedQ4K*>(dst)); break;
          case DType::Q5_K: pack_group_k45<RepackedQ5K, BlockQ5_K>(w, g, reinterpret_cast<RepackedQ5K*>(dst)); break;
          default: pack_group_q6k(w, g, reinterpret_cast<RepackedQ6K*>(dst)); break;
        }
      }
    });
    if (release_source) release_mapped_pages(w.row(s0 * kPackRows), static_cast<size_t>(s1 - s0) * src_group_bytes);
  }
  w.packed = out.data();
}

}  // namespace pocket::kernels
