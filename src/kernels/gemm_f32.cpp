// Blocked GEMM drivers (see gemm_f32.h). Float path: work items are runs of 16-output weight
// panels, handed out dynamically; an item packs its panels once (all input slices), then sweeps
// them over blocks of 192 tokens, 6 tokens per micro-kernel call. The int8 Q8_0 path has the
// same structure with 32-output panels and 4-token calls.
#include "kernels/gemm_f32.h"

#include <algorithm>
#include <atomic>

#include "kernels/dispatch.h"
#include "quant/blocks.h"

namespace pocket::kernels {
namespace {

constexpr int64_t kMr = 6;     // tokens per micro-kernel call
constexpr int64_t kNr = 16;    // outputs per panel
constexpr int64_t kKc = 256;   // inputs per panel slice: a multiple of every block size (32, 256)
constexpr int64_t kMc = 192;   // tokens per block: their 256-wide input slice (192 KiB) stays in L2

std::atomic<bool> g_no_int8{false};

int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

// The last panel of an output count that is not a multiple of the panel width: the tile was
// computed into `t` (rows x width); only its first nr columns exist in c (= or += by acc).
void store_partial_tile(const float* t, int64_t width, int rows, int64_t nr, float* c, int64_t ldc, bool acc) {
  for (int r = 0; r < rows; ++r)
    for (int64_t j = 0; j < nr; ++j) c[r * ldc + j] = (acc ? c[r * ldc + j] : 0.0f) + t[r * width + j];
}

// bias[n0, n1) added to output rows [m0, m1) once their last slice is in: an item's outputs.
void add_bias(void (*add)(float*, const float*, int64_t), const float* bias, float* y, int64_t y_stride, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
  for (int64_t m = m0; m < m1; ++m) add(y + m * y_stride + n0, bias + n0, n1 - n0);
}

// Q8_0 weights through int8 products (see gemm_f32.h). Same item structure as the float path:
// runs of 32-output panels over all tokens, 4 tokens per micro-kernel call, 512-input slices.
void gemm_q8_0_int8(const KernelTable& kt, const WeightRef& w, const float* x, int64_t x_stride, int64_t M, float* y,
                    int64_t y_stride, const float* bias, GemmF32Scratch& scratch, ThreadPool& pool) {
  constexpr int64_t kTileM = 4, kTileN = kQ8PanelWidth, kSliceBlocks = 16;
  const int64_t K = w.n_in, N = w.n_out, nb = K / QK8_0;
  const int nth = pool.size();
  // Activation rows padded so that rows are not a multiple of 4 KiB apart (L1 set conflicts
  // between the 4 rows a micro-kernel reads).
  const int64_t lda = round_up(K, 64) + 64, ldd = round_up(nb, 16) + 16;
  const int64_t n_panels = (N + kTileN - 1) / kTileN;
  const int64_t per_item = std::clamp<int64_t>(n_panels / (8 * static_cast<int64_t>(nth)), 1, 8);
  const int64_t n_items = (n_panels + per_item - 1) / per_item;
  const int64_t panel_bytes = nb * kQ8PanelBlockBytes;
  const int64_t tmp_bytes = round_up(static_cast<int64_t>(row_bytes(DType::Q8_0, K)), 64);
  const int64_t per_thread = per_item * panel_bytes + tmp_bytes;
  const size_t need = static_cast<size_t>(M * lda + per_thread * nth);
  if (scratch.q8.size() < need) scratch.q8.resize(need);
  if (scratch.q8_scales.size() < static_cast<size_t>(M * ldd)) scratch.q8_scales.resize(static_cast<size_t>(M * ldd));
  uint8_t* qa = scratch.q8.data();
  float* da = scratch.q8_scales.data();
  uint8_t* thread_base = qa + M * lda;

  const QuantizeActFn quantize = type_kernels(kt, DType::Q8_0).quantize_act;
  pool.parallel_for(M, [&](int64_t t0, int64_t t1, int ith) {
    uint8_t* blocks = thread_base + ith * per_thread + per_item * panel_bytes;
    for (int64_t t = t0; t < t1; ++t) {
      quantize(x + t * x_stride, blocks, K);
      kt.q8_split_act(blocks, K, qa + t * lda, da + t * ldd);
    }
  });

  const auto add = kt.ops.add;
  std::atomic<int64_t> next{0};
  pool.run([&](int ith, int) {
    uint8_t* packed = thread_base + ith * per_thread;
    for (int64_t it = next.fetch_add(1); it < n_items; it = next.fetch_add(1)) {
      const int64_t p0 = it * per_item, np = std::min(n_panels, p0 + per_item) - p0;
      for (int64_t pi = 0; pi < np; ++pi) {
        const int64_t n0 = (p0 + pi) * kTileN;
        kt.q8_pack(w.row(n0), w.row_stride, static_cast<int>(std::min(kTileN, N - n0)), 0, nb,
                   packed + pi * panel_bytes);
      }
      for (int64_t m0 = 0; m0 < M; m0 += kMc) {
        const int64_t m1 = std::min(M, m0 + kMc);
        for (int64_t b0 = 0; b0 < nb; b0 += kSliceBlocks) {
          const int64_t n_blk = std::min(kSliceBlocks, nb - b0);
          const bool acc = b0 > 0;
          for (int64_t m = m0; m < m1; m += kTileM) {
            const int rows = static_cast<int>(std::min(kTileM, m1 - m));
            const uint8_t* a = qa + m * lda + b0 * QK8_0;
            const float* s = da + m * ldd + b0;
            for (int64_t pi = 0; pi < np; ++pi) {
              const uint8_t* panel = packed + pi * panel_bytes + b0 * kQ8PanelBlockBytes;
              const int64_t n0 = (p0 + pi) * kTileN;
              const int64_t nr = std::min(kTileN, N - n0);
              float* c = y + m * y_stride + n0;
              if (nr == kTileN) {
                kt.q8_tile(rows, n_blk, a, lda, s, ldd, panel, c, y_stride, acc);
              } else {
                alignas(64) float t[kTileM * kTileN];
                kt.q8_tile(rows, n_blk, a, lda, s, ldd, panel, t, kTileN, false);
                store_partial_tile(t, kTileN, rows, nr, c, y_stride, acc);
              }
            }
          }
        }
        if (bias) add_bias(add, bias, y, y_stride, m0, m1, p0 * kTileN, std::min(N, (p0 + np) * kTileN));
      }
    }
  });
}

// F16 / BF16 weights through BF16 dot products (see gemm_f32.h). The activations are rounded
// to BF16 once, up front; then the float path's structure with 32-output panels, 8-token calls
// and 256-input slices.
void gemm_bf16(const KernelTable& kt, const WeightRef& w, const float* x, int64_t x_stride, int64_t M, float* y,
               int64_t y_stride, const float* bias, GemmF32Scratch& scratch, ThreadPool& pool) {
  constexpr int64_t kTileM = 8, kTileN = kBf16PanelWidth, kSlice = kBf16SliceMax;
  const int64_t K = w.n_in, N = w.n_out;
  const int nth = pool.size();
  // Rows padded so that they are not a multiple of 4 KiB apart (L1 set conflicts between the 8
  // rows a micro-kernel reads).
  const int64_t lda = round_up(K, 64) + 32;
  const int64_t n_panels = (N + kTileN - 1) / kTileN;
  const int64_t n_slices = (K + kSlice - 1) / kSlice;
  const int64_t per_item = std::clamp<int64_t>(n_panels / (8 * static_cast<int64_t>(nth)), 1, 8);
  const int64_t n_items = (n_panels + per_item - 1) / per_item;
  const int64_t slice_elems = kSlice * kTileN;  // BF16 values of one panel slice
  const int64_t per_thread = n_slices * per_item * slice_elems;
  const size_t need = static_cast<size_t>(M * lda + per_thread * nth);
  if (scratch.bf16.size() < need) scratch.bf16.resize(need);
  uint16_t* xa = scratch.bf16.data();
  uint16_t* thread_base = xa + M * lda;

  pool.parallel_for(M, [&](int64_t t0, int64_t t1, int) {
    for (int64_t t = t0; t < t1; ++t) kt.bf16_act(x + t * x_stride, xa + t * lda, K);
  });

  const auto add = kt.ops.add;
  std::atomic<int64_t> next{0};
  pool.run([&](int ith, int) {
    uint16_t* packed = thread_base + ith * per_thread;
    auto panel = [&](int64_t slice, int64_t pi) { return packed + (slice * per_item + pi) * slice_elems; };
    for (int64_t it = next.fetch_add(1); it < n_items; it = next.fetch_add(1)) {
      const int64_t p0 = it * per_item, np = std::min(n_panels, p0 + per_item) - p0;
      for (int64_t pi = 0; pi < np; ++pi) {
        const int64_t n0 = (p0 + pi) * kTileN;
        const int nr = static_cast<int>(std::min(kTileN, N - n0));
        kt.bf16_pack(w.type, w.row(n0), w.row_stride, nr, K, panel(0, pi), per_item * slice_elems);
      }
      for (int64_t m0 = 0; m0 < M; m0 += kMc) {
        const int64_t m1 = std::min(M, m0 + kMc);
        for (int64_t slice = 0; slice < n_slices; ++slice) {
          const int64_t k0 = slice * kSlice, n_pairs = std::min(kSlice, K - k0) / 2;
          const bool acc = slice > 0;
          for (int64_t m = m0; m < m1; m += kTileM) {
            const int rows = static_cast<int>(std::min(kTileM, m1 - m));
            const uint16_t* a = xa + m * lda + k0;
            for (int64_t pi = 0; pi < np; ++pi) {
              const int64_t n0 = (p0 + pi) * kTileN;
              const int64_t nr = std::min(kTileN, N - n0);
              float* c = y + m * y_stride + n0;
              if (nr == kTileN) {
                kt.bf16_tile(rows, n_pairs, a, lda, panel(slice, pi), c, y_stride, acc);
              } else {
                alignas(64) float t[kTileM * kTileN];
                kt.bf16_tile(rows, n_pairs, a, lda, panel(slice, pi), t, kTileN, false);
                store_partial_tile(t, kTileN, rows, nr, c, y_stride, acc);
              }
            }
          }
        }
        if (bias) add_bias(add, bias, y, y_stride, m0, m1, p0 * kTileN, std::min(N, (p0 + np) * kTileN));
      }
    }
  });
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

bool gemm_f32_is_simd() { return active_kernels().gemm_f32_tile != nullptr; }
namespace {
bool takes_int8(const KernelTable& kt) { return kt.gemm_f32_tile && kt.q8_tile && !g_no_int8.load(); }
}  // namespace

bool gemm_f32_q8_is_int8() { return takes_int8(active_kernels()); }
void gemm_f32_disable_int8(bool on) { g_no_int8.store(on); }

namespace {
bool takes_bf16(const KernelTable& kt, const WeightRef& w) {
  return kt.gemm_f32_tile && kt.bf16_tile && vision_bf16_allowed() && (w.type == DType::F16 || w.type == DType::BF16) &&
         w.n_in % 2 == 0;
}
}  // namespace

bool gemm_f32_has_bf16() { return active_kernels().bf16_tile != nullptr && vision_bf16_allowed(); }

void gemm_f32(const WeightRef& w, const float* x, int64_t x_stride, int64_t n_tokens, float* y, int64_t y_stride,
              const float* bias, GemmF32Scratch& scratch, ThreadPool& pool) {
  if (n_tokens <= 0) return;
  const int64_t M = n_tokens, N = w.n_out, K = w.n_in;
  const KernelTable& kt = active_kernels();
  if (!kt.gemm_f32_tile) {
    matmul(w, x, x_stride, n_tokens, y, y_stride, scratch.fallback, pool);
    if (bias) {
      const auto add = kt.ops.add;
      pool.parallel_for(M, [&](int64_t b, int64_t e, int) {
        for (int64_t t = b; t < e; ++t) add(y + t * y_stride, bias, N);
      });
    }
    return;
  }
  if (w.type == DType::Q8_0 && takes_int8(kt))
    return gemm_q8_0_int8(kt, w, x, x_stride, n_tokens, y, y_stride, bias, scratch, pool);
  if (takes_bf16(kt, w)) return gemm_bf16(kt, w, x, x_stride, n_tokens, y, y_stride, bias, scratch, pool);

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
  const auto add = kt.ops.add;

  std::atomic<int64_t> next{0};
  pool.run([&](int ith, int) {
    float* packed = scratch.panels.data() + ith * per_thread;
    float* tmp = packed + n_slices * per_item * kKc * kNr;
    for (int64_t it = next.fetch_add(1); it < n_items; it = next.fetch_add(1)) {
      const int64_t p0 = it * per_item, np = std::min(n_panels, p0 + per_item) - p0;
      auto panel = [&](int64_t slice, int64_t pi) { return packed + (slice * per_item + pi) * kKc * kNr; };
      // Panel by panel, slices in order: each weight row is read front to back.
      for (int64_t pi = 0; pi < np; ++pi) {
        const int64_t n0 = (p0 + pi) * kNr;
        const int nr = static_cast<int>(std::min(kNr, N - n0));
        for (int64_t slice = 0; slice < n_slices; ++slice) {
          const int64_t k0 = slice * kKc, kc = std::min(kKc, K - k0);
          float* dst = panel(slice, pi);
          if (!kt.gemm_f32_pack || !kt.gemm_f32_pack(w.type, w.row(n0), w.row_stride, nr, k0, kc, dst))
            pack_generic(w, n0, nr, k0, kc, dst, tmp);
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
                kt.gemm_f32_tile(rows, kc, a, x_stride, b, c, y_stride, acc);
              } else {
                // Last panel of an output count that is not a multiple of 16: only nr columns exist.
                alignas(32) float t[kMr * kNr];
                kt.gemm_f32_tile(rows, kc, a, x_stride, b, t, kNr, false);
                store_partial_tile(t, kNr, rows, nr, c, y_stride, acc);
              }
            }
          }
        }
        if (bias) add_bias(add, bias, y, y_stride, m0, m1, p0 * kNr, std::min(N, (p0 + np) * kNr));
      }
    }
  });
}

}  // namespace pocket::kernels
