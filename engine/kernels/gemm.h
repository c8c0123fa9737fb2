// Single-precision GEMM used by MatMul, Gemm, Conv (im2col) and the recurrent kernels:
// C = alpha * op(A) * op(B) + beta * C, row-major. The fast path is oneDNN's sgemm, always on one
// OpenMP thread; a large GEMM called outside a parallel loop is split into row (or column) blocks
// over the thread pool bound to the calling thread (ThreadPool::Binding). The reference path is
// a plain loop kept as the test oracle.
#pragma once

#include <cstdint>

namespace shrink::engine {

struct GemmShape {
  bool trans_a = false;
  bool trans_b = false;
  int64_t m = 0, n = 0, k = 0;
  int64_t lda = 0, ldb = 0, ldc = 0;  // leading dimensions (row strides) as stored
};

void Sgemm(const GemmShape& shape, float alpha, const float* a, const float* b, float beta,
           float* c);
void SgemmReference(const GemmShape& shape, float alpha, const float* a, const float* b,
                    float beta, float* c);
// Shorthand for dense row-major matrices without transposes.
GemmShape DenseGemm(int64_t m, int64_t n, int64_t k, bool trans_a = false, bool trans_b = false);

}  // namespace shrink::engine
