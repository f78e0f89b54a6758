// Threaded matrix products over the row dot-product kernels.
#include "kernels/matmul.h"

#include <algorithm>
#include <stdexcept>

#include "kernels/dot.h"

namespace pocket::kernels {

size_t matmul_scratch_bytes(DType weight_type, int64_t n_in, int64_t n_tokens) {
  const TypeKernels& k = type_kernels(weight_type);
  return row_bytes(k.act_type, n_in) * static_cast<size_t>(n_tokens) + 64;
}

namespace {

constexpr int64_t kRowsPerChunk = 16;
constexpr int kMaxJobs = 4;

// Rows [r0, r1) of one product for all tokens: 2x4 tiles where the type has a tile kernel,
// row dot products for the rest.
void run_rows(const TypeKernels& k, const WeightRef& w, const uint8_t* act, size_t act_row, int64_t n_tokens, float* y,
              int64_t y_stride, int64_t r0, int64_t r1) {
  int64_t t = 0;
  if (k.gemm_tile) {
    const int64_t r_tiled = r0 + ((r1 - r0) / kGemmRows) * kGemmRows;
    for (; t + kGemmTokens <= n_tokens; t += kGemmTokens) {
      const uint8_t* a = act + t * act_row;
      float* yt = y + t * y_stride;
      for (int64_t r = r0; r < r_tiled; r += kGemmRows) k.gemm_tile(w.n_in, w.row(r), w.row_stride, a, act_row, yt + r, y_stride);
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

struct Prepared {
  const TypeKernels* k;
  const uint8_t* act;
  size_t act_row;
  int64_t first_chunk;  // global chunk index where this job starts
};

}  // namespace

void matmul_multi(const MatmulJob* jobs, int n_jobs, int64_t n_tokens, MatmulScratch& scratch, ThreadPool& pool) {
  if (n_jobs < 1 || n_jobs > kMaxJobs) throw std::invalid_argument("matmul_multi: 1..4 jobs");
  Prepared prep[kMaxJobs];
  // Activation buffers: one per distinct (input pointer, activation format).
  size_t offsets[kMaxJobs];
  size_t total = 0;
  int owner[kMaxJobs];
  for (int j = 0; j < n_jobs; ++j) {
    prep[j].k = &type_kernels(jobs[j].w.type);
    prep[j].act_row = row_bytes(prep[j].k->act_type, jobs[j].w.n_in);
    owner[j] = j;
    for (int i = 0; i < j; ++i)
      if (jobs[i].x == jobs[j].x && prep[i].k->act_type == prep[j].k->act_type && jobs[i].w.n_in == jobs[j].w.n_in) {
        owner[j] = owner[i];
        break;
      }
    offsets[j] = total;
    if (owner[j] == j) total += (prep[j].act_row * static_cast<size_t>(n_tokens) + 63) / 64 * 64;
  }
  scratch.reserve(total + 64);
  uint8_t* base = scratch.act.data();
  int64_t n_chunks = 0;
  for (int j = 0; j < n_jobs; ++j) {
    prep[j].act = base + offsets[owner[j]];
    prep[j].first_chunk = n_chunks;
    n_chunks += (jobs[j].w.n_out + kRowsPerChunk - 1) / kRowsPerChunk;
  }

  auto convert = [&](int j, int64_t t0, int64_t t1) {
    uint8_t* dst = const_cast<uint8_t*>(prep[j].act);
    for (int64_t t = t0; t < t1; ++t)
      prep[j].k->quantize_act(jobs[j].x + t * jobs[j].w.n_in, dst + t * prep[j].act_row, jobs[j].w.n_in);
  };
  // A single token's conversion is too small to be worth waking the workers for.
  if (n_tokens < 2 * pool.size()) {
    for (int j = 0; j < n_jobs; ++j)
      if (owner[j] == j) convert(j, 0, n_tokens);
  } else {
    pool.parallel_for(n_tokens, [&](int64_t t0, int64_t t1, int) {
      for (int j = 0; j < n_jobs; ++j)
        if (owner[j] == j) convert(j, t0, t1);
    });
  }

  pool.run([&](int ith, int nth) {
    // Contiguous chunk ranges per thread keep each weight stream sequential for the prefetcher.
    const int64_t per = (n_chunks + nth - 1) / nth;
    const int64_t c0 = std::min<int64_t>(n_chunks, ith * per);
    const int64_t c1 = std::min<int64_t>(n_chunks, c0 + per);
    int j = 0;
    for (int64_t c = c0; c < c1; ++c) {
      while (j + 1 < n_jobs && c >= prep[j + 1].first_chunk) ++j;
      const WeightRef& w = jobs[j].w;
      const int64_t r0 = (c - prep[j].first_chunk) * kRowsPerChunk;
      const int64_t r1 = std::min<int64_t>(w.n_out, r0 + kRowsPerChunk);
      run_rows(*prep[j].k, w, prep[j].act, prep[j].act_row, n_tokens, jobs[j].y, w.n_out, r0, r1);
    }
  });
}

void matmul(const WeightRef& w, const float* x, int64_t x_stride, int64_t n_tokens, float* y, int64_t y_stride,
            MatmulScratch& scratch, ThreadPool& pool) {
  const TypeKernels& k = type_kernels(w.type);
  const size_t act_row = row_bytes(k.act_type, w.n_in);
  scratch.reserve(act_row * static_cast<size_t>(n_tokens) + 64);
  uint8_t* act = scratch.act.data();
  if (n_tokens < 2 * pool.size()) {
    for (int64_t t = 0; t < n_tokens; ++t) k.quantize_act(x + t * x_stride, act + t * act_row, w.n_in);
  } else {
    pool.parallel_for(n_tokens, [&](int64_t b, int64_t e, int) {
      for (int64_t t = b; t < e; ++t) k.quantize_act(x + t * x_stride, act + t * act_row, w.n_in);
    });
  }
  const int64_t n_chunks = (w.n_out + kRowsPerChunk - 1) / kRowsPerChunk;
  pool.run([&](int ith, int nth) {
    const int64_t per = (n_chunks + nth - 1) / nth;
    const int64_t c0 = std::min<int64_t>(n_chunks, ith * per);
    const int64_t c1 = std::min<int64_t>(n_chunks, c0 + per);
    for (int64_t c = c0; c < c1; ++c) {
      const int64_t r0 = c * kRowsPerChunk;
      run_rows(k, w, act, act_row, n_tokens, y, y_stride, r0, std::min<int64_t>(w.n_out, r0 + kRowsPerChunk));
    }
  });
}

void dequantize_weight_row(const WeightRef& w, int64_t r, float* out) {
  dequantize_row(w.type, w.row(r), out, w.n_in);
}

}  // namespace pocket::kernels
