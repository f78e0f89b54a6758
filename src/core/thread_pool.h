// Persistent thread pool for the compute kernels. The caller is thread 0 and works too;
// workers spin briefly then sleep on an atomic, so a decode step costs no thread creation
// and no allocation (the job is passed as a non-owning function reference).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <thread>
#include <type_traits>
#include <vector>

namespace pocket {

class ThreadPool {
 public:
  // n_threads >= 1 (1 = run everything on the caller's thread).
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Calls fn(ith, nth) once on each of nth threads and returns when all are done.
  template <typename Fn>
  void run(Fn&& fn) {
    using F = std::remove_reference_t<Fn>;
    run_impl([](void* ctx, int ith, int nth) { (*static_cast<F*>(ctx))(ith, nth); },
             const_cast<void*>(static_cast<const void*>(&fn)));
  }

  // Splits [0, n) into contiguous chunks, one per thread: fn(begin, end, ith).
  // A single item runs inline on the caller: waking the workers would cost more than it.
  template <typename Fn>
  void parallel_for(int64_t n, Fn&& fn) {
    if (n <= 1) {
      if (n == 1) fn(0, 1, 0);
      return;
    }
    run([&](int ith, int nth) {
      const int64_t chunk = (n + nth - 1) / nth;
      const int64_t b = std::min<int64_t>(n, ith * chunk);
      const int64_t e = std::min<int64_t>(n, b + chunk);
      if (b < e) fn(b, e, ith);
    });
  }

 private:
  using Job = void (*)(void*, int, int);
  void run_impl(Job job, void* ctx);
  void worker(int ith);

  int n_threads_;
  std::vector<std::thread> threads_;
  Job job_ = nullptr;
  void* ctx_ = nullptr;
  alignas(64) std::atomic<uint32_t> generation_{0};
  alignas(64) std::atomic<int> pending_{0};
  std::atomic<bool> caller_sleeping_{false};
  std::atomic<bool> stop_{false};
};

}  // namespace pocket
