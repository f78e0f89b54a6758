// Session behaviour: incremental decode equals batched evaluation, thread counts agree,
// and steady-state decode steps perform no heap allocation.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "core/error.h"
#include "runtime/engine.h"
#include "test_util.h"

// Counts heap allocations made while `g_counting` is set.
static std::atomic<bool> g_counting{false};
static std::atomic<long> g_allocs{0};

void* operator new(size_t n) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocs.fetch_add(1);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace pocket {
namespace {

const char* kModels[] = {"models/tiny-smol-q4_0.gguf", "models/tiny-kq-q4_k.gguf", "models/tiny-ministral3-f16.gguf"};

TEST(Session, IncrementalDecodeMatchesBatch) {
  for (const char* m : kModels) {
    SCOPED_TRACE(m);
    EngineOptions eo;
    eo.n_threads = 2;
    auto engine = Engine::load(test::shared_path(m), eo);
    const int64_t nv = engine->hparams().n_vocab;
    std::vector<int32_t> ids;
    for (int i = 0; i < 80; ++i) ids.push_back((i * 37 + 5) % static_cast<int32_t>(nv));  // crosses ministral's 64-token YaRN/temperature boundary
    SessionOptions so;
    so.n_ctx = 128;
    so.n_batch = 32;
    Session batch(*engine, so);
    std::vector<float> all(ids.size() * nv);
    batch.eval_all(ids, [&](int64_t i, const float* row) { std::copy(row, row + nv, all.begin() + i * nv); });
    Session inc(*engine, so);
    for (size_t i = 0; i < ids.size(); ++i) {
      const float* row = inc.step(ids[i]);
      ASSERT_LE(test::nmse(row, all.data() + i * nv, nv), 1e-6) << "position " << i;
    }
  }
}

TEST(Session, ThreadCountsAgree) {
  std::vector<float> first;
  for (int threads : {1, 2, 3}) {
    EngineOptions eo;
    eo.n_threads = threads;
    auto engine = Engine::load(test::shared_path("models/tiny-kq-q8_0.gguf"), eo);
    Session s(*engine);
    std::vector<int32_t> ids = {1, 50, 60, 70, 80, 90, 100};
    const float* l = s.eval(ids);
    std::vector<float> v(l, l + engine->hparams().n_vocab);
    if (first.empty()) {
      first = v;
    } else {
      EXPECT_LE(test::nmse(v.data(), first.data(), v.size()), 1e-10) << threads << " threads";
    }
  }
}

TEST(Session, DecodeStepDoesNotAllocate) {
  EngineOptions eo;
  eo.n_threads = 2;
  auto engine = Engine::load(test::shared_path("models/tiny-smol-q8_0.gguf"), eo);
  Session s(*engine);
  s.eval({1, 2, 3, 4});
  int32_t tok = 5;
  tok = argmax(s.step(tok), static_cast<int32_t>(engine->hparams().n_vocab));  // warm-up grows scratch once
  SamplerParams sp;
  sp.temperature = 0.7f;
  sp.seed = 1;
  Sampler sampler(sp, static_cast<int32_t>(engine->hparams().n_vocab));
  std::vector<int32_t> history;
  history.reserve(64);
  g_allocs = 0;
  g_counting = true;
  for (int i = 0; i < 32; ++i) {
    const float* logits = s.step(tok);
    tok = sampler.sample(logits, history);
    history.push_back(tok);
  }
  g_counting = false;
  EXPECT_EQ(g_allocs.load(), 0);
}

TEST(Session, ContextOverflowIsAnError) {
  auto engine = Engine::load(test::shared_path("models/tiny-smol-q8_0.gguf"));
  SessionOptions so;
  so.n_ctx = 4;
  Session s(*engine, so);
  EXPECT_THROW(s.eval({1, 2, 3, 4, 5}), Error);
}

}  // namespace
}  // namespace pocket
