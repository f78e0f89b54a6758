// Causal GQA attention over an f16 KV cache, at every kernel level: the prefill paths (the
// level's tiles where it has them, blocked) give bit-identical outputs to the one-token path
// decode uses (the server's batching relies on it), and all of them agree with the scalar
// reference.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/fp16.h"
#include "core/thread_pool.h"
#include "kernels/attention.h"
#include "kernels/dispatch.h"

namespace pocket::kernels {
namespace {

struct Case {
  int n_heads, n_kv_heads, head_dim;
  int64_t n_tokens, past;
};

void run_case(const Case& c) {
  SCOPED_TRACE("heads " + std::to_string(c.n_heads) + "/" + std::to_string(c.n_kv_heads) + " dim " +
               std::to_string(c.head_dim) + " tokens " + std::to_string(c.n_tokens));
  std::mt19937 rng(static_cast<uint32_t>(c.head_dim + c.n_tokens));
  std::normal_distribution<float> nd(0.0f, 1.0f);
  const int64_t n_ctx = c.past + c.n_tokens;
  const int64_t q_size = c.n_tokens * c.n_heads * c.head_dim;
  std::vector<float> q(q_size);
  for (auto& x : q) x = nd(rng);
  std::vector<uint16_t> k(c.n_kv_heads * n_ctx * c.head_dim), v(k.size());
  for (auto& x : k) x = f32_to_fp16(nd(rng));
  for (auto& x : v) x = f32_to_fp16(nd(rng));
  std::vector<int32_t> n_keys(c.n_tokens);
  for (int64_t t = 0; t < c.n_tokens; ++t) n_keys[t] = static_cast<int32_t>(c.past + t + 1);
  AttentionArgs a;
  a.q = q.data();
  a.n_tokens = c.n_tokens;
  a.n_heads = c.n_heads;
  a.n_kv_heads = c.n_kv_heads;
  a.head_dim = c.head_dim;
  a.k = k.data();
  a.v = v.data();
  a.kv_head_stride = n_ctx * c.head_dim;
  a.n_keys = n_keys.data();
  a.scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
  ThreadPool pool(2);
  AlignedBuffer<float> scratch;

  std::vector<float> batched(q_size), ref(q_size);
  set_isa(Isa::Ref);
  a.out = ref.data();
  attention(a, scratch, pool);

  // Every level: a batch equals its tokens one at a time bit for bit, and is near the reference.
  const int64_t tok = static_cast<int64_t>(c.n_heads) * c.head_dim;
  std::vector<float> one(tok);
  for (Isa isa : available_isas()) {
    SCOPED_TRACE(isa_name(isa));
    set_isa(isa);
    a.out = batched.data();
    attention(a, scratch, pool);
    for (int64_t t = 0; t < c.n_tokens; ++t) {
      AttentionArgs s = a;
      s.q = q.data() + t * tok;
      s.out = one.data();
      s.n_tokens = 1;
      s.n_keys = n_keys.data() + t;
      attention(s, scratch, pool);
      for (int64_t i = 0; i < tok; ++i) {
        ASSERT_EQ(one[i], batched[t * tok + i]) << "token " << t << " element " << i;
        ASSERT_NEAR(batched[t * tok + i], ref[t * tok + i], 1e-4) << "token " << t << " element " << i;
      }
    }
  }
  set_isa(startup_isa());
}

TEST(Attention, PrefillBitIdenticalToSingleTokenAndNearReference) {
  run_case({6, 2, 64, 13, 37});   // GQA group 3, partial token block, keys across 32-key blocks
  run_case({4, 4, 64, 9, 0});     // no GQA, empty cache
  run_case({8, 2, 128, 7, 70});   // head_dim 128
  run_case({4, 2, 48, 8, 5});     // head_dim not a multiple of 64: the untiled blocked path
}

}  // namespace
}  // namespace pocket::kernels
