// Direct SIMD convolution kernels on NCHW float32:
//
// Depthwise Conv (one input channel per group), 1-D or 2-D, horizontal stride 1 or 2, any
// vertical stride, dilation and channel multiplier. Each unit of work is a block of output rows of
// one channel plane. The input rows the block needs are copied once into a zero-padded scratch
// buffer (so borders need no special case and every tap is an unaligned vector load), then output
// rows are computed two at a time, 16 columns per vector, with up to 8 independent accumulators to
// hide FMA latency. Stride-2 rows are deinterleaved in registers with a two-vector shuffle.
//
// ThinGemm: C = A * B (+ bias per row) for small K (1x1 convolutions with few input channels,
// ConvTranspose column GEMMs), where oneDNN's sgemm spends most of its time packing. A tile is
// 4 rows x 64 columns with all 16 accumulators in registers.
//
// The arithmetic is written with GCC vector extensions once and instantiated for AVX-512,
// AVX2+FMA and the portable baseline; the best one is picked at startup.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <vector>

#include "engine/kernels/nn_internal.h"

namespace shrink::engine {
namespace {

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Vec16 never crosses a call boundary, so the ABI note of -Wpsabi does not apply.
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"  // for the whole file: GCC reports it at the end
#endif

typedef float Vec16 __attribute__((vector_size(64)));
typedef int32_t Int16 __attribute__((vector_size(64)));

// From memory: other formulations (v - Vec16{}, {v, v, ...}) make GCC 12 build the vector
// lane by lane with masked broadcasts.
inline __attribute__((always_inline)) Vec16 Broadcast(const float* p) {
#if defined(__clang__)
  return __builtin_shufflevector(Vec16{*p}, Vec16{*p}, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                 0, 0);
#else
  return __builtin_shuffle(Vec16{*p}, Int16{});
#endif
}

// 16 floats at p, p + stride, ...
template <int kStride>
inline __attribute__((always_inline)) Vec16 LoadStrided(const float* p) {
  Vec16 a;
  std::memcpy(&a, p, sizeof a);
  if constexpr (kStride == 1) {
    return a;
  } else {
    Vec16 b;
    std::memcpy(&b, p + 16, sizeof b);
#if defined(__clang__)
    return __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28,
                                   30);
#else
    return __builtin_shuffle(a, b,
                             Int16{0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30});
#endif
  }
}

// Copy and zero-fill written with fixed-size vector moves: a libc call here would make the
// compiler spill the weight registers around it.
inline __attribute__((always_inline)) void CopyFloats(float* dst, const float* src, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    Vec16 v;
    std::memcpy(&v, src + i, sizeof v);
    std::memcpy(dst + i, &v, sizeof v);
  }
  for (; i < n; ++i) dst[i] = src[i];
}

inline __attribute__((always_inline)) void ZeroFloats(float* dst, int64_t n) {
  int64_t i = 0;
  const Vec16 zero = {};
  for (; i + 16 <= n; i += 16) std::memcpy(dst + i, &zero, sizeof zero);
  for (; i < n; ++i) dst[i] = 0.0f;
}

constexpr int kRows = 4;  // output rows computed together

// Four output rows (r = 0..3) starting at buffer row `base`: output row r, kernel row ky reads
// buffer row r * sy + ky * dh. Columns are computed 16 * V at a time at column x.
struct GroupArgs {
  const float* base;
  int64_t pitch;
  float* out[kRows];
  int64_t ow;
};

// Fixed kernel size, unit dilation and stride S in both directions: the whole tile unrolls,
// each loaded input vector feeds every output row that uses it, and the broadcast weights stay
// in registers.
template <int KH, int KW, int S, int V, bool kPinLoads>
inline __attribute__((always_inline)) void FixedTile(const GroupArgs& a, const Vec16* wv,
                                                     Vec16 bias, int64_t x) {
  constexpr int kInputRows = KH + (kRows - 1) * S;
  Vec16 acc[kRows][V];
  for (int r = 0; r < kRows; ++r) {
    for (int v = 0; v < V; ++v) acc[r][v] = bias;
  }
#pragma GCC unroll 16
  for (int j = 0; j < kInputRows; ++j) {
    const float* row = a.base + j * a.pitch + x * S;
#pragma GCC unroll 8
    for (int kx = 0; kx < KW; ++kx) {
#pragma GCC unroll 2
      for (int v = 0; v < V; ++v) {
        Vec16 in = LoadStrided<S>(row + 16 * S * v + kx);
        // Keep the loaded vector in a register for all the rows that use it (GCC would
        // otherwise re-load it as a memory operand of every FMA).
        if constexpr (kPinLoads) asm("" : "+v"(in));
#pragma GCC unroll 4
        for (int r = 0; r < kRows; ++r) {
          const int ky = j - r * S;
          if (ky >= 0 && ky < KH) acc[r][v] += in * wv[ky * KW + kx];
        }
      }
    }
  }
  for (int r = 0; r < kRows; ++r) {
    for (int v = 0; v < V; ++v) std::memcpy(a.out[r] + x + 16 * v, &acc[r][v], sizeof(Vec16));
  }
}

template <int KH, int KW, int S, int V, bool kPinLoads>
inline __attribute__((always_inline)) void FixedGroup(const GroupArgs& a, const Vec16* wv,
                                                      Vec16 bias) {
  constexpr int64_t kWidth = 16 * V;
  int64_t x = 0;
  for (; x + kWidth <= a.ow; x += kWidth) FixedTile<KH, KW, S, V, kPinLoads>(a, wv, bias, x);
  // The last tile overlaps the previous one (same values); the caller ensures ow >= kWidth.
  if (x < a.ow) FixedTile<KH, KW, S, V, kPinLoads>(a, wv, bias, a.ow - kWidth);
}

// Any kernel size and dilation, horizontal stride S: taps loop at run time.
template <int S>
inline __attribute__((always_inline)) void GenericTile(const GroupArgs& a, const Geo2D& g,
                                                       const float* w, Vec16 bias, int64_t x) {
  Vec16 acc[kRows];
  for (int r = 0; r < kRows; ++r) acc[r] = bias;
  for (int64_t ky = 0; ky < g.kh; ++ky) {
    for (int64_t kx = 0; kx < g.kw; ++kx) {
      const Vec16 wt = Broadcast(w + ky * g.kw + kx);
      const float* tap = a.base + ky * g.dh * a.pitch + x * S + kx * g.dw;
#pragma GCC unroll 4
      for (int r = 0; r < kRows; ++r) acc[r] += LoadStrided<S>(tap + r * g.sh * a.pitch) * wt;
    }
  }
  for (int r = 0; r < kRows; ++r) std::memcpy(a.out[r] + x, &acc[r], sizeof(Vec16));
}

template <int S>
inline __attribute__((always_inline)) void GenericGroup(const GroupArgs& a, const Geo2D& g,
                                                        const float* w, Vec16 bias) {
  int64_t x = 0;
  for (; x + 16 <= a.ow; x += 16) GenericTile<S>(a, g, w, bias, x);
  if (x < a.ow) GenericTile<S>(a, g, w, bias, a.ow - 16);
}

// Narrow planes, stride 1: output (oy, ox) is computed at flat index oy * P + ox of the
// padded rows laid end to end with pitch P = ow + (kw - 1) * dw, so vectors run across row
// ends; the (kw - 1) * dw wrapped columns per row are dropped when copying out. KH == 0 reads
// the taps at run time.
template <int KH, int KW>
inline __attribute__((always_inline)) void FlatTile(const float* buf, int64_t pitch, const Geo2D& g,
                                                    const float* w, const Vec16* wv, Vec16 bias,
                                                    float* out, int64_t i) {
  Vec16 acc[4] = {bias, bias, bias, bias};
  const int64_t kh = KH > 0 ? KH : g.kh, kw = KH > 0 ? KW : g.kw;
  for (int64_t ky = 0; ky < kh; ++ky) {
    for (int64_t kx = 0; kx < kw; ++kx) {
      const Vec16 wt = KH > 0 ? wv[ky * kw + kx] : Broadcast(w + ky * kw + kx);
      const float* src = buf + i + ky * g.dh * pitch + kx * g.dw;
      for (int j = 0; j < 4; ++j) acc[j] += LoadStrided<1>(src + 16 * j) * wt;
    }
  }
  for (int j = 0; j < 4; ++j) std::memcpy(out + i + 16 * j, &acc[j], sizeof(Vec16));
}

// Output rows [oy0, oy1) of one channel plane.
struct BlockArgs {
  const float* x;  // the input plane
  const float* w;  // kh * kw weights
  float bias;
  const Geo2D* g;
  int64_t oy0, oy1;
  float* y;  // the output plane
};

// Widest tile of any kernel below, in columns.
constexpr int64_t kMaxTileWidth = 32;
// Stride-1 planes narrower than this are computed flat (FlatTile).
constexpr int64_t kFlatMaxWidth = 32;

// Buffer rows: padded column j of row r is at r * pitch + lead + j. `lead` puts input column 0
// on a 64-byte boundary; `need` padded columns are readable by the widest tile.
struct RowLayout {
  int64_t lead, need, pitch;
};

RowLayout MakeRowLayout(const Geo2D& g) {
  RowLayout l;
  l.lead = (16 - g.pl % 16) % 16;
  l.need = std::max(g.ow, kMaxTileWidth) * g.sw + (g.kw - 1) * g.dw + 16 * (g.sw - 1);
  l.pitch = CeilDiv(l.lead + l.need, 16) * 16;
  return l;
}

// Copies the input rows of the block into the zero-padded buffer; returns padded column 0 of
// buffer row 0.
inline __attribute__((always_inline)) float* FillRows(const BlockArgs& b, int64_t rows,
                                                      const RowLayout& l) {
  const Geo2D& g = *b.g;
  float* buf = ConvScratch(0, size_t(rows * l.pitch)) + l.lead;
  const int64_t left = std::min(g.pl, l.need);
  const int64_t copy = std::clamp<int64_t>(l.need - g.pl, 0, g.iw);
  for (int64_t r = 0; r < rows; ++r) {
    float* dst = buf + r * l.pitch;
    const int64_t iy = b.oy0 * g.sh - g.pt + r;
    if (iy < 0 || iy >= g.ih || copy == 0) {
      ZeroFloats(dst, l.need);
      continue;
    }
    ZeroFloats(dst, left);
    CopyFloats(dst + g.pl, b.x + iy * g.iw, copy);
    ZeroFloats(dst + g.pl + copy, l.need - g.pl - copy);
  }
  return buf;
}

// KH == 0 selects the generic kernel (horizontal stride S); otherwise KH x KW with stride S.
template <int KH, int KW, int S, int V, bool kPinLoads>
inline __attribute__((always_inline)) void BlockBody(const BlockArgs& b) {
  const Geo2D& g = *b.g;
  Vec16 wv[KH > 0 ? KH * KW : 1];
  if constexpr (KH > 0) {
    for (int t = 0; t < KH * KW; ++t) wv[t] = Broadcast(b.w + t);
  }
  const Vec16 bias = Broadcast(&b.bias);
  if (S == 1 && g.sh == 1 && g.ow < kFlatMaxWidth) {
    const int64_t pitch = g.ow + (g.kw - 1) * g.dw;
    const int64_t n = (b.oy1 - b.oy0) * pitch, padded_n = CeilDiv(n, 64) * 64;
    // Rows past the block only feed dropped outputs; they just have to be readable.
    const int64_t rows =
        (b.oy1 - b.oy0 - 1) + (g.kh - 1) * g.dh + 1 + CeilDiv(padded_n - n + 16, pitch);
    const float* buf = FillRows(b, rows, RowLayout{0, pitch, pitch});
    float* out = ConvScratch(1, size_t(padded_n));
    for (int64_t i = 0; i < n; i += 64) FlatTile<KH, KW>(buf, pitch, g, b.w, wv, bias, out, i);
    for (int64_t r = 0; r < b.oy1 - b.oy0; ++r) {
      CopyFloats(b.y + (b.oy0 + r) * g.ow, out + r * pitch, g.ow);
    }
    return;
  }
  const int64_t groups = CeilDiv(b.oy1 - b.oy0, kRows);
  const int64_t rows = (groups * kRows - 1) * g.sh + (g.kh - 1) * g.dh + 1;
  const RowLayout layout = MakeRowLayout(g);
  const int64_t pitch = layout.pitch;
  const float* buf = FillRows(b, rows, layout);
  // Rows past oy1, and all rows of planes narrower than a tile, go to scratch rows first.
  constexpr int64_t kTileWidth = 16 * V;
  const int64_t scratch_pitch = CeilDiv(std::max(g.ow, kTileWidth), 16) * 16;
  float* scratch = ConvScratch(1, size_t(kRows * scratch_pitch));
  const bool narrow = g.ow < kTileWidth;
  GroupArgs a;
  a.pitch = pitch;
  a.ow = narrow ? kTileWidth : g.ow;
  for (int64_t group = 0; group < groups; ++group) {
    const int64_t oy = b.oy0 + group * kRows;
    a.base = buf + group * kRows * g.sh * pitch;
    for (int r = 0; r < kRows; ++r) {
      const bool direct = !narrow && oy + r < b.oy1;
      a.out[r] = direct ? b.y + (oy + r) * g.ow : scratch + r * scratch_pitch;
    }
    if constexpr (KH > 0) {
      FixedGroup<KH, KW, S, V, kPinLoads>(a, wv, bias);
    } else {
      GenericGroup<S>(a, g, b.w, bias);
    }
    if (narrow) {
      for (int r = 0; r < kRows && oy + r < b.oy1; ++r) {
        CopyFloats(b.y + (oy + r) * g.ow, a.out[r], g.ow);
      }
    }
  }
}

using BlockFn = void (*)(const BlockArgs&);
enum BlockKind { k3x3S1, k3x3S2, k5x5S1, k5x5S2, kGenericS1, kGenericS2, kBlockKinds };

#define SHRINK_DW_VARIANTS(SUFFIX, TARGET, PIN)                                         \
  TARGET void Block3x3S1##SUFFIX(const BlockArgs& b) { BlockBody<3, 3, 1, 2, PIN>(b); } \
  TARGET void Block3x3S2##SUFFIX(const BlockArgs& b) { BlockBody<3, 3, 2, 2, PIN>(b); } \
  TARGET void Block5x5S1##SUFFIX(const BlockArgs& b) { BlockBody<5, 5, 1, 1, PIN>(b); } \
  TARGET void Block5x5S2##SUFFIX(const BlockArgs& b) { BlockBody<5, 5, 2, 1, PIN>(b); } \
  TARGET void GenericS1##SUFFIX(const BlockArgs& b) { BlockBody<0, 0, 1, 1, PIN>(b); }  \
  TARGET void GenericS2##SUFFIX(const BlockArgs& b) { BlockBody<0, 0, 2, 1, PIN>(b); }  \
  const BlockFn kBlock##SUFFIX[kBlockKinds] = {Block3x3S1##SUFFIX, Block3x3S2##SUFFIX,  \
                                               Block5x5S1##SUFFIX, Block5x5S2##SUFFIX,  \
                                               GenericS1##SUFFIX,  GenericS2##SUFFIX};

// Only AVX-512 holds a Vec16 in one register ("v" asm operand).
SHRINK_DW_VARIANTS(Avx512, __attribute__((target("avx512f"))), true)
SHRINK_DW_VARIANTS(Avx2, __attribute__((target("avx2,fma"))), false)
SHRINK_DW_VARIANTS(Portable, , false)
#undef SHRINK_DW_VARIANTS

// --- thin GEMM --------------------------------------------------------------------------------

struct ThinArgs {
  int64_t m, n, k;
  const float* a;
  int64_t a_row, a_col;  // A(i, p) = a[i * a_row + p * a_col]
  const float* b;
  int64_t ldb;
  const float* bias;
  float* c;
  int64_t ldc;
};

// Rows m0..m0+3 (clamped: a missing row recomputes and rewrites the last one) at columns
// x + 16 v, v < V.
template <int V>
inline __attribute__((always_inline)) void ThinTile(const ThinArgs& t, int64_t m0, int64_t x) {
  int64_t row[4];
  for (int i = 0; i < 4; ++i) row[i] = std::min(m0 + i, t.m - 1);
  Vec16 acc[4][V];
  for (int i = 0; i < 4; ++i) {
    for (int v = 0; v < V; ++v) acc[i][v] = Vec16{};
  }
  for (int64_t p = 0; p < t.k; ++p) {
    Vec16 in[V];
    for (int v = 0; v < V; ++v) std::memcpy(&in[v], t.b + p * t.ldb + x + 16 * v, sizeof(Vec16));
    for (int i = 0; i < 4; ++i) {
      const Vec16 w = Broadcast(t.a + row[i] * t.a_row + p * t.a_col);
      for (int v = 0; v < V; ++v) acc[i][v] += in[v] * w;
    }
  }
  if (t.bias) {
    for (int i = 0; i < 4; ++i) {
      const Vec16 b = Broadcast(t.bias + row[i]);
      for (int v = 0; v < V; ++v) acc[i][v] += b;
    }
  }
  for (int i = 3; i >= 0; --i) {  // clamped duplicate rows hold the same values
    for (int v = 0; v < V; ++v) std::memcpy(t.c + row[i] * t.ldc + x + 16 * v, &acc[i][v], 64);
  }
}

// Column blocks outside, row groups inside: the k x 64 block of B stays in L1.
inline __attribute__((always_inline)) void ThinBody(const ThinArgs& t) {
  int64_t x = 0;
  for (; x + 64 <= t.n; x += 64) {
    for (int64_t m0 = 0; m0 < t.m; m0 += 4) ThinTile<4>(t, m0, x);
  }
  for (; x + 16 <= t.n; x += 16) {
    for (int64_t m0 = 0; m0 < t.m; m0 += 4) ThinTile<1>(t, m0, x);
  }
  if (x < t.n) {  // overlaps the previous block; needs n >= 16
    for (int64_t m0 = 0; m0 < t.m; m0 += 4) ThinTile<1>(t, m0, t.n - 16);
  }
}

using ThinFn = void (*)(const ThinArgs&);
__attribute__((target("avx512f"))) void ThinAvx512(const ThinArgs& t) { ThinBody(t); }
__attribute__((target("avx2,fma"))) void ThinAvx2(const ThinArgs& t) { ThinBody(t); }
void ThinPortable(const ThinArgs& t) { ThinBody(t); }


const BlockFn* SelectBlocks() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return kBlockAvx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return kBlockAvx2;
  return kBlockPortable;
}
std::atomic<const BlockFn*> g_blocks{SelectBlocks()};

ThinFn SelectThin() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return ThinAvx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return ThinAvx2;
  return ThinPortable;
}
std::atomic<ThinFn> g_thin{SelectThin()};

BlockKind ChooseKind(const Geo2D& g) {
  const bool square = g.kh == g.kw && g.sh == g.sw && g.dh == 1 && g.dw == 1;
  if (square && g.kh == 3) return g.sw == 1 ? k3x3S1 : k3x3S2;
  if (square && g.kh == 5) return g.sw == 1 ? k5x5S1 : k5x5S2;
  return g.sw == 1 ? kGenericS1 : kGenericS2;
}

}  // namespace

bool SetConvSimdIsaForTesting(ConvSimdIsa isa) {
  __builtin_cpu_init();
  const bool avx512 = __builtin_cpu_supports("avx512f");
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  switch (isa) {
    case ConvSimdIsa::kAuto:
      g_blocks = SelectBlocks();
      g_thin = SelectThin();
      return true;
    case ConvSimdIsa::kAvx512:
      if (!avx512) return false;
      g_blocks = kBlockAvx512;
      g_thin = ThinAvx512;
      return true;
    case ConvSimdIsa::kAvx2:
      if (!avx2) return false;
      g_blocks = kBlockAvx2;
      g_thin = ThinAvx2;
      return true;
    case ConvSimdIsa::kPortable:
      g_blocks = kBlockPortable;
      g_thin = ThinPortable;
      return true;
  }
  return false;
}

void ConvDepthwiseFast(const ConvShape& s, const float* x, const float* w, const float* bias,
                       float* y, const ThreadPool& pool) {
  Geo2D g;
  To2D(s.geo, &g);
  const int64_t planes = s.batch * s.out_channels;
  const int64_t threads = pool.num_threads();
  const int64_t macs = planes * s.out_size * s.kernel_size;
  // Enough blocks to balance the threads, and blocks small enough for the padded rows to stay
  // in the L1/L2 cache.
  int64_t blocks = 1;
  if (planes < 2 * threads) blocks = std::min(g.oh, CeilDiv(4 * threads, planes));
  const int64_t pitch = MakeRowLayout(g).pitch;
  const int64_t rows_cap = std::max<int64_t>(2, 16384 / pitch / g.sh);
  blocks = std::max(blocks, CeilDiv(g.oh, rows_cap));
  const int64_t rows_per_block = CeilDiv(g.oh, blocks);
  blocks = CeilDiv(g.oh, rows_per_block);
  const int64_t kk = s.kernel_size;
  const BlockFn block_fn = g_blocks.load(std::memory_order_relaxed)[ChooseKind(g)];
  ForEachConvUnit(pool, planes * blocks, macs, [&](int64_t unit) {
    const int64_t plane = unit / blocks, block = unit % blocks;
    const int64_t n = plane / s.out_channels, m = plane % s.out_channels;
    const int64_t c = m / s.out_per_group;  // channel multiplier: out_per_group outputs per input
    const int64_t oy0 = block * rows_per_block, oy1 = std::min(g.oh, oy0 + rows_per_block);
    const BlockArgs args{x + (n * s.in_channels + c) * s.in_size,
                         w + m * kk,
                         bias ? bias[m] : 0.0f,
                         &g,
                         oy0,
                         oy1,
                         y + plane * s.out_size};
    block_fn(args);
  });
}

void ThinGemm(int64_t m, int64_t n, int64_t k, const float* a, int64_t a_row, int64_t a_col,
              const float* b, int64_t ldb, const float* bias, float* c, int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  if (n < 16) {  // too narrow for a vector: a plain loop
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        float sum = bias ? bias[i] : 0.0f;
        for (int64_t p = 0; p < k; ++p) sum += a[i * a_row + p * a_col] * b[p * ldb + j];
        c[i * ldc + j] = sum;
      }
    }
    return;
  }
  g_thin.load(std::memory_order_relaxed)(ThinArgs{m, n, k, a, a_row, a_col, b, ldb, bias, c, ldc});
}

}  // namespace shrink::engine
