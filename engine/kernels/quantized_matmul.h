// Shared by the integer matmul kernel (quantized_matmul.cc) and its fast paths
// (quantized_matmul_paths.cc): the broadcast plan, the operand tables and packed B.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "common/thread_pool.h"
#include "engine/kernels/quantized_internal.h"

namespace shrink::engine::quant {

// A batched matmul after broadcasting. When B is a single matrix, A's batch dims are folded
// into M (one batch), so per-row tables indexed [a_batch * M + m] stay valid.
struct MatMulPlan {
  Shape out_shape;
  int64_t m = 0, n = 0, k = 0;
  int64_t batches = 1;
  std::vector<int64_t> a_batch, b_batch;  // per output batch: batch index into A and into B
  Shape a_batch_shape, b_batch_shape;
  int64_t a_batches = 1, b_batches = 1;
};

// Everything the integer core and the epilogues need, as flat per-(batch, row/col) tables.
struct MatMulOperands {
  DataType a_type = DataType::kUndefined, b_type = DataType::kUndefined;
  const void* a = nullptr;  // 8-bit codes
  const void* b = nullptr;
  std::vector<int32_t> a_zp, b_zp;      // [a_batches * M], [b_batches * N]
  std::vector<float> a_scale, b_scale;  // same layout (empty for MatMulInteger)
  float y_scale = 1.0f;
  int32_t y_zp = 0;
  DataType y_type = DataType::kInt32;
  std::vector<float> bias;  // [N] or empty
};

// Writes rows [m0, m0 + rows) x columns [n0, n0 + cols) of output batch `batch` from the int32
// sums c (row stride cols).
using MatMulEpilogue = std::function<void(int64_t batch, int64_t m0, int64_t rows, int64_t n0,
                                          int64_t cols, const int32_t* c)>;

// B packed for one path, for every B batch; kept by the kernel when B is a constant.
struct PackedB {
  bool vnni = false;
  int64_t batches = 0, n = 0, k = 0;
  std::vector<int32_t> zero_points;  // what was packed (b_zp table)
  std::vector<int16_t> s16;          // int16: [batch][n][PadK(k)] codes minus zero points
  std::vector<uint32_t> z;           // VNNI: [batch][PadTo(k, 4) / 4][PadTo(n, 32)] words
  std::vector<int32_t> tz, z0;       // VNNI: [batch][PadTo(n, 32)] column terms
  bool Matches(const MatMulPlan& plan, const MatMulOperands& ops, bool want_vnni) const {
    return vnni == want_vnni && batches == plan.b_batches && n == plan.n && k == plan.k &&
           zero_points == ops.b_zp;
  }
};
void PackB(const MatMulPlan& plan, const MatMulOperands& ops, bool vnni, PackedB* out);

// The fast paths: int16 dot-product GEMM (portable / AVX2) or the VNNI u8 x s8 GEMM.
void RunMatMulS16(const MatMulPlan& plan, const MatMulOperands& ops, const PackedB& b,
                  const ThreadPool& pool, const MatMulEpilogue& epilogue);
void RunMatMulVnni(const MatMulPlan& plan, const MatMulOperands& ops, const PackedB& b,
                   const ThreadPool& pool, const MatMulEpilogue& epilogue);

}  // namespace shrink::engine::quant
