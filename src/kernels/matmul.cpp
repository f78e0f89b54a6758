// Threaded matrix products over the row dot-product kernels.
#include "kernels/matmul.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "kernels/dispatch.h"
#include "quant/blocks.h"
#include "kernels/repack.h"

namespace pocket::kernels {

namespace {

constexpr int64_t kRowsPerChunk = 16;
constexpr int kMaxJobs = 4;

// Repacked weights: 8-row groups x up to 4 tokens; `act` holds the type's activation rows and,
// for Q8_0/Q4_0, `asum` their block sums ([n_tokens, n_in / 32]). r0 and r1 are multiples of 8
// (chunks are 16 rows; n_out % 8 == 0).
void run_rows_packed(const PackedFormat& f, const WeightRef& w, const uint8_t* act, size_t act_row,
                     const int32_t* asum, int64_t n_tokens, float* y, int64_t y_stride, int64_t r0, int64_t r1) {
  const int64_t nb = w.n_in / f.block;
  const size_t group_bytes = f.group_block * static_cast<size_t>(nb);
  for (int64_t t = 0; t < n_tokens; t += 4) {
    const int nt = static_cast<int>(std::min<int64_t>(4, n_tokens - t));
    const int32_t* at = asum ? asum + t * nb : nullptr;
    int64_t r = r0;
    // 16-row tiles and 8-row tiles give bit-identical rows (see gemm_packed_vnni.h). The
    // 16-row tile halves the activation loads, which bound prefill; when every weight is read
    // once (n_tokens <= 4: decode, small server batches) the two interleaved group streams are
    // slower from memory than one sequential stream (2.2B Q4_0 tg 24 -> 10 tok/s measured).
    if (n_tokens > 4 && f.k16)
      for (; r + 2 * kPackRows <= r1; r += 2 * kPackRows)
        f.k16(nb, w.packed + static_cast<size_t>(r / kPackRows) * group_bytes, act + t * act_row, act_row, at, nt,
              y + t * y_stride + r, y_stride);
    for (; r < r1; r += kPackRows)
      f.k8(nb, w.packed + static_cast<size_t>(r / kPackRows) * group_bytes, act + t * act_row, act_row, at, nt,
           y + t * y_stride + r, y_stride);
  }
}

void run_rows(const TypeKernels& k, const WeightRef& w, const uint8_t* act, size_t act_row, int64_t n_tokens, float* y,
              int64_t y_stride, int64_t r0, int64_t r1, bool row_invariant) {
  int64_t t = 0;
  if (k.gemm_tile && !row_invariant) {
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
  PackedFormat fmt;      // the repacked layout's kernels (fmt.k8 null: the file's layout)
  const uint8_t* act;
  const int32_t* asum;   // [n_tokens, n_in / 32] block sums of act, for repacked weights
  size_t act_row;
  int64_t first_chunk;  // global chunk index where this job starts
};

}  // namespace

void matmul_multi(const MatmulJob* jobs, int n_jobs, int64_t n_tokens, MatmulScratch& scratch, ThreadPool& pool) {
  if (n_jobs < 1 || n_jobs > kMaxJobs) throw std::invalid_argument("matmul_multi: 1..4 jobs");
  const KernelTable& kt = active_kernels();
  Prepared prep[kMaxJobs];
  // Activation buffers: one per distinct (input pointer, activation format), plus the block
  // sums when a repacked weight reads it.
  size_t offsets[kMaxJobs], offsets_sum[kMaxJobs];
  size_t total = 0;
  int owner[kMaxJobs];
  bool need_sum[kMaxJobs] = {};
  for (int j = 0; j < n_jobs; ++j) {
    prep[j].k = &type_kernels(kt, jobs[j].w.type);
    prep[j].act_row = row_bytes(prep[j].k->act_type, jobs[j].w.n_in);
    // Repacked weights run only where the level has their kernels (their layout is its own).
    prep[j].fmt = jobs[j].w.packed ? packed_format(kt, jobs[j].w.type) : PackedFormat{};
    owner[j] = j;
    for (int i = 0; i < j; ++i)
      if (jobs[i].x == jobs[j].x && prep[i].k->act_type == prep[j].k->act_type && jobs[i].w.n_in == jobs[j].w.n_in) {
        owner[j] = owner[i];
        break;
      }
    if (prep[j].fmt.k8 && prep[j].fmt.block_sums) need_sum[owner[j]] = true;
  }
  for (int j = 0; j < n_jobs; ++j) {
    if (owner[j] != j) continue;
    const size_t bytes = (prep[j].act_row * static_cast<size_t>(n_tokens) + 63) / 64 * 64;
    offsets[j] = total;
    total += bytes;
    if (need_sum[j]) {
      offsets_sum[j] = total;
      total += (static_cast<size_t>(n_tokens) * static_cast<size_t>(jobs[j].w.n_in / 32) * sizeof(int32_t) + 63) / 64 * 64;
    }
  }
  scratch.reserve(total + 64);
  uint8_t* base = scratch.act.data();
  int64_t n_chunks = 0;
  for (int j = 0; j < n_jobs; ++j) {
    prep[j].act = base + offsets[owner[j]];
    prep[j].asum = need_sum[owner[j]] ? reinterpret_cast<const int32_t*>(base + offsets_sum[owner[j]]) : nullptr;
    prep[j].first_chunk = n_chunks;
    n_chunks += (jobs[j].w.n_out + kRowsPerChunk - 1) / kRowsPerChunk;
  }

  auto convert = [&](int j, int64_t t0, int64_t t1) {
    uint8_t* dst = const_cast<uint8_t*>(prep[j].act);
    for (int64_t t = t0; t < t1; ++t)
      prep[j].k->quantize_act(jobs[j].x + t * jobs[j].w.n_in, dst + t * prep[j].act_row, jobs[j].w.n_in);
    if (need_sum[j]) {
      const int64_t nb = jobs[j].w.n_in / 32;
      for (int64_t t = t0; t < t1; ++t)
        kt.q8_0_block_sums(dst + t * prep[j].act_row, nb, const_cast<int32_t*>(prep[j].asum) + t * nb);
    }
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
      if (prep[j].fmt.k8) {
        run_rows_packed(prep[j].fmt, w, prep[j].act, prep[j].act_row, prep[j].asum, n_tokens, jobs[j].y, w.n_out, r0, r1);
      } else {
        run_rows(*prep[j].k, w, prep[j].act, prep[j].act_row, n_tokens, jobs[j].y, w.n_out, r0, r1,
                 scratch.row_invariant);
      }
    }
  });
}

void matmul(const WeightRef& w, const float* x, int64_t x_stride, int64_t n_tokens, float* y, int64_t y_stride,
            MatmulScratch& scratch, ThreadPool& pool) {
  if (x_stride == w.n_in && y_stride == w.n_out) {
    const MatmulJob job{w, x, y};
    matmul_multi(&job, 1, n_tokens, scratch, pool);
    return;
  }
  WeightRef plain = w;
  plain.packed = nullptr;  // strided rows: the row kernels handle any layout
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
      run_rows(k, plain, act, act_row, n_tokens, y, y_stride, r0, std::min<int64_t>(w.n_out, r0 + kRowsPerChunk),
               scratch.row_invariant);
    }
  });
}

void dequantize_weight_row(const WeightRef& w, int64_t r, float* out) {
  dequantize_row(w.type, w.row(r), out, w.n_in);
}

}  // namespace pocket::kernels
