// Threaded matrix products over the row dot-product kernels.
#include "kernels/matmul.h"

#include <algorithm>

#include "kernels/dot.h"

namespace pocket::kernels {

size_t matmul_scratch_bytes(DType weight_type, int64_t n_in, int64_t n_tokens) {
  const TypeKernels& k = type_kernels(weight_type);
  return row_bytes(k.act_type, n_in) * static_cast<size_t>(n_tokens) + 64;
}

void matmul(const WeightRef& w, const float* x, int64_t x_stride, int64_t n_tokens, float* y,
            int64_t y_stride, MatmulScratch& scratch, ThreadPool& pool) {
  const TypeKernels& k = type_kernels(w.type);
  const size_t act_row = row_bytes(k.act_type, w.n_in);
  scratch.reserve(act_row * static_cast<size_t>(n_tokens) + 64);
  uint8_t* act = scratch.act.data();

  // Convert activations (one row per token) in parallel.
  pool.parallel_for(n_tokens, [&](int64_t b, int64_t e, int) {
    for (int64_t t = b; t < e; ++t) k.quantize_act(x + t * x_stride, act + t * act_row, w.n_in);
  });

  // Output rows in chunks handed out round-robin by thread; within a chunk every token
  // reuses the weight rows while they are hot in cache.
  constexpr int64_t kRowsPerChunk = 16;
  const int64_t n_chunks = (w.n_out + kRowsPerChunk - 1) / kRowsPerChunk;
  pool.run([&](int ith, int nth) {
    // Contiguous ranges per thread keep the weight stream sequential for the prefetcher.
    const int64_t per = (n_chunks + nth - 1) / nth;
    const int64_t c0 = std::min<int64_t>(n_chunks, ith * per);
    const int64_t c1 = std::min<int64_t>(n_chunks, c0 + per);
    for (int64_t c = c0; c < c1; ++c) {
      const int64_t r0 = c * kRowsPerChunk;
      const int64_t r1 = std::min<int64_t>(w.n_out, r0 + kRowsPerChunk);
      int64_t t = 0;
      if (k.gemm_tile) {
        // Full 2-row x 4-token tiles; leftovers go through the row kernel below.
        const int64_t r_tiled = r0 + ((r1 - r0) / kGemmRows) * kGemmRows;
        for (; t + kGemmTokens <= n_tokens; t += kGemmTokens) {
          const uint8_t* a = act + t * act_row;
          float* yt = y + t * y_stride;
          for (int64_t r = r0; r < r_tiled; r += kGemmRows)
            k.gemm_tile(w.n_in, w.row(r), w.row_stride, a, act_row, yt + r, y_stride);
          for (int64_t tt = 0; tt < kGemmTokens; ++tt)
            for (int64_t r = r_tiled; r < r1; ++r) yt[tt * y_stride + r] = k.vec_dot(w.n_in, w.row(r), a + tt * act_row);
        }
      }
      for (; t < n_tokens; ++t) {
        const uint8_t* a = act + t * act_row;
        float* yt = y + t * y_stride;
        for (int64_t r = r0; r < r1; ++r) yt[r] = k.vec_dot(w.n_in, w.row(r), a);
      }
    }
  });
}

void dequantize_weight_row(const WeightRef& w, int64_t r, float* out) {
  dequantize_row(w.type, w.row(r), out, w.n_in);
}

}  // namespace pocket::kernels
