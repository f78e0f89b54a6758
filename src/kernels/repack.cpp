// Repacking Q8_0/Q4_0 matrices into 8-row interleaved groups (see repack.h).
#include "kernels/repack.h"

#include <cstring>

#include "kernels/dispatch.h"
#include "quant/blocks.h"

namespace pocket::kernels {

namespace {

void pack_group_q8(const WeightRef& w, int64_t g, RepackedQ8* out) {
  const int64_t nb = w.n_in / QK8_0;
  for (int64_t b = 0; b < nb; ++b) {
    RepackedQ8& p = out[b];
    for (int r = 0; r < kPackRows; ++r) {
      const BlockQ8_0& src = reinterpret_cast<const BlockQ8_0*>(w.row(g * kPackRows + r))[b];
      p.d[r] = src.d;
      for (int k = 0; k < 8; ++k)
        for (int i = 0; i < 4; ++i) p.q[k][r][i] = static_cast<uint8_t>(src.qs[4 * k + i] + 128);
    }
  }
}

void pack_group_q4(const WeightRef& w, int64_t g, RepackedQ4* out) {
  const int64_t nb = w.n_in / QK4_0;
  for (int64_t b = 0; b < nb; ++b) {
    RepackedQ4& p = out[b];
    for (int r = 0; r < kPackRows; ++r) {
      const BlockQ4_0& src = reinterpret_cast<const BlockQ4_0*>(w.row(g * kPackRows + r))[b];
      p.d[r] = src.d;
      // Element e < 16 is the low nibble of qs[e], element 16 + e the high nibble: chunk k
      // (elements 4k..4k+3) and chunk k + 4 (16+4k..) share the same source bytes.
      for (int k = 0; k < 4; ++k) std::memcpy(p.q[k][r], src.qs + 4 * k, 4);
    }
  }
}

}  // namespace

bool can_repack(const WeightRef& w) {
  return active_kernels().packed_q8_0_8 != nullptr && (w.type == DType::Q8_0 || w.type == DType::Q4_0) && w.n_out % kPackRows == 0 &&
         w.n_in % 32 == 0 && w.n_in > 0;
}

void repack_weight(WeightRef& w, AlignedBuffer<uint8_t>& out, ThreadPool& pool) {
  const int64_t nb = w.n_in / 32;
  const int64_t groups = w.n_out / kPackRows;
  const size_t block_bytes = w.type == DType::Q8_0 ? sizeof(RepackedQ8) : sizeof(RepackedQ4);
  const size_t group_bytes = block_bytes * static_cast<size_t>(nb);
  out.resize(group_bytes * static_cast<size_t>(groups));
  pool.parallel_for(groups, [&](int64_t g0, int64_t g1, int) {
    for (int64_t g = g0; g < g1; ++g) {
      uint8_t* dst = out.data() + static_cast<size_t>(g) * group_bytes;
      if (w.type == DType::Q8_0) {
        pack_group_q8(w, g, reinterpret_cast<RepackedQ8*>(dst));
      } else {
        pack_group_q4(w, g, reinterpret_cast<RepackedQ4*>(dst));
      }
    }
  });
  w.packed = out.data();
}

}  // namespace pocket::kernels
