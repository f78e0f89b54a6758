// Thread pool: every thread runs each job exactly once, results are complete on return,
// and back-to-back jobs (as in a decode step) do not lose or duplicate work.
#include <gtest/gtest.h>

#include <atomic>
#include <vector>

#include "core/fp16.h"
#include "core/thread_pool.h"

namespace pocket {

TEST(ThreadPool, RunsEveryThreadOnce) {
  for (int n : {1, 2, 3, 8}) {
    ThreadPool pool(n);
    std::vector<std::atomic<int>> hits(n);
    pool.run([&](int ith, int nth) {
      EXPECT_EQ(nth, n);
      hits[ith].fetch_add(1);
    });
    for (auto& h : hits) EXPECT_EQ(h.load(), 1);
  }
}

TEST(ThreadPool, ParallelForCoversRangeManyTimes) {
  ThreadPool pool(4);
  std::vector<int> v(1001, 0);
  for (int rep = 0; rep < 500; ++rep) {
    pool.parallel_for(static_cast<int64_t>(v.size()), [&](int64_t b, int64_t e, int) {
      for (int64_t i = b; i < e; ++i) v[i] += 1;
    });
  }
  for (int x : v) ASSERT_EQ(x, 500);
}

TEST(Fp16, RoundTripsEveryHalf) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const uint16_t x = static_cast<uint16_t>(h);
    const float f = fp16_to_f32(x);
    if (f != f) continue;  // NaN payloads need not round-trip
    ASSERT_EQ(f32_to_fp16(f), x) << h;
  }
}

TEST(Fp16, RoundsToNearestEven) {
  // 1 + 2^-11 is exactly halfway between 1 and the next half (1 + 2^-10): ties to even -> 1.
  EXPECT_EQ(f32_to_fp16(1.0f + 1.0f / 2048), 0x3c00);
  EXPECT_EQ(f32_to_fp16(1.0f + 3.0f / 2048), 0x3c02);
  EXPECT_EQ(f32_to_fp16(65520.0f), 0x7c00);  // rounds up to infinity
  EXPECT_EQ(f32_to_fp16(65519.0f), 0x7bff);
  EXPECT_EQ(bf16_to_f32(f32_to_bf16(1.00390625f)), 1.0f);  // tie -> even
}

}  // namespace pocket
