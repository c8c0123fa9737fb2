#include "engine/kernels/gemm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "common/thread_pool.h"

namespace shrink::engine {
namespace {

// Sgemm split over a bound pool (row blocks, or column blocks for wide C) must equal the
// reference for every transpose combination and for beta != 0 (C is read, not only written).
TEST(GemmTest, SplitGemmMatchesReferenceForAllTransposes) {
  ThreadPool pool(3);
  ThreadPool::Binding binding(pool);
  std::mt19937 random(7);
  std::uniform_real_distribution<float> uniform(-1, 1);
  struct Size {
    int64_t m, n, k;
  } sizes[] = {{300, 200, 64}, {8, 5000, 70}, {1000, 9, 40}, {3, 3, 3}};
  for (const Size& size : sizes) {
    for (int trans = 0; trans < 4; ++trans) {
      GemmShape shape = DenseGemm(size.m, size.n, size.k, trans & 1, trans & 2);
      std::vector<float> a(size_t(size.m * size.k)), b(size_t(size.k * size.n));
      std::vector<float> c(size_t(size.m * size.n));
      for (float& v : a) v = uniform(random);
      for (float& v : b) v = uniform(random);
      for (float& v : c) v = uniform(random);
      std::vector<float> expected = c;
      Sgemm(shape, 0.5f, a.data(), b.data(), 2.0f, c.data());
      SgemmReference(shape, 0.5f, a.data(), b.data(), 2.0f, expected.data());
      // |a|, |b| <= 1: the float sum of k products differs from the double reference by at
      // most k * eps * k (bound on the accumulated magnitude), scaled by alpha.
      double bound = 0.5 * double(size.k) * double(size.k) * 1.2e-7 + 1e-6;
      for (size_t i = 0; i < c.size(); ++i) {
        ASSERT_NEAR(c[i], expected[i], bound)
            << "m=" << size.m << " n=" << size.n << " k=" << size.k << " trans=" << trans;
      }
    }
  }
}

}  // namespace
}  // namespace shrink::engine
