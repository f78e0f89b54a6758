// ThreadPool implementation: generation counter to publish a job, counter to join.
#include "core/thread_pool.h"

#include <algorithm>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define POCKET_PAUSE() _mm_pause()
#elif defined(__aarch64__)
#define POCKET_PAUSE() __asm__ __volatile__("yield")
#else
#define POCKET_PAUSE() ((void)0)
#endif

namespace pocket {

namespace {
// Spinning this long before sleeping keeps back-to-back kernels (one decode step issues
// hundreds) from paying a futex wake-up each. It is kept short because when another
// process competes for the cores, a spinning thread only delays the one it waits for:
// both sides then sleep on a futex instead.
constexpr int kSpinIters = 1 << 11;
}  // namespace

ThreadPool::ThreadPool(int n_threads) : n_threads_(std::max(1, n_threads)) {
  threads_.reserve(n_threads_ - 1);
  for (int i = 1; i < n_threads_; ++i) threads_.emplace_back([this, i] { worker(i); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true, std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  generation_.notify_all();
  for (auto& t : threads_) t.join();
}

void ThreadPool::run_impl(Job job, void* ctx) {
  if (n_threads_ == 1) {
    job(ctx, 0, 1);
    return;
  }
  job_ = job;
  ctx_ = ctx;
  pending_.store(n_threads_ - 1, std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_release);
  generation_.notify_all();
  job(ctx, 0, n_threads_);
  int spins = 0;
  int p;
  while ((p = pending_.load(std::memory_order_acquire)) != 0) {
    if (++spins < kSpinIters) {
      POCKET_PAUSE();
    } else {
      // The last worker wakes us if it sees the flag; futex's value check covers the race
      // where it finished between our load and the wait.
      caller_sleeping_.store(true, std::memory_order_seq_cst);
      pending_.wait(p, std::memory_order_seq_cst);
      caller_sleeping_.store(false, std::memory_order_relaxed);
    }
  }
}

void ThreadPool::worker(int ith) {
  uint32_t seen = 0;
  for (;;) {
    int spins = 0;
    uint32_t g;
    while ((g = generation_.load(std::memory_order_acquire)) == seen) {
      if (++spins < kSpinIters) {
        POCKET_PAUSE();
      } else {
        generation_.wait(seen, std::memory_order_acquire);
      }
    }
    seen = g;
    if (stop_.load(std::memory_order_acquire)) return;
    job_(ctx_, ith, n_threads_);
    if (pending_.fetch_sub(1, std::memory_order_seq_cst) == 1 && caller_sleeping_.load(std::memory_order_seq_cst))
      pending_.notify_one();
  }
}

}  // namespace pocket
