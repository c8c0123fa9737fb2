#include "common/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace shrink {
namespace {

TEST(ThreadPoolTest, CoversEveryIndexExactlyOnce) {
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    for (int64_t n : {0, 1, 5, 1000, 100003}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      pool.ParallelFor(n, 3, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) hits[size_t(i)]++;
      });
      for (auto& hit : hits) ASSERT_EQ(hit.load(), 1);
    }
  }
}

TEST(ThreadPoolTest, NestedLoopsRunInline) {
  ThreadPool pool(2);
  std::atomic<int64_t> total{0};
  pool.ParallelFor(4, 1, [&](int64_t begin, int64_t end) {
    EXPECT_TRUE(ThreadPool::InParallelRegion());
    for (int64_t i = begin; i < end; ++i) {
      pool.ParallelFor(10, 1, [&](int64_t b, int64_t e) { total += e - b; });
    }
  });
  EXPECT_EQ(total.load(), 40);
  EXPECT_FALSE(ThreadPool::InParallelRegion());
}

TEST(ThreadPoolTest, ManyLoopsAndConcurrentCallers) {
  ThreadPool pool(3);
  std::atomic<int64_t> sum{0};
  auto hammer = [&] {
    for (int loop = 0; loop < 2000; ++loop) {
      pool.ParallelFor(64, 1, [&](int64_t b, int64_t e) { sum += e - b; });
    }
  };
  std::thread other(hammer);
  hammer();
  other.join();
  EXPECT_EQ(sum.load(), 2 * 2000 * 64);
}

// The caller finishes the loop by itself when helpers are slow to start: no barrier on them.
TEST(ThreadPoolTest, CallerDoesNotWaitForIdleHelpers) {
  ThreadPool pool(2);
  std::atomic<int> chunks{0};
  pool.ParallelFor(8, 1, [&](int64_t, int64_t) { chunks++; });
  EXPECT_EQ(chunks.load(), 8);
  EXPECT_EQ(ThreadPool::Current(), nullptr);
  {
    ThreadPool::Binding binding(pool);
    EXPECT_EQ(ThreadPool::Current(), &pool);
    ThreadPool inner(1);
    {
      ThreadPool::Binding nested(inner);
      EXPECT_EQ(ThreadPool::Current(), &inner);
    }
    EXPECT_EQ(ThreadPool::Current(), &pool);
  }
  EXPECT_EQ(ThreadPool::Current(), nullptr);
}

}  // namespace
}  // namespace shrink
