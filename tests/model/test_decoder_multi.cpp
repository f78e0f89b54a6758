// DecoderModel::forward_multi: every sequence's logits are bit-identical whether it decodes
// alone or together with other sequences (what makes `pocket serve --parallel N` give the
// same greedy text as one request at a time), and agree with the single-sequence forward()
// within the tolerance tests/runtime/test_session.cpp uses for incremental vs batched decode.
#include <gtest/gtest.h>

#include <cstring>

#include "core/error.h"
#include "runtime/engine.h"
#include "test_util.h"

namespace pocket {
namespace {

struct Seq {
  KvCache kv;
  int64_t pos = 0;
  int32_t last = 0;
};

// Prefills `prompt` into s.kv with forward() and returns the greedy next token.
int32_t prefill(const Engine& e, Seq& s, const std::vector<int32_t>& prompt, DecoderActivations& act, ThreadPool& pool) {
  DecoderBatch b;
  b.tokens = prompt.data();
  b.n = static_cast<int64_t>(prompt.size());
  b.pos0 = 0;
  b.n_logits = 1;
  e.model().forward(b, s.kv, act, pool);
  s.pos = b.n;
  return argmax(act.logits.data(), static_cast<int32_t>(e.hparams().n_vocab));
}

void check_model(const char* rel) {
  SCOPED_TRACE(rel);
  EngineOptions eo;
  eo.n_threads = 2;
  auto engine = Engine::load(test::shared_path(rel), eo);
  const TextHParams& hp = engine->hparams();
  const int64_t nv = hp.n_vocab;
  const int n_seq = 3, n_steps = 12, n_ctx = 96;
  std::vector<std::vector<int32_t>> prompts(n_seq);
  for (int s = 0; s < n_seq; ++s)
    for (int i = 0; i < 5 + 7 * s; ++i) prompts[s].push_back(static_cast<int32_t>((i * 31 + 11 * s + 3) % nv));

  DecoderActivations pre, multi, single;
  pre.allocate(hp, 64, 1);
  multi.allocate(hp, n_seq, n_seq);
  single.allocate(hp, 1, 1);
  // Three copies of every sequence: decoded together, alone through forward_multi, and
  // alone through forward().
  std::vector<Seq> together(n_seq), alone(n_seq), plain(n_seq);
  for (int s = 0; s < n_seq; ++s) {
    for (auto* v : {&together, &alone, &plain}) {
      (*v)[s].kv.allocate(hp, n_ctx);
      (*v)[s].last = prefill(*engine, (*v)[s], prompts[s], pre, engine->pool());
    }
  }
  bool exact_vs_forward = true;
  for (int step = 0; step < n_steps; ++step) {
    // Together: rows 0..n_seq-1; a different row order each step.
    std::vector<DecoderRow> rows(n_seq);
    std::vector<KvCache*> kvs(n_seq);
    for (int s = 0; s < n_seq; ++s) kvs[s] = &together[s].kv;
    for (int r = 0; r < n_seq; ++r) {
      const int s = (r + step) % n_seq;
      rows[r] = {together[s].last, together[s].pos, s};
    }
    engine->model().forward_multi(rows.data(), static_cast<int64_t>(rows.size()), kvs.data(), multi, engine->pool());
    std::vector<float> joint(multi.logits.data(), multi.logits.data() + n_seq * nv);
    for (int r = 0; r < n_seq; ++r) {
      const int s = (r + step) % n_seq;
      const float* lt = joint.data() + r * nv;
      // Alone through forward_multi.
      const DecoderRow one{alone[s].last, alone[s].pos, 0};
      KvCache* kv1 = &alone[s].kv;
      engine->model().forward_multi(&one, 1, &kv1, multi, engine->pool());
      ASSERT_EQ(0, std::memcmp(lt, multi.logits.data(), sizeof(float) * nv)) << "step " << step << " seq " << s;
      // Alone through forward().
      DecoderBatch b;
      b.tokens = &plain[s].last;
      b.n = 1;
      b.pos0 = plain[s].pos;
      b.n_logits = 1;
      engine->model().forward(b, plain[s].kv, single, engine->pool());
      EXPECT_LE(test::nmse(lt, single.logits.data(), nv), 1e-6) << "step " << step << " seq " << s;
      if (std::memcmp(lt, single.logits.data(), sizeof(float) * nv) != 0) exact_vs_forward = false;
      const int32_t next = argmax(lt, static_cast<int32_t>(nv));
      for (auto* v : {&together, &alone, &plain}) {
        (*v)[s].last = next;
        (*v)[s].pos += 1;
      }
    }
  }
  // Row-invariant products: a multi-sequence step equals the single-sequence decode step exactly.
  EXPECT_TRUE(exact_vs_forward) << rel << ": forward_multi differs from forward()";
}

TEST(DecoderMulti, RowsIndependentOfBatch) {
  for (const char* m : {"models/tiny-smol-q8_0.gguf", "models/tiny-smol-f16.gguf", "models/tiny-kq-q4_k.gguf",
                        "models/tiny-ministral3-f16.gguf"})
    check_model(m);
}

TEST(DecoderMulti, RejectsOversizedStepAndFullContext) {
  EngineOptions eo;
  eo.n_threads = 2;
  auto engine = Engine::load(test::shared_path("models/tiny-smol-q8_0.gguf"), eo);
  DecoderActivations act;
  act.allocate(engine->hparams(), 4, 4);
  KvCache kv;
  kv.allocate(engine->hparams(), 8);
  KvCache* kvs[1] = {&kv};
  std::vector<DecoderRow> rows(5);
  rows[0] = {1, 0, 0};
  EXPECT_THROW(engine->model().forward_multi(rows.data(), 5, kvs, act, engine->pool()), Error);  // > act.max_tokens
  EXPECT_THROW(engine->model().forward_multi(rows.data(), 0, kvs, act, engine->pool()), Error);
  EXPECT_THROW(engine->model().forward_multi(rows.data(), 2, kvs, act, engine->pool()), Error);  // row 1: no sequence
  rows[0].pos = 8;  // the cache holds positions 0..7
  EXPECT_THROW(engine->model().forward_multi(rows.data(), 1, kvs, act, engine->pool()), Error);
}

}  // namespace
}  // namespace pocket
