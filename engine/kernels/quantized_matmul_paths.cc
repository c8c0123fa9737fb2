// Fast paths of the integer matmuls: B is packed once per B batch (and kept when constant),
// then (batch, row block, column block) units run in parallel, each packing its rows of A and
// handing the int32 sums to the op's epilogue.
#include <algorithm>
#include <vector>

#include "engine/kernels/quantized_matmul.h"

namespace shrink::engine::quant {
namespace {

void PackRows(DataType type, const void* src, int64_t rows, int64_t k, int64_t row_stride,
              int64_t col_stride, const int32_t* zp, int16_t* dst, int64_t kp) {
  if (type == DataType::kUint8) {
    PackMinusZeroPoint(static_cast<const uint8_t*>(src), rows, k, row_stride, col_stride, zp, 1,
                       dst, kp);
  } else {
    PackMinusZeroPoint(static_cast<const int8_t*>(src), rows, k, row_stride, col_stride, zp, 1, dst,
                       kp);
  }
}

// Row and column blocks. A column block of packed B (`col_bytes` per column) stays within about
// 256 KiB so that it is reused from L2 by consecutive row blocks; columns are split further
// when there are too few blocks to keep the threads busy. Units run column block by column
// block (see Unit).
struct Blocking {
  int64_t mc, nc, row_blocks, col_blocks, units;
};
Blocking Block(const MatMulPlan& plan, int64_t max_rows, int64_t col_align, int64_t col_bytes,
               const ThreadPool& pool) {
  Blocking b;
  b.mc = std::min<int64_t>(plan.m, max_rows);
  b.row_blocks = (plan.m + b.mc - 1) / b.mc;
  b.nc = std::min(std::max<int64_t>(1, plan.n),
                  PadTo(std::max<int64_t>(col_align, (256 << 10) / std::max<int64_t>(1, col_bytes)),
                        col_align));
  const int64_t wanted = 2 * int64_t(pool.num_threads());
  const int64_t col_blocks = (plan.n + b.nc - 1) / b.nc;
  if (plan.batches * b.row_blocks * col_blocks < wanted && plan.n >= 2 * col_align) {
    b.nc = PadTo(std::max<int64_t>(col_align, (plan.n + wanted - 1) / wanted), col_align);
  }
  b.col_blocks = (plan.n + b.nc - 1) / b.nc;
  b.units = plan.batches * b.row_blocks * b.col_blocks;
  return b;
}

// Unit u: output batch, then column block, then row block (rows vary fastest).
struct Unit {
  int64_t batch, m0, rows, n0, cols;
};
Unit UnitOf(const MatMulPlan& plan, const Blocking& bl, int64_t u) {
  Unit t;
  t.batch = u / (bl.row_blocks * bl.col_blocks);
  const int64_t cb = (u / bl.row_blocks) % bl.col_blocks, rb = u % bl.row_blocks;
  t.m0 = rb * bl.mc;
  t.rows = std::min(bl.mc, plan.m - t.m0);
  t.n0 = cb * bl.nc;
  t.cols = std::min(bl.nc, plan.n - t.n0);
  return t;
}

void PackBS16(const MatMulPlan& plan, const MatMulOperands& ops, PackedB* out) {
  const int64_t n = plan.n, k = plan.k, kp = PadK(k);
  out->s16.assign(size_t(plan.b_batches * n * kp), 0);
  for (int64_t ib = 0; ib < plan.b_batches; ++ib) {
    const void* b = static_cast<const char*>(ops.b) + ib * k * n;  // 1-byte elements
    PackRows(ops.b_type, b, n, k, 1, n, ops.b_zp.data() + ib * n, out->s16.data() + ib * n * kp,
             kp);
  }
}

// VNNI panel of B: words of 4 consecutive k for each column, sign-flipped to u8 for int8 B;
// padding rows (k >= K) and columns (n >= N) stay 0.
void PackBVnni(const MatMulPlan& plan, const MatMulOperands& ops, PackedB* out) {
  const int64_t n = plan.n, k = plan.k, kp = PadTo(k, 4), np = PadTo(n, 32);
  const int32_t offset = ZOffset(ops.b_type);
  out->z.assign(size_t(plan.b_batches * kp / 4 * np), 0);
  out->tz.assign(size_t(plan.b_batches * np), 0);
  out->z0.assign(size_t(plan.b_batches * np), 0);
  const std::vector<uint8_t> zeros(static_cast<size_t>(n), 0);
  for (int64_t ib = 0; ib < plan.b_batches; ++ib) {
    const uint8_t* b = static_cast<const uint8_t*>(ops.b) + ib * k * n;
    uint32_t* z = out->z.data() + ib * kp / 4 * np;
    for (int64_t q = 0; q < kp / 4; ++q) {
      const uint8_t* src[4];
      uint32_t flip = 0;
      for (int t = 0; t < 4; ++t) {
        const bool real = 4 * q + t < k;
        src[t] = real ? b + (4 * q + t) * n : zeros.data();
        if (real && offset) flip |= 0x80u << (8 * t);
      }
      uint32_t* row = z + q * np;
      InterleaveBytes4(src, n, row);
      for (int64_t j = 0; flip && j < n; ++j) row[j] ^= flip;
    }
    int32_t* tz = out->tz.data() + ib * np;
    int32_t* z0 = out->z0.data() + ib * np;
    VnniColumnSums(reinterpret_cast<const uint8_t*>(z), np, kp, 0, tz);
    for (int64_t j = 0; j < n; ++j) {
      z0[j] = ops.b_zp[size_t(ib * n + j)] + offset;
      tz[j] -= int32_t(k) * z0[j];
    }
  }
}

// dst[t] = int8(src[t] ^ flip) (the bytes of int8 codes, sign-flipped when flip is 0x80);
// returns their sum.
int32_t FlipRow(const uint8_t* __restrict src, int64_t k, uint8_t flip, int8_t* __restrict dst) {
  int32_t sum = 0;
  for (int64_t t = 0; t < k; ++t) {
    dst[t] = int8_t(src[t] ^ flip);
    sum += dst[t];
  }
  return sum;
}

}  // namespace

void PackB(const MatMulPlan& plan, const MatMulOperands& ops, bool vnni, PackedB* out) {
  *out = PackedB();
  out->vnni = vnni;
  out->batches = plan.b_batches;
  out->n = plan.n;
  out->k = plan.k;
  out->zero_points = ops.b_zp;
  if (vnni) {
    PackBVnni(plan, ops, out);
  } else {
    PackBS16(plan, ops, out);
  }
}

void RunMatMulS16(const MatMulPlan& plan, const MatMulOperands& ops, const PackedB& packed,
                  const ThreadPool& pool, const MatMulEpilogue& epilogue) {
  const int64_t m = plan.m, n = plan.n, k = plan.k, kp = PadK(k);
  const Blocking bl = Block(plan, 32, 4, 2 * kp, pool);
  const int64_t work_per_unit = bl.mc * bl.nc * kp;
  pool.ParallelFor(
      bl.units, work_per_unit >= (1 << 16) ? 1 : bl.units, [&](int64_t u0, int64_t u1) {
        std::vector<int16_t> a_panel(static_cast<size_t>(bl.mc * kp));
        std::vector<int32_t> c(static_cast<size_t>(bl.mc * bl.nc));
        for (int64_t u = u0; u < u1; ++u) {
          const Unit t = UnitOf(plan, bl, u);
          const int64_t batch = t.batch, m0 = t.m0, rows = t.rows, n0 = t.n0, cols = t.cols;
          const int64_t ia = plan.a_batch[size_t(batch)], ib = plan.b_batch[size_t(batch)];
          const void* a = static_cast<const char*>(ops.a) + (ia * m + m0) * k;
          PackRows(ops.a_type, a, rows, k, k, 1, ops.a_zp.data() + ia * m + m0, a_panel.data(), kp);
          DotGemmS16(a_panel.data(), packed.s16.data() + (ib * n + n0) * kp, rows, cols, kp,
                     c.data(), cols, 1, /*reference=*/false);
          epilogue(batch, m0, rows, n0, cols, c.data());
        }
      });
}

void RunMatMulVnni(const MatMulPlan& plan, const MatMulOperands& ops, const PackedB& packed,
                   const ThreadPool& pool, const MatMulEpilogue& epilogue) {
  const int64_t m = plan.m, n = plan.n, k = plan.k, kp = PadTo(k, 4), np = PadTo(n, 32);
  const int32_t offset = ROffset(ops.a_type);
  const Blocking bl = Block(plan, 48, 32, kp, pool);
  const int64_t work_per_unit = bl.mc * bl.nc * kp;
  pool.ParallelFor(
      bl.units, work_per_unit >= (1 << 18) ? 1 : bl.units, [&](int64_t u0, int64_t u1) {
        std::vector<int8_t> rows_s8(static_cast<size_t>(bl.mc * kp), 0);
        std::vector<int32_t> r0(static_cast<size_t>(bl.mc)), sr(static_cast<size_t>(bl.mc));
        std::vector<int32_t> c(static_cast<size_t>(bl.mc * bl.nc));
        for (int64_t u = u0; u < u1; ++u) {
          const Unit t = UnitOf(plan, bl, u);
          const int64_t batch = t.batch, m0 = t.m0, rows = t.rows, n0 = t.n0, cols = t.cols;
          const int64_t ia = plan.a_batch[size_t(batch)], ib = plan.b_batch[size_t(batch)];
          for (int64_t j = 0; j < rows; ++j) {  // rows of A as s8 (sign-flipped for uint8 A)
            const int64_t row = ia * m + m0 + j;
            const uint8_t* src = static_cast<const uint8_t*>(ops.a) + row * k;
            sr[size_t(j)] = FlipRow(src, k, uint8_t(offset), rows_s8.data() + j * kp);
            r0[size_t(j)] = ops.a_zp[size_t(row)] - offset;
          }
          VnniGemm g;
          g.z = reinterpret_cast<const uint8_t*>(packed.z.data() + ib * kp / 4 * np);
          g.nz = np;
          g.r = rows_s8.data();
          g.ldr = kp;
          g.kp = kp;
          g.tz = packed.tz.data() + ib * np;
          g.z0 = packed.z0.data() + ib * np;
          g.r0 = r0.data();
          g.sr = sr.data();
          RunVnniGemm(g, rows, n0, cols, c.data(), cols);
          epilogue(batch, m0, rows, n0, cols, c.data());
        }
      });
}

}  // namespace shrink::engine::quant
