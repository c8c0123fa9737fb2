// The exact int16 x int16 -> int32 dot-product GEMM (the integer matmuls and convolutions on
// machines without AVX512-VNNI) and the instruction-set selection of all quantized fast paths.
// Operands arrive with their zero points subtracted (|value| <= 255), so pmaddwd-style pair
// products and the int32 sums are exact; results do not depend on the path or the machine.
#include <cstdint>

#include "engine/kernels/quantized_internal.h"

namespace shrink::engine::quant {
namespace {

// An MR x NR tile of dot products. Written as plain loops: gcc turns the k loop into one
// pmaddwd + paddd per (row, column) pair and vector, with the tile held in registers.
template <int MR, int NR>
__attribute__((always_inline)) inline void DotTile(const int16_t* __restrict a,
                                                   const int16_t* __restrict b, int64_t kp,
                                                   int32_t* c, int64_t c_row, int64_t c_col) {
  int32_t s[MR][NR] = {};
  for (int64_t k = 0; k < kp; ++k) {
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 4
      for (int j = 0; j < NR; ++j) s[i][j] += int32_t(a[i * kp + k]) * int32_t(b[j * kp + k]);
    }
  }
  for (int i = 0; i < MR; ++i) {
    for (int j = 0; j < NR; ++j) c[i * c_row + j * c_col] = s[i][j];
  }
}

constexpr int kTileRows = 2;
constexpr int kTileCols = 4;

// Tiles the (m, n) plane; edge tiles use smaller instantiations of the same loop.
__attribute__((always_inline)) inline void DotGemmTiled(const int16_t* a, const int16_t* b,
                                                        int64_t m, int64_t n, int64_t kp,
                                                        int32_t* c, int64_t c_row, int64_t c_col) {
  int64_t i = 0;
  for (; i + kTileRows <= m; i += kTileRows) {
    const int16_t* ai = a + i * kp;
    int32_t* ci = c + i * c_row;
    int64_t j = 0;
    for (; j + kTileCols <= n; j += kTileCols) {
      DotTile<kTileRows, kTileCols>(ai, b + j * kp, kp, ci + j * c_col, c_row, c_col);
    }
    for (; j < n; ++j) DotTile<kTileRows, 1>(ai, b + j * kp, kp, ci + j * c_col, c_row, c_col);
  }
  for (; i < m; ++i) {
    const int16_t* ai = a + i * kp;
    int32_t* ci = c + i * c_row;
    int64_t j = 0;
    for (; j + kTileCols <= n; j += kTileCols) {
      DotTile<1, kTileCols>(ai, b + j * kp, kp, ci + j * c_col, c_row, c_col);
    }
    for (; j < n; ++j) DotTile<1, 1>(ai, b + j * kp, kp, ci + j * c_col, c_row, c_col);
  }
}

void DotGemmPortable(const int16_t* a, const int16_t* b, int64_t m, int64_t n, int64_t kp,
                     int32_t* c, int64_t c_row, int64_t c_col) {
  DotGemmTiled(a, b, m, n, kp, c, c_row, c_col);
}

// Integer only, so the wider vectors cannot change a result.
__attribute__((target("avx2"))) void DotGemmAvx2(const int16_t* a, const int16_t* b, int64_t m,
                                                 int64_t n, int64_t kp, int32_t* c, int64_t c_row,
                                                 int64_t c_col) {
  DotGemmTiled(a, b, m, n, kp, c, c_row, c_col);
}

void DotGemmReference(const int16_t* a, const int16_t* b, int64_t m, int64_t n, int64_t kp,
                      int32_t* c, int64_t c_row, int64_t c_col) {
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      int64_t sum = 0;
      for (int64_t k = 0; k < kp; ++k) sum += int64_t(a[i * kp + k]) * b[j * kp + k];
      c[i * c_row + j * c_col] = int32_t(uint32_t(uint64_t(sum)));  // int32 wrap-around
    }
  }
}

bool HasAvx2() {
  static const bool has = __builtin_cpu_supports("avx2");
  return has;
}

GemmIsa forced_isa = GemmIsa::kAuto;

}  // namespace

bool IsaSupported(GemmIsa isa) {
  switch (isa) {
    case GemmIsa::kAuto:
    case GemmIsa::kPortable:
      return true;
    case GemmIsa::kAvx2:
      return HasAvx2();
    case GemmIsa::kVnni:
      return HasVnni();
  }
  return false;
}

GemmIsa ActiveGemmIsa() {
  if (forced_isa != GemmIsa::kAuto) return forced_isa;
  return HasVnni() ? GemmIsa::kVnni : HasAvx2() ? GemmIsa::kAvx2 : GemmIsa::kPortable;
}

void SetGemmIsaForTesting(GemmIsa isa) { forced_isa = IsaSupported(isa) ? isa : GemmIsa::kAuto; }

void DotGemmS16(const int16_t* a, const int16_t* b, int64_t m, int64_t n, int64_t kp, int32_t* c,
                int64_t c_row, int64_t c_col, bool reference) {
  if (m <= 0 || n <= 0) return;
  if (reference) {
    DotGemmReference(a, b, m, n, kp, c, c_row, c_col);
  } else if (ActiveGemmIsa() != GemmIsa::kPortable) {  // VNNI machines have AVX2
    DotGemmAvx2(a, b, m, n, kp, c, c_row, c_col);
  } else {
    DotGemmPortable(a, b, m, n, kp, c, c_row, c_col);
  }
}

}  // namespace shrink::engine::quant
