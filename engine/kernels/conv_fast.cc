// float32 fast paths of Conv and ConvTranspose on NCHW tensors.
//
// Conv takes one of three paths (measured against oneDNN 2.6 primitives on the shapes of the
// target models, see kernels_bench.cc): 1x1/stride-1/unpadded convolutions are one GEMM per
// spatial tile straight on the input; depthwise 1-D/2-D convolutions use a direct SIMD kernel
// (oneDNN has no fast plain-NCHW depthwise kernel and its NCHW<->blocked reorders cost more
// than the convolution); everything else is im2col into a per-thread, cache-sized column tile
// followed by Sgemm. ConvTranspose is Sgemm into columns followed by a col2im scatter-add.
//
// Work is split into independent units (batch x group x spatial tile, or output-channel chunk)
// over the pool; each unit calls a single-threaded Sgemm (oneDNN serializes inside a parallel
// region), or lets Sgemm thread itself when there is only one unit.
#include <algorithm>
#include <cstring>
#include <vector>

#include "engine/kernels/gemm.h"
#include "engine/kernels/nn_internal.h"

namespace shrink::engine {
namespace {

// Column tiles are sized to stay in the L2 cache next to the GEMM's own packing buffers.
constexpr int64_t kColumnBudgetFloats = 96 * 1024;
constexpr int64_t kMinTile = 64;
// Below this many multiply-adds a convolution runs on the calling thread.
constexpr int64_t kParallelMinMacs = 1 << 17;

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t RoundUp(int64_t a, int64_t b) { return CeilDiv(a, b) * b; }

// Grow-only per-thread scratch; slots let one thread hold several buffers at once.
float* Scratch(int slot, size_t count) {
  thread_local std::vector<float> buffers[2];
  std::vector<float>& buffer = buffers[slot];
  if (buffer.size() < count) buffer.resize(count);
  return buffer.data();
}

// The geometry of a 1-D or 2-D convolution as 2-D (1-D gets a unit height).
struct Geo2D {
  int64_t ih, iw, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl;
};

bool To2D(const ConvGeometry& g, Geo2D* out) {
  if (g.spatial_rank == 1) {
    *out = {1, g.input_spatial[0], 1, g.output_spatial[0], 1, g.kernel[0], 1, g.strides[0], 1,
            g.dilations[0], 0, g.pads_begin[0]};
    return true;
  }
  if (g.spatial_rank == 2) {
    *out = {g.input_spatial[0], g.input_spatial[1], g.output_spatial[0], g.output_spatial[1],
            g.kernel[0],        g.kernel[1],        g.strides[0],        g.strides[1],
            g.dilations[0],     g.dilations[1],     g.pads_begin[0],     g.pads_begin[1]};
    return true;
  }
  return false;
}

// Runs fn(unit) for unit in [0, units) over the pool, or inline for small work.
template <typename Fn>
void ForEachUnit(const ThreadPool& pool, int64_t units, int64_t macs, Fn&& fn) {
  if (units <= 1 || macs < kParallelMinMacs || pool.num_threads() <= 1) {
    for (int64_t u = 0; u < units; ++u) fn(u);
    return;
  }
  pool.ParallelFor(units, 1, [&](int64_t begin, int64_t end) {
    for (int64_t u = begin; u < end; ++u) fn(u);
  });
}

// ---------------------------------------------------------------------------------------------
// im2col

// Writes the [channels * kh * kw, p1 - p0] column block for output positions [p0, p1).
void Im2col2D(const float* x, int64_t channels, const Geo2D& g, int64_t p0, int64_t p1,
              float* col) {
  const int64_t tile = p1 - p0;
  for (int64_t c = 0; c < channels; ++c) {
    const float* plane = x + c * g.ih * g.iw;
    for (int64_t ky = 0; ky < g.kh; ++ky) {
      for (int64_t kx = 0; kx < g.kw; ++kx) {
        float* dst = col + ((c * g.kh + ky) * g.kw + kx) * tile;
        const int64_t off = kx * g.dw - g.pl;  // ix = ox * sw + off
        const int64_t ox_lo = off >= 0 ? 0 : CeilDiv(-off, g.sw);
        const int64_t ox_hi = g.iw - off > 0 ? CeilDiv(g.iw - off, g.sw) : 0;
        for (int64_t p = p0; p < p1;) {
          const int64_t oy = p / g.ow, ox0 = p - oy * g.ow;
          const int64_t ox1 = std::min(g.ow, ox0 + (p1 - p));
          float* d = dst + (p - p0);  // d[0] is the column of (oy, ox0)
          const int64_t iy = oy * g.sh - g.pt + ky * g.dh;
          if (iy < 0 || iy >= g.ih) {
            std::fill(d, d + (ox1 - ox0), 0.0f);
          } else {
            const int64_t a = std::clamp(ox_lo, ox0, ox1), b = std::clamp(ox_hi, a, ox1);
            std::fill(d, d + (a - ox0), 0.0f);
            const float* row = plane + iy * g.iw;
            if (g.sw == 1) {
              std::memcpy(d + (a - ox0), row + (a + off), size_t(b - a) * sizeof(float));
            } else {
              for (int64_t ox = a; ox < b; ++ox) d[ox - ox0] = row[ox * g.sw + off];
            }
            std::fill(d + (b - ox0), d + (ox1 - ox0), 0.0f);
          }
          p += ox1 - ox0;
        }
      }
    }
  }
}

// Any spatial rank; one index decode per element (3-D and up are rare).
void Im2colND(const float* x, int64_t channels, const ConvShape& s, int64_t p0, int64_t p1,
              float* col) {
  const ConvGeometry& g = s.geo;
  const int rank = g.spatial_rank;
  const int64_t tile = p1 - p0;
  std::vector<int64_t> k_index(static_cast<size_t>(rank)), o_index(static_cast<size_t>(rank));
  for (int64_t c = 0; c < channels; ++c) {
    const float* plane = x + c * s.in_size;
    for (int64_t kp = 0; kp < s.kernel_size; ++kp) {
      for (int64_t rest = kp, d = rank - 1; d >= 0; --d) {
        k_index[size_t(d)] = rest % g.kernel[size_t(d)];
        rest /= g.kernel[size_t(d)];
      }
      float* dst = col + (c * s.kernel_size + kp) * tile;
      for (int64_t p = p0; p < p1; ++p) {
        int64_t offset = 0;
        bool inside = true;
        for (int64_t rest = p, d = rank - 1; d >= 0; --d) {
          const size_t a = size_t(d);
          o_index[a] = rest % g.output_spatial[a];
          rest /= g.output_spatial[a];
        }
        for (size_t a = 0; a < size_t(rank); ++a) {
          int64_t i = o_index[a] * g.strides[a] - g.pads_begin[a] + k_index[a] * g.dilations[a];
          inside = inside && i >= 0 && i < g.input_spatial[a];
          offset = offset * g.input_spatial[a] + i;
        }
        dst[p - p0] = inside ? plane[offset] : 0.0f;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// GEMM-based Conv (pointwise and im2col)

void ConvGemm(const ConvShape& s, bool pointwise, const float* x, const float* w,
              const float* bias, float* y, const ThreadPool& pool) {
  const int64_t cg = s.in_per_group, mg = s.out_per_group;
  const int64_t k = cg * s.kernel_size, p_total = s.out_size;
  const int64_t macs = s.batch * s.out_channels * p_total * k;
  const int64_t threads = pool.num_threads();
  // Tile the output positions: cache-sized for im2col, else only for parallelism.
  int64_t tile = pointwise ? p_total : std::max(kMinTile, kColumnBudgetFloats / std::max<int64_t>(k, 1) / 16 * 16);
  const int64_t planes = s.batch * s.group;
  if (macs >= kParallelMinMacs && planes * CeilDiv(p_total, tile) < 2 * threads) {
    tile = std::min(tile, RoundUp(CeilDiv(p_total, CeilDiv(2 * threads, planes)), 16));
    tile = std::max(tile, std::min<int64_t>(kMinTile, p_total));
  }
  tile = std::min(tile, p_total);
  const int64_t tiles = CeilDiv(p_total, tile);
  Geo2D g2;
  const bool planar = To2D(s.geo, &g2);

  ForEachUnit(pool, planes * tiles, macs, [&](int64_t unit) {
    const int64_t plane = unit / tiles, p0 = (unit % tiles) * tile;
    const int64_t p1 = std::min(p_total, p0 + tile), tn = p1 - p0;
    const int64_t n = plane / s.group, g = plane % s.group;
    const float* xg = x + (n * s.in_channels + g * cg) * s.in_size;
    float* yg = y + (n * s.out_channels + g * mg) * p_total;
    const float* b_mat = xg + p0;
    int64_t ldb = s.in_size;
    if (!pointwise) {
      float* col = Scratch(0, size_t(k * tn));
      if (planar) {
        Im2col2D(xg, cg, g2, p0, p1, col);
      } else {
        Im2colND(xg, cg, s, p0, p1, col);
      }
      b_mat = col;
      ldb = tn;
    }
    GemmShape gs;
    gs.m = mg;
    gs.n = tn;
    gs.k = k;
    gs.lda = k;
    gs.ldb = ldb;
    gs.ldc = p_total;
    Sgemm(gs, 1.0f, w + g * mg * k, b_mat, 0.0f, yg + p0);
    if (bias) {
      for (int64_t m = 0; m < mg; ++m) {
        float* row = yg + m * p_total + p0;
        const float b = bias[g * mg + m];
        for (int64_t i = 0; i < tn; ++i) row[i] += b;
      }
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Depthwise Conv: out[i] = bias + sum_t w[t] * src[t][i], vectorized over i. The caller lays
// the input out so every tap is a contiguous stream and pads each stream by >= 16 floats.

// GCC vector extensions: the same body compiles to zmm, 2x ymm or 4x xmm code depending on the
// target of the function it is inlined into. Vec16 never crosses a call boundary (-Wpsabi).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"
typedef float Vec16 __attribute__((vector_size(64)));

inline __attribute__((always_inline)) Vec16 Load16(const float* p) {
  Vec16 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

inline __attribute__((always_inline)) void DepthwiseRowBody(const float* const* src,
                                                            const float* w, int taps,
                                                            float bias, float* out, int64_t n) {
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    Vec16 a0 = Vec16{} + bias, a1 = a0, a2 = a0, a3 = a0;
    for (int t = 0; t < taps; ++t) {
      const float* s = src[t] + i;
      const Vec16 wt = Vec16{} + w[t];
      a0 += Load16(s) * wt;
      a1 += Load16(s + 16) * wt;
      a2 += Load16(s + 32) * wt;
      a3 += Load16(s + 48) * wt;
    }
    std::memcpy(out + i, &a0, sizeof a0);
    std::memcpy(out + i + 16, &a1, sizeof a1);
    std::memcpy(out + i + 32, &a2, sizeof a2);
    std::memcpy(out + i + 48, &a3, sizeof a3);
  }
  for (; i < n; i += 16) {
    Vec16 a0 = Vec16{} + bias;
    for (int t = 0; t < taps; ++t) a0 += Load16(src[t] + i) * (Vec16{} + w[t]);
    std::memcpy(out + i, &a0, size_t(std::min<int64_t>(16, n - i)) * sizeof(float));
  }
}

using DepthwiseRowFn = void (*)(const float* const*, const float*, int, float, float*, int64_t);

__attribute__((target("avx512f"))) void DepthwiseRowAvx512(const float* const* src,
                                                           const float* w, int taps, float bias,
                                                           float* out, int64_t n) {
  DepthwiseRowBody(src, w, taps, bias, out, n);
}
__attribute__((target("avx2,fma"))) void DepthwiseRowAvx2(const float* const* src,
                                                          const float* w, int taps, float bias,
                                                          float* out, int64_t n) {
  DepthwiseRowBody(src, w, taps, bias, out, n);
}
void DepthwiseRowPortable(const float* const* src, const float* w, int taps, float bias,
                          float* out, int64_t n) {
  DepthwiseRowBody(src, w, taps, bias, out, n);
}

DepthwiseRowFn SelectDepthwiseRow() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return DepthwiseRowAvx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return DepthwiseRowAvx2;
  return DepthwiseRowPortable;
}
const DepthwiseRowFn kDepthwiseRow = SelectDepthwiseRow();
#pragma GCC diagnostic pop

// Output rows [oy0, oy1) of one channel plane.
void DepthwiseBlock(const float* x, const float* w, float bias, const Geo2D& g, int64_t oy0,
                    int64_t oy1, float* y) {
  const int64_t rows = (oy1 - 1 - oy0) * g.sh + (g.kh - 1) * g.dh + 1;
  const int64_t iy0 = oy0 * g.sh - g.pt;
  const int taps = int(g.kh * g.kw);
  thread_local std::vector<const float*> tap_pointers;
  if (tap_pointers.size() < size_t(taps)) tap_pointers.resize(size_t(taps));
  const float** src = tap_pointers.data();
  if (g.sh == 1 && g.sw == 1) {
    // Flat over a zero-padded copy of the rows: output (oy, ox) at (oy - oy0) * pw + ox.
    const int64_t pw = g.ow + (g.kw - 1) * g.dw;
    const int64_t n = (oy1 - oy0) * pw;
    const size_t buf_size = size_t(rows * pw + (g.kw - 1) * g.dw + 32);
    float* buf = Scratch(0, buf_size);
    float* out = Scratch(1, size_t(n + 16));
    const int64_t copy = std::clamp<int64_t>(pw - g.pl, 0, g.iw);
    for (int64_t r = 0; r < rows; ++r) {
      float* dst = buf + r * pw;
      const int64_t iy = iy0 + r;
      if (iy < 0 || iy >= g.ih || copy == 0) {
        std::fill(dst, dst + pw, 0.0f);
        continue;
      }
      std::fill(dst, dst + std::min(g.pl, pw), 0.0f);
      std::memcpy(dst + g.pl, x + iy * g.iw, size_t(copy) * sizeof(float));
      std::fill(dst + g.pl + copy, dst + pw, 0.0f);
    }
    std::fill(buf + rows * pw, buf + buf_size, 0.0f);
    for (int64_t ky = 0, t = 0; ky < g.kh; ++ky) {
      for (int64_t kx = 0; kx < g.kw; ++kx, ++t) src[t] = buf + ky * g.dh * pw + kx * g.dw;
    }
    kDepthwiseRow(src, w, taps, bias, out, n);
    for (int64_t r = 0; r < oy1 - oy0; ++r) {
      std::memcpy(y + (oy0 + r) * g.ow, out + r * pw, size_t(g.ow) * sizeof(float));
    }
    return;
  }
  // Strided: each padded row is split into sw phases so every tap reads a contiguous stream.
  const int64_t q_max = (g.kw - 1) * g.dw / g.sw;
  const int64_t lp = g.ow + q_max + 16;
  float* buf = Scratch(0, size_t(rows * g.sw * lp));
  std::fill(buf, buf + rows * g.sw * lp, 0.0f);
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t iy = iy0 + r;
    if (iy < 0 || iy >= g.ih) continue;
    const float* row = x + iy * g.iw;
    float* dst = buf + r * g.sw * lp;
    const int64_t ix_end = std::min(g.iw, lp * g.sw - g.pl);
    for (int64_t ix = 0; ix < ix_end; ++ix) {
      const int64_t j = ix + g.pl;
      dst[(j % g.sw) * lp + j / g.sw] = row[ix];
    }
  }
  for (int64_t oy = oy0; oy < oy1; ++oy) {
    for (int64_t ky = 0, t = 0; ky < g.kh; ++ky) {
      const int64_t r = (oy - oy0) * g.sh + ky * g.dh;
      for (int64_t kx = 0; kx < g.kw; ++kx, ++t) {
        const int64_t j = kx * g.dw;
        src[t] = buf + (r * g.sw + j % g.sw) * lp + j / g.sw;
      }
    }
    kDepthwiseRow(src, w, taps, bias, y + oy * g.ow, g.ow);
  }
}

void ConvDepthwise(const ConvShape& s, const Geo2D& g, const float* x, const float* w,
                   const float* bias, float* y, const ThreadPool& pool) {
  const int64_t planes = s.batch * s.out_channels;
  const int64_t threads = pool.num_threads();
  const int64_t macs = planes * s.out_size * s.kernel_size;
  int64_t blocks = 1;
  if (planes < 2 * threads) blocks = std::min(g.oh, CeilDiv(4 * threads, planes));
  // Keep blocks small enough for the padded copy to stay in L1/L2.
  const int64_t rows_cap = std::max<int64_t>(1, 16384 / std::max<int64_t>(1, g.ow + 16));
  blocks = std::max(blocks, CeilDiv(g.oh, rows_cap));
  const int64_t rows_per_block = CeilDiv(g.oh, blocks);
  blocks = CeilDiv(g.oh, rows_per_block);
  const int64_t kk = s.kernel_size;
  ForEachUnit(pool, planes * blocks, macs, [&](int64_t unit) {
    const int64_t plane = unit / blocks, block = unit % blocks;
    const int64_t n = plane / s.out_channels, m = plane % s.out_channels;
    const int64_t c = m / s.out_per_group;  // channel multiplier: out_per_group outputs per input
    const int64_t oy0 = block * rows_per_block, oy1 = std::min(g.oh, oy0 + rows_per_block);
    DepthwiseBlock(x + (n * s.in_channels + c) * s.in_size, w + m * kk, bias ? bias[m] : 0.0f,
                   g, oy0, oy1, y + plane * s.out_size);
  });
}

// ---------------------------------------------------------------------------------------------
// ConvTranspose: columns = W_g^T * X_g, then scatter-add the columns into the output.

void Col2im2D(const float* col, int64_t channels, const Geo2D& g, int64_t p0, int64_t p1,
              float* y) {
  // Here (ih, iw) is the ConvTranspose input and (oh, ow) its output.
  const int64_t tile = p1 - p0;
  for (int64_t c = 0; c < channels; ++c) {
    float* plane = y + c * g.oh * g.ow;
    for (int64_t ky = 0; ky < g.kh; ++ky) {
      for (int64_t kx = 0; kx < g.kw; ++kx) {
        const float* src = col + ((c * g.kh + ky) * g.kw + kx) * tile;
        const int64_t off = kx * g.dw - g.pl;  // ox = ix * sw + off
        const int64_t ix_lo = off >= 0 ? 0 : CeilDiv(-off, g.sw);
        const int64_t ix_hi = g.ow - off > 0 ? CeilDiv(g.ow - off, g.sw) : 0;
        for (int64_t p = p0; p < p1;) {
          const int64_t iy = p / g.iw, ix0 = p - iy * g.iw;
          const int64_t ix1 = std::min(g.iw, ix0 + (p1 - p));
          const int64_t oy = iy * g.sh - g.pt + ky * g.dh;
          if (oy >= 0 && oy < g.oh) {
            const float* s = src + (p - p0);  // s[0] is the column of (iy, ix0)
            float* row = plane + oy * g.ow;
            const int64_t a = std::clamp(ix_lo, ix0, ix1), b = std::clamp(ix_hi, a, ix1);
            if (g.sw == 1) {
              float* r = row + (a + off);
              const float* v = s + (a - ix0);
              for (int64_t i = 0; i < b - a; ++i) r[i] += v[i];
            } else {
              for (int64_t ix = a; ix < b; ++ix) row[ix * g.sw + off] += s[ix - ix0];
            }
          }
          p += ix1 - ix0;
        }
      }
    }
  }
}

void Col2imND(const float* col, int64_t channels, const ConvShape& s, int64_t p0, int64_t p1,
              float* y) {
  const ConvGeometry& g = s.geo;
  const int rank = g.spatial_rank;
  const int64_t tile = p1 - p0;
  std::vector<int64_t> k_index(static_cast<size_t>(rank)), i_index(static_cast<size_t>(rank));
  for (int64_t c = 0; c < channels; ++c) {
    float* plane = y + c * s.out_size;
    for (int64_t kp = 0; kp < s.kernel_size; ++kp) {
      for (int64_t rest = kp, d = rank - 1; d >= 0; --d) {
        k_index[size_t(d)] = rest % g.kernel[size_t(d)];
        rest /= g.kernel[size_t(d)];
      }
      const float* src = col + (c * s.kernel_size + kp) * tile;
      for (int64_t p = p0; p < p1; ++p) {
        for (int64_t rest = p, d = rank - 1; d >= 0; --d) {
          i_index[size_t(d)] = rest % g.input_spatial[size_t(d)];
          rest /= g.input_spatial[size_t(d)];
        }
        int64_t offset = 0;
        bool inside = true;
        for (size_t a = 0; a < size_t(rank); ++a) {
          int64_t o = i_index[a] * g.strides[a] - g.pads_begin[a] + k_index[a] * g.dilations[a];
          inside = inside && o >= 0 && o < g.output_spatial[a];
          offset = offset * g.output_spatial[a] + o;
        }
        if (inside) plane[offset] += src[p - p0];
      }
    }
  }
}

}  // namespace

ConvPath SelectConvPath(const ConvShape& s) {
  const ConvGeometry& g = s.geo;
  bool pointwise = true;
  for (int a = 0; a < g.spatial_rank; ++a) {
    const size_t i = size_t(a);
    pointwise = pointwise && g.kernel[i] == 1 && g.strides[i] == 1 && g.pads_begin[i] == 0 &&
                g.pads_end[i] == 0;
  }
  if (pointwise) return ConvPath::kPointwise;
  if (s.in_per_group == 1 && s.group > 1 && g.spatial_rank <= 2) return ConvPath::kDepthwise;
  return ConvPath::kIm2col;
}

void ConvForwardFast(const ConvShape& s, const float* x, const float* w, const float* bias,
                     float* y, const ThreadPool& pool) {
  if (s.batch == 0 || s.out_channels == 0 || s.out_size == 0) return;
  if (s.in_per_group == 0 || s.kernel_size == 0) {
    // No inputs contribute: the output is the bias.
    for (int64_t n = 0; n < s.batch; ++n) {
      for (int64_t m = 0; m < s.out_channels; ++m) {
        float* row = y + (n * s.out_channels + m) * s.out_size;
        std::fill(row, row + s.out_size, bias ? bias[m] : 0.0f);
      }
    }
    return;
  }
  switch (SelectConvPath(s)) {
    case ConvPath::kPointwise:
      ConvGemm(s, true, x, w, bias, y, pool);
      return;
    case ConvPath::kDepthwise: {
      Geo2D g;
      To2D(s.geo, &g);
      ConvDepthwise(s, g, x, w, bias, y, pool);
      return;
    }
    case ConvPath::kIm2col:
      ConvGemm(s, false, x, w, bias, y, pool);
      return;
  }
}

void ConvTransposeForwardFast(const ConvShape& s, const float* x, const float* w,
                              const float* bias, float* y, const ThreadPool& pool) {
  if (s.batch == 0 || s.out_channels == 0 || s.out_size == 0) return;
  const int64_t cg = s.in_per_group, mg = s.out_per_group, kk = s.kernel_size;
  const int64_t threads = pool.num_threads();
  const int64_t planes = s.batch * s.group;
  const int64_t macs = s.batch * s.in_channels * mg * kk * s.in_size;
  const int64_t chunks = std::clamp<int64_t>(CeilDiv(threads, planes), 1, std::max<int64_t>(mg, 1));
  const int64_t per_chunk = CeilDiv(mg, chunks);
  Geo2D g2;  // its output extents are the ConvTranspose output
  const bool planar = To2D(s.geo, &g2);
  ForEachUnit(pool, planes * chunks, macs, [&](int64_t unit) {
    const int64_t plane = unit / chunks, chunk = unit % chunks;
    const int64_t n = plane / s.group, g = plane % s.group;
    const int64_t m0 = chunk * per_chunk, m1 = std::min(mg, m0 + per_chunk);
    if (m0 >= m1) return;
    float* yg = y + (n * s.out_channels + g * mg + m0) * s.out_size;
    for (int64_t m = m0; m < m1; ++m) {
      float* row = yg + (m - m0) * s.out_size;
      std::fill(row, row + s.out_size, bias ? bias[g * mg + m] : 0.0f);
    }
    if (cg == 0) return;
    const int64_t rows = (m1 - m0) * kk;
    const int64_t tile = std::min(s.in_size, std::max(kMinTile, kColumnBudgetFloats / rows / 16 * 16));
    float* col = Scratch(1, size_t(rows * tile));
    const float* xg = x + (n * s.in_channels + g * cg) * s.in_size;
    for (int64_t p0 = 0; p0 < s.in_size; p0 += tile) {
      const int64_t p1 = std::min(s.in_size, p0 + tile);
      GemmShape gs;
      gs.trans_a = true;
      gs.m = rows;
      gs.n = p1 - p0;
      gs.k = cg;
      gs.lda = mg * kk;
      gs.ldb = s.in_size;
      gs.ldc = p1 - p0;
      Sgemm(gs, 1.0f, w + g * cg * mg * kk + m0 * kk, xg + p0, 0.0f, col);
      if (planar) {
        Col2im2D(col, m1 - m0, g2, p0, p1, yg);
      } else {
        Col2imND(col, m1 - m0, s, p0, p1, yg);
      }
    }
  });
}

}  // namespace shrink::engine
