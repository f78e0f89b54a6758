// Bidirectional f32 self-attention: scalar reference, the blocked driver around a level's
// micro-kernel (KernelTable::attn_tile_gemm), its BF16 variant (attn_bf16_tiles, on CPUs with
// BF16 dot products), and the choice between them.
#include "kernels/attention_full.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>

#include "kernels/dispatch.h"

namespace pocket::kernels {
namespace {

constexpr int64_t kTile = 16;        // keys per packed K tile (two ymm vectors)
constexpr int64_t kQueryBlock = 48;  // queries per work item (a multiple of kRows)
constexpr int kRows = 6;             // query rows per micro-kernel call

int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

// Work items (head, block of kQueryBlock queries) handed out dynamically: blocks at the end of the
// sequence are shorter, and threads may be shared with other work. body(ith, h, i0, nq).
template <typename Body>
void for_each_query_block(int64_t n, int n_heads, ThreadPool& pool, Body&& body) {
  const int64_t n_qb = (n + kQueryBlock - 1) / kQueryBlock;
  const int64_t n_items = n_qb * n_heads;
  std::atomic<int64_t> next{0};
  pool.run([&](int ith, int) {
    for (int64_t it = next.fetch_add(1); it < n_items; it = next.fetch_add(1)) {
      const int64_t i0 = (it % n_qb) * kQueryBlock;
      body(ith, static_cast<int>(it / n_qb), i0, static_cast<int>(std::min(kQueryBlock, n - i0)));
    }
  });
}

void attention_full_ref(const FullAttentionArgs& a, AlignedBuffer<float>& scratch, ThreadPool& pool) {
  const int64_t n = a.n_tokens;
  const int hd = a.head_dim;
  if (n <= 0 || a.n_heads <= 0 || hd <= 0) return;
  const int64_t per_thread = round_up(n, 16);
  const size_t need = static_cast<size_t>(per_thread * pool.size());
  if (scratch.size() < need) scratch.resize(need);

  const int64_t n_items = n * a.n_heads;  // one (head, query) pair per item
  pool.parallel_for(n_items, [&](int64_t b, int64_t e, int ith) {
    float* s = scratch.data() + ith * per_thread;
    for (int64_t it = b; it < e; ++it) {
      const int64_t h = it / n, i = it % n;
      const float* qi = a.q + i * a.q_stride + h * hd;
      for (int64_t j = 0; j < n; ++j) {
        const float* kj = a.k + j * a.k_stride + h * hd;
        double acc = 0;
        for (int d = 0; d < hd; ++d) acc += static_cast<double>(qi[d]) * kj[d];
        s[j] = static_cast<float>(acc * a.scale);
      }
      ref::kOps.softmax(s, n);
      float* oi = a.out + i * a.out_stride + h * hd;
      for (int d = 0; d < hd; ++d) {
        double acc = 0;
        for (int64_t j = 0; j < n; ++j) acc += static_cast<double>(s[j]) * a.v[j * a.v_stride + h * hd + d];
        oi[d] = static_cast<float>(acc);
      }
    }
  });
}

void attention_full_blocked(const KernelTable& kt, const FullAttentionArgs& a, AlignedBuffer<float>& scratch,
                            ThreadPool& pool) {
  const int64_t n = a.n_tokens;
  const int hd = a.head_dim;
  const int n_heads = a.n_heads;
  if (n <= 0 || n_heads <= 0 || hd <= 0) return;

  // Scratch: packed K and V for all heads, then per thread the score block S [kQueryBlock, lds],
  // the scaled query block [kQueryBlock, head_dim] and the output block [kQueryBlock, hd_pad].
  // Every region starts 64-byte aligned.
  const int64_t n_tiles = (n + kTile - 1) / kTile;
  const int64_t n_pad = n_tiles * kTile;
  const int64_t lds = n_pad + kTile;  // rows of S not 4 KiB apart: avoids cache-set conflicts
  const int64_t head_pack = n_tiles * hd * kTile;  // floats of packed K per head
  const int64_t n_chunks = (hd + kTile - 1) / kTile;
  const int64_t hd_pad = n_chunks * kTile;
  const int64_t head_vpack = n_chunks * n * kTile;  // floats of packed V per head
  const int64_t kpack_size = round_up(head_pack * n_heads, 16);
  const int64_t pack_size = kpack_size + head_vpack * n_heads;
  const int64_t s_size = kQueryBlock * lds;
  const int64_t q_size = round_up(kQueryBlock * hd, 16);
  const int64_t o_size = kQueryBlock * hd_pad;
  const int64_t per_thread = s_size + q_size + o_size;
  const size_t need = static_cast<size_t>(pack_size + per_thread * pool.size());
  if (scratch.size() < need) scratch.resize(need);
  float* kpack = scratch.data();
  float* vpack = kpack + kpack_size;

  // Pack K: tile t of head h is [head_dim][16]; keys past n are zero (their scores are never read).
  pool.parallel_for(n_heads * n_tiles, [&](int64_t b, int64_t e, int) {
    for (int64_t it = b; it < e; ++it) {
      const int64_t h = it / n_tiles, t = it % n_tiles;
      float* dst = kpack + h * head_pack + t * hd * kTile;
      for (int64_t c = 0; c < kTile; ++c) {
        const int64_t j = t * kTile + c;
        if (j < n) {
          const float* kj = a.k + j * a.k_stride + h * hd;
          for (int d = 0; d < hd; ++d) dst[d * kTile + c] = kj[d];
        } else {
          for (int d = 0; d < hd; ++d) dst[d * kTile + c] = 0.0f;
        }
      }
    }
  });
  // Pack V: chunk c of head h is [n][16] holding dims 16c..16c+15 (zero past head_dim).
  pool.parallel_for(n_heads * n_chunks, [&](int64_t b, int64_t e, int) {
    for (int64_t it = b; it < e; ++it) {
      const int64_t h = it / n_chunks, c = it % n_chunks;
      const int64_t d0 = c * kTile, width = std::min<int64_t>(kTile, hd - d0);
      float* dst = vpack + h * head_vpack + c * n * kTile;
      for (int64_t j = 0; j < n; ++j) {
        const float* vj = a.v + j * a.v_stride + h * hd + d0;
        for (int64_t i = 0; i < kTile; ++i) dst[j * kTile + i] = i < width ? vj[i] : 0.0f;
      }
    }
  });

  const auto softmax = kt.ops.softmax;
  for_each_query_block(n, n_heads, pool, [&](int ith, int h, int64_t i0, int nq) {
    float* s = scratch.data() + pack_size + ith * per_thread;
    float* qs = s + s_size;
    float* o = qs + q_size;
    for (int r = 0; r < nq; ++r) {
      const float* qi = a.q + (i0 + r) * a.q_stride + h * hd;
      for (int d = 0; d < hd; ++d) qs[r * hd + d] = qi[d] * a.scale;
    }
    // S = (scale Q) K^T over all keys, softmax per row over the n real keys, O = P V.
    for (int r = 0; r < nq; r += kRows) {
      kt.attn_tile_gemm(qs + r * hd, hd, std::min(kRows, nq - r), hd, kpack + h * head_pack, n_tiles, hd * kTile,
                        s + r * lds, lds);
    }
    for (int r = 0; r < nq; ++r) softmax(s + r * lds, n);
    for (int r = 0; r < nq; r += kRows) {
      kt.attn_tile_gemm(s + r * lds, lds, std::min(kRows, nq - r), n, vpack + h * head_vpack, n_chunks, n * kTile,
                        o + r * hd_pad, hd_pad);
    }
    for (int r = 0; r < nq; ++r) std::memcpy(a.out + (i0 + r) * a.out_stride + h * hd, o + r * hd_pad, sizeof(float) * hd);
  });
}

// The blocked driver with BF16 products (KernelTable::attn_bf16_tiles): Q (scaled), K, the
// probabilities and V are rounded to BF16, scores and outputs are float, the softmax float.
// K tiles are [head_dim/2][16 keys][2], V chunks [n/2][16 dims][2] (pairs of tokens), so both
// products run the same micro-kernel. Needs an even head_dim.
void attention_full_bf16(const KernelTable& kt, const FullAttentionArgs& a, AlignedBuffer<float>& scratch,
                         ThreadPool& pool) {
  constexpr int kBfRows = 8;
  const int64_t n = a.n_tokens;
  const int hd = a.head_dim;
  const int n_heads = a.n_heads;
  const int64_t n_tiles = (n + kTile - 1) / kTile;
  const int64_t lds = n_tiles * kTile + kTile;
  const int64_t hd_pairs = hd / 2, tok_pairs = (n + 1) / 2;
  const int64_t ldp = round_up(2 * tok_pairs, 32) + 32;  // BF16 probability rows, not 4 KiB apart
  const int64_t n_chunks = (hd + kTile - 1) / kTile;
  const int64_t hd_pad = n_chunks * kTile;
  // Sizes in BF16 elements, each region rounded to 32 (64 bytes).
  const int64_t k_head = round_up(n_tiles * hd * kTile, 32);
  const int64_t v_head = round_up(n_chunks * tok_pairs * 2 * kTile, 32);
  const int64_t pack_halves = (k_head + v_head) * n_heads;
  const int64_t q_halves = round_up(kQueryBlock * hd, 32), p_halves = kQueryBlock * ldp, row_halves = round_up(hd, 32);
  // Per thread, floats: S [kQueryBlock][lds], O [kQueryBlock][hd_pad], the scaled query row; then
  // BF16: Q, P and a converted K/V row for packing.
  const int64_t per_thread = kQueryBlock * lds + kQueryBlock * hd_pad + round_up(hd, 16) +
                             (q_halves + p_halves + row_halves) / 2;
  const size_t need = static_cast<size_t>(pack_halves / 2 + per_thread * pool.size());
  if (scratch.size() < need) scratch.resize(need);
  auto* kpack = reinterpret_cast<uint16_t*>(scratch.data());
  uint16_t* vpack = kpack + k_head * n_heads;
  float* thread_base = scratch.data() + pack_halves / 2;
  auto row_buf = [&](int ith) {
    return reinterpret_cast<uint16_t*>(thread_base + ith * per_thread + kQueryBlock * lds + kQueryBlock * hd_pad +
                                       round_up(hd, 16)) + q_halves + p_halves;
  };

  // K: word (p, c) of tile t = key t*16 + c's dims 2p, 2p+1 (zero past n).
  pool.parallel_for(n_heads * n_tiles, [&](int64_t b, int64_t e, int ith) {
    uint16_t* row = row_buf(ith);
    for (int64_t it = b; it < e; ++it) {
      const int64_t h = it / n_tiles, t = it % n_tiles;
      auto* dst = reinterpret_cast<uint32_t*>(kpack + h * k_head + t * hd * kTile);
      for (int64_t c = 0; c < kTile; ++c) {
        const int64_t j = t * kTile + c;
        if (j < n) kt.bf16_act(a.k + j * a.k_stride + h * hd, row, hd);
        for (int64_t p = 0; p < hd_pairs; ++p) {
          uint32_t w = 0;
          if (j < n) std::memcpy(&w, row + 2 * p, 4);
          dst[p * kTile + c] = w;
        }
      }
    }
  });
  // V: word (p, i) of chunk c = dim 16c + i of tokens 2p, 2p+1 (zero past n and head_dim).
  pool.parallel_for(n_heads * tok_pairs, [&](int64_t b, int64_t e, int ith) {
    uint16_t* row = row_buf(ith);
    for (int64_t it = b; it < e; ++it) {
      const int64_t h = it / tok_pairs, p = it % tok_pairs;
      for (int64_t u = 0; u < 2; ++u) {
        const int64_t j = 2 * p + u;
        if (j < n) kt.bf16_act(a.v + j * a.v_stride + h * hd, row, hd);
        for (int64_t c = 0; c < n_chunks; ++c) {
          uint16_t* dst = vpack + h * v_head + c * tok_pairs * 2 * kTile + p * 2 * kTile;
          for (int64_t i = 0; i < kTile; ++i) {
            const int64_t d = c * kTile + i;
            dst[2 * i + u] = j < n && d < hd ? row[d] : 0;
          }
        }
      }
    }
  });

  for_each_query_block(n, n_heads, pool, [&](int ith, int h, int64_t i0, int nq) {
    float* s = thread_base + ith * per_thread;
    float* o = s + kQueryBlock * lds;
    float* qrow = o + kQueryBlock * hd_pad;
    auto* qs = reinterpret_cast<uint16_t*>(qrow + round_up(hd, 16));
    uint16_t* ps = qs + q_halves;
    for (int r = 0; r < nq; ++r) {
      const float* qi = a.q + (i0 + r) * a.q_stride + h * hd;
      for (int d = 0; d < hd; ++d) qrow[d] = qi[d] * a.scale;
      kt.bf16_act(qrow, qs + r * hd, hd);
    }
    for (int r = 0; r < nq; r += kBfRows)
      kt.attn_bf16_tiles(qs + r * hd, hd, std::min(kBfRows, nq - r), hd_pairs, kpack + h * k_head, n_tiles,
                         hd * kTile, s + r * lds, lds);
    for (int r = 0; r < nq; ++r) {
      uint16_t* pr = ps + r * ldp;
      kt.attn_bf16_softmax(s + r * lds, n, pr);
      if (n % 2) pr[n] = 0;  // the last pair's second token does not exist
    }
    for (int r = 0; r < nq; r += kBfRows)
      kt.attn_bf16_tiles(ps + r * ldp, ldp, std::min(kBfRows, nq - r), tok_pairs, vpack + h * v_head, n_chunks,
                         tok_pairs * 2 * kTile, o + r * hd_pad, hd_pad);
    for (int r = 0; r < nq; ++r) std::memcpy(a.out + (i0 + r) * a.out_stride + h * hd, o + r * hd_pad, sizeof(float) * hd);
  });
}

}  // namespace

void attention_full(const KernelTable& kt, const FullAttentionArgs& a, AlignedBuffer<float>& scratch,
                    ThreadPool& pool) {
  if (a.bf16 && kt.attn_bf16_tiles && kt.attn_bf16_softmax && kt.bf16_act && vision_bf16_allowed() && a.head_dim % 2 == 0 &&
      a.n_tokens > 0 && a.n_heads > 0) {
    attention_full_bf16(kt, a, scratch, pool);
  } else if (kt.attn_tile_gemm) {
    attention_full_blocked(kt, a, scratch, pool);
  } else {
    attention_full_ref(a, scratch, pool);
  }
}

void attention_full(const FullAttentionArgs& a, AlignedBuffer<float>& scratch, ThreadPool& pool) {
  attention_full(active_kernels(), a, scratch, pool);
}

}  // namespace pocket::kernels
