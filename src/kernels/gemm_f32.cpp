// Blocked float GEMM driver (see gemm_f32.h): work items are runs of 16-output weight panels,
// handed out dynamically; an item packs its panels once (all input slices), then sweeps them
// over blocks of 192 tokens, 6 tokens per micro-kernel call.
#include "kernels/gemm_f32.h"

#include <algorithm>
#include <atomic>

#include "core/cpu.h"
#include "kernels/dot.h"
#include "kernels/ops.h"

namespace pocket::kernels {
namespace {

constexpr int64_t kMr = 6;     // tokens per micro-kernel call
constexpr int64_t kNr = 16;    // outputs per panel
constexpr int64_t kKc = 256;   // inputs per panel slice: a multiple of every block size (32, 256)
constexpr int64_t kMc = 192;   // tokens per block: their 256-wide input slice (192 KiB) stays in L2

bool have_simd() {
  const CpuFeatures& c = cpu_features();
  return c.avx2 && c.fma && c.f16c;
}

// Any type: dequantize the slice of each row, then scatter into the panel.
void pack_generic(const WeightRef& w, int64_t r0, int n_rows, int64_t k0, int64_t kc, float* panel, float* tmp) {
  const size_t off = row_bytes(w.type, k0);
  for (int j = 0; j < kNr; ++j) {
    if (j < n_rows) {
      dequantize_row(w.type, w.row(r0 + j) + off, tmp, kc);
      for (int64_t k = 0; k < kc; ++k) panel[kNr * k + j] = tmp[k];
    } else {
      for (int64_t k = 0; k < kc; ++k) panel[kNr * k + j] = 0.0f;
    }
  }
}

}  // namespace

bool gemm_f32_is_simd() { return !using_reference_kernels() && have_simd(); }

void gemm_f32(const WeightRef& w, const float* x, int64_t x_stride, int64_t n_tokens, float* y, int64_t y_stride,
              const float* bias, GemmF32Scratch& scratch, ThreadPool& pool) {
  if (n_tokens <= 0) return;
  const int64_t M = n_tokens, N = w.n_out, K = w.n_in;
  if (!gemm_f32_is_simd()) {
    matmul(w, x, x_stride, n_tokens, y, y_stride, scratch.fallback, pool);
    if (bias) {
      const auto add = ops().add;
      pool.parallel_for(M, [&](int64_t b, int64_t e, int) {
        for (int64_t t = b; t < e; ++t) add(y + t * y_stride, bias, N);
      });
    }
    return;
  }

  const int nth = pool.size();
  const int64_t n_panels = (N + kNr - 1) / kNr;
  const int64_t n_slices = (K + kKc - 1) / kKc;
  // Work items are runs of output panels over all tokens, so every weight element is converted
  // exactly once; enough of them for dynamic balancing (threads may be shared with other
  // processes), at most 16 panels (256 outputs) each so an item's output block stays in L2.
  const int64_t want_items = 8 * static_cast<int64_t>(nth);
  const int64_t per_item = std::clamp<int64_t>(n_panels / want_items, 1, 16);
  const int64_t n_items = (n_panels + per_item - 1) / per_item;

  // Per thread: the item's packed panels [slice][panel][kKc][16], then one dequantized row
  // slice for the generic packer.
  const int64_t per_thread = n_slices * per_item * kKc * kNr + kKc;
  const size_t need = static_cast<size_t>(per_thread * nth);
  if (scratch.panels.size() < need) scratch.panels.resize(need);
  const auto add = ops().add;

  std::atomic<int64_t> next{0};
  pool.run([&](int ith, int) {
    float* packed = scratch.panels.data() + ith * per_thread;
    float* tmp = packed + n_slices * per_item * kKc * kNr;
    for (int64_t it = next.fetch_add(1); it < n_items; it = next.fetch_add(1)) {
      const int64_t p0 = it * per_item, np = std::min(n_panels, p0 + per_item) - p0;
      auto panel = [&](int64_t slice, int64_t pi) { return packed + (slice * per_item + pi) * kKc * kNr; };
      for (int64_t slice = 0; slice < n_slices; ++slice) {
        const int64_t k0 = slice * kKc, kc = std::min(kKc, K - k0);
        for (int64_t pi = 0; pi < np; ++pi) {
          const int64_t n0 = (p0 + pi) * kNr;
          const int nr = static_cast<int>(std::min(kNr, N - n0));
          if (!avx2::gemm_f32_pack(w.type, w.row(n0), w.row_stride, nr, k0, kc, panel(slice, pi)))
            pack_generic(w, n0, nr, k0, kc, panel(slice, pi), tmp);
        }
      }
      // Token blocks of kMc: their output block (<= 192 KiB) and input slice stay in L2 while
      // the input slices and panels go by.
      for (int64_t m0 = 0; m0 < M; m0 += kMc) {
        const int64_t m1 = std::min(M, m0 + kMc);
        for (int64_t slice = 0; slice < n_slices; ++slice) {
          const int64_t k0 = slice * kKc, kc = std::min(kKc, K - k0);
          const bool acc = slice > 0;
          // The 6 token rows of a step stay in L1 while the item's panels stream by (one
          // sequential read each): rows read with a stride were the bottleneck the other way.
          for (int64_t m = m0; m < m1; m += kMr) {
            const int rows = static_cast<int>(std::min(kMr, m1 - m));
            const float* a = x + m * x_stride + k0;
            for (int64_t pi = 0; pi < np; ++pi) {
              const float* b = panel(slice, pi);
              const int64_t n0 = (p0 + pi) * kNr;
              const int nr = static_cast<int>(std::min(kNr, N - n0));
              float* c = y + m * y_stride + n0;
              if (nr == kNr) {
                avx2::gemm_f32_tile(rows, kc, a, x_stride, b, c, y_stride, acc);
              } else {
                // Last panel of an output count that is not a multiple of 16: only nr columns exist.
                alignas(32) float t[kMr * kNr];
                avx2::gemm_f32_tile(rows, kc, a, x_stride, b, t, kNr, false);
                for (int r = 0; r < rows; ++r)
                  for (int j = 0; j < nr; ++j) c[r * y_stride + j] = (acc ? c[r * y_stride + j] : 0.0f) + t[r * kNr + j];
              }
            }
          }
        }
        if (bias) {
          const int64_t n0 = p0 * kNr, n1 = std::min(N, (p0 + np) * kNr);
          for (int64_t m = m0; m < m1; ++m) add(y + m * y_stride + n0, bias + n0, n1 - n0);
        }
      }
    }
  });
}

}  // namespace pocket::kernels
