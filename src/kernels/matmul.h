// Matrix products of a (quantized) weight matrix with a batch of float activations:
// y[t, o] = sum_i W[o, i] * x[t, i]. Activations are first converted to the weight type's
// activation format (kernels/dot.h), then output rows are split across threads.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/aligned.h"
#include "core/thread_pool.h"
#include "quant/types.h"

namespace pocket::kernels {

// A 2-D weight matrix in any supported type; rows are contiguous (ggml ne[0] = n_in).
struct WeightRef {
  DType type = DType::F32;
  const uint8_t* data = nullptr;
  int64_t n_in = 0;    // ne[0]: elements per row
  int64_t n_out = 0;   // ne[1]: rows
  size_t row_stride = 0;  // bytes between rows
  // Optional repacked copy (kernels/repack.h) used by the VNNI kernels instead of `data`.
  const uint8_t* packed = nullptr;
  const uint8_t* row(int64_t r) const { return data + static_cast<size_t>(r) * row_stride; }
  bool valid() const { return data != nullptr; }
};

// Scratch space for converted activations; grows on first use and is then reused,
// so steady-state decoding does not allocate.
struct MatmulScratch {
  AlignedBuffer<uint8_t> act;
  // Every token through the same per-token kernel, so a token's outputs are bit-identical
  // whatever else shares the call (continuous batching). Repacked weights always are; the
  // other types would otherwise take 2x4 tiles for some tokens, whose float sums may differ
  // in the last bits from the row kernel's. Costs little: a chunk's 16 weight rows stay in
  // cache across the tokens.
  bool row_invariant = false;
  void reserve(size_t bytes) {
    if (act.size() < bytes) act.resize(bytes);
  }
};


// x: [n_tokens, n_in] (row stride x_stride floats), y: [n_tokens, n_out] (row stride y_stride).
void matmul(const WeightRef& w, const float* x, int64_t x_stride, int64_t n_tokens, float* y,
            int64_t y_stride, MatmulScratch& scratch, ThreadPool& pool);

// Several products over the same tokens in one threaded dispatch (e.g. Q, K and V from the
// same normed input): activations are converted once per distinct (input, format) and the
// row work of all jobs is split across threads together, so a decode step pays one
// synchronization instead of one per matrix.
struct MatmulJob {
  WeightRef w;
  const float* x = nullptr;  // [n_tokens, w.n_in], contiguous rows
  float* y = nullptr;        // [n_tokens, w.n_out], contiguous rows
};
void matmul_multi(const MatmulJob* jobs, int n_jobs, int64_t n_tokens, MatmulScratch& scratch, ThreadPool& pool);

// Same with contiguous rows.
inline void matmul(const WeightRef& w, const float* x, int64_t n_tokens, float* y, MatmulScratch& scratch,
                   ThreadPool& pool) {
  matmul(w, x, w.n_in, n_tokens, y, w.n_out, scratch, pool);
}

// Copies row `r` of a weight matrix into float (embedding lookup).
void dequantize_weight_row(const WeightRef& w, int64_t r, float* out);

}  // namespace pocket::kernels
