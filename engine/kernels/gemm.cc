#include "engine/kernels/gemm.h"

#include <dnnl.h>

#include "common/thread_pool.h"

namespace shrink::engine {

namespace {

void SgemmOneThread(const GemmShape& s, float alpha, const float* a, const float* b, float beta,
                    float* c) {
  dnnl_status_t status = dnnl_sgemm(s.trans_a ? 'T' : 'N', s.trans_b ? 'T' : 'N', s.m, s.n, s.k,
                                    alpha, a, s.lda, b, s.ldb, beta, c, s.ldc);
  if (status != dnnl_success) SgemmReference(s, alpha, a, b, beta, c);
}

// Below this many multiply-adds a GEMM stays on one thread: splitting costs more.
constexpr int64_t kSplitWork = int64_t(1) << 18;

}  // namespace

void Sgemm(const GemmShape& s, float alpha, const float* a, const float* b, float beta, float* c) {
  if (s.m == 0 || s.n == 0) return;
  if (s.k == 0) {
    for (int64_t i = 0; i < s.m; ++i) {
      for (int64_t j = 0; j < s.n; ++j) c[i * s.ldc + j] = beta == 0 ? 0 : beta * c[i * s.ldc + j];
    }
    return;
  }
  const ThreadPool* pool = ThreadPool::Current();
  if (!pool || pool->num_threads() <= 1 || ThreadPool::InParallelRegion() ||
      s.m * s.n * s.k < kSplitWork) {
    SgemmOneThread(s, alpha, a, b, beta, c);
    return;
  }
  // Blocks of C rows (or columns when C is wide and short); each block is an independent GEMM.
  bool split_rows = s.m >= s.n || s.m >= 64;
  int64_t extent = split_rows ? s.m : s.n;
  int64_t min_block = split_rows ? 16 : 64;
  pool->ParallelFor(extent, min_block, [&](int64_t begin, int64_t end) {
    GemmShape block = s;
    if (split_rows) {
      block.m = end - begin;
      SgemmOneThread(block, alpha, s.trans_a ? a + begin : a + begin * s.lda, b, beta,
                     c + begin * s.ldc);
    } else {
      block.n = end - begin;
      SgemmOneThread(block, alpha, a, s.trans_b ? b + begin * s.ldb : b + begin, beta, c + begin);
    }
  });
}

void SgemmReference(const GemmShape& s, float alpha, const float* a, const float* b, float beta,
                    float* c) {
  for (int64_t i = 0; i < s.m; ++i) {
    for (int64_t j = 0; j < s.n; ++j) {
      double sum = 0;
      for (int64_t p = 0; p < s.k; ++p) {
        float av = s.trans_a ? a[p * s.lda + i] : a[i * s.lda + p];
        float bv = s.trans_b ? b[j * s.ldb + p] : b[p * s.ldb + j];
        sum += double(av) * double(bv);
      }
      float& out = c[i * s.ldc + j];
      out = float(alpha * sum + (beta == 0 ? 0.0 : double(beta) * out));
    }
  }
}

GemmShape DenseGemm(int64_t m, int64_t n, int64_t k, bool trans_a, bool trans_b) {
  GemmShape s;
  s.trans_a = trans_a;
  s.trans_b = trans_b;
  s.m = m;
  s.n = n;
  s.k = k;
  s.lda = trans_a ? m : k;
  s.ldb = trans_b ? k : n;
  s.ldc = n;
  return s;
}

}  // namespace shrink::engine
