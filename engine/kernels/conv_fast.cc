// float32 fast paths of Conv and ConvTranspose on NCHW tensors (paths: see ConvPath).
//
// Why not oneDNN convolution primitives: measured on the layer shapes of the target models
// (kernels_bench), oneDNN 2.6 on plain NCHW falls back to gemm:jit (2x slower than the paths
// here for 3x3, 10-20x for depthwise), and its blocked/NHWC kernels need NCHW reorders around
// every convolution that cost as much as the convolution for these small layers. Its sgemm is
// used through Sgemm; ThinGemm (conv_simd.cc) replaces it where K is small.
//
// Work is split into independent units (batch x group x spatial tile, or output-channel chunk)
// over the pool in one parallel region per call; each unit calls a single-threaded Sgemm
// (oneDNN serializes inside a parallel region), or Sgemm threads itself when there is one unit.
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

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t RoundUp(int64_t a, int64_t b) { return CeilDiv(a, b) * b; }

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
        if (g.ow < 32) {
          // Narrow rows: one element at a time beats per-row segment bookkeeping.
          int64_t oy = p0 / g.ow, ox = p0 - oy * g.ow;
          for (int64_t i = 0; i < tile; ++i) {
            const int64_t iy = oy * g.sh - g.pt + ky * g.dh, ix = ox * g.sw + off;
            const bool inside = iy >= 0 && iy < g.ih && ix >= 0 && ix < g.iw;
            dst[i] = inside ? plane[iy * g.iw + ix] : 0.0f;
            if (++ox == g.ow) {
              ox = 0;
              ++oy;
            }
          }
          continue;
        }
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
              // A constant stride lets the compiler deinterleave with vector permutes.
              if (g.sw == 2) {
                for (int64_t ox = a; ox < b; ++ox) d[ox - ox0] = row[ox * 2 + off];
              } else {
                for (int64_t ox = a; ox < b; ++ox) d[ox - ox0] = row[ox * g.sw + off];
              }
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
      UnravelIndex(kp, g.kernel, k_index.data());
      float* dst = col + (c * s.kernel_size + kp) * tile;
      for (int64_t p = p0; p < p1; ++p) {
        int64_t offset = 0;
        bool inside = true;
        UnravelIndex(p, g.output_spatial, o_index.data());
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

void ConvGemm(const ConvShape& s, bool pointwise, const float* x, const float* w, const float* bias,
              float* y, const ThreadPool& pool) {
  const int64_t cg = s.in_per_group, mg = s.out_per_group;
  const int64_t k = cg * s.kernel_size, p_total = s.out_size;
  const int64_t macs = s.batch * s.out_channels * p_total * k;
  const int64_t threads = pool.num_threads();
  // Tile the output positions: cache-sized for im2col, else only for parallelism.
  int64_t tile = p_total;
  if (!pointwise)
    tile = std::max(kMinTile, kColumnBudgetFloats / std::max<int64_t>(k, 1) / 16 * 16);
  const int64_t planes = s.batch * s.group;
  if (macs >= kConvParallelMinMacs && planes * CeilDiv(p_total, tile) < 2 * threads) {
    tile = std::min(tile, RoundUp(CeilDiv(p_total, CeilDiv(2 * threads, planes)), 16));
    tile = std::max(tile, std::min<int64_t>(kMinTile, p_total));
  }
  tile = std::min(tile, p_total);
  const int64_t tiles = CeilDiv(p_total, tile);
  Geo2D g2;
  const bool planar = To2D(s.geo, &g2);

  ForEachConvUnit(pool, planes * tiles, macs, [&](int64_t unit) {
    const int64_t plane = unit / tiles, p0 = (unit % tiles) * tile;
    const int64_t p1 = std::min(p_total, p0 + tile), tn = p1 - p0;
    const int64_t n = plane / s.group, g = plane % s.group;
    const float* xg = x + (n * s.in_channels + g * cg) * s.in_size;
    float* yg = y + (n * s.out_channels + g * mg) * p_total;
    const float* b_mat = xg + p0;
    int64_t ldb = s.in_size;
    if (!pointwise) {
      float* col = ConvScratch(0, size_t(k * tn));
      if (planar) {
        Im2col2D(xg, cg, g2, p0, p1, col);
      } else {
        Im2colND(xg, cg, s, p0, p1, col);
      }
      b_mat = col;
      ldb = tn;
    }
    if (k <= kThinGemmMaxK) {
      ThinGemm(mg, tn, k, w + g * mg * k, k, 1, b_mat, ldb, bias ? bias + g * mg : nullptr, yg + p0,
               p_total);
      return;
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
// Shifted GEMM (stride 1): over a zero-padded copy of the input with row pitch pw, output
// (oy, ox) sits at oy * pw + ox and tap (ky, kx) reads input at that position plus
// ky * dh * pw + kx * dw for every output at once. So the convolution is a sum over taps of
// GEMMs W_tap[mg x cg] * Xpad_shifted[cg x rows * pw], computed on blocks of output rows; the
// pw - ow columns that wrap into the next row are dropped when copying out.

// Copies input rows [iy0, iy0 + rows) of `channels` planes into `buf` (plane stride `plane`,
// row pitch pw) with pl zero columns in front, zeros outside the input and after the rows.
void PadRows(const float* x, int64_t channels, const Geo2D& g, int64_t iy0, int64_t rows,
             int64_t pw, int64_t plane, float* buf) {
  const int64_t copy = std::clamp<int64_t>(pw - g.pl, 0, g.iw);
  for (int64_t c = 0; c < channels; ++c) {
    float* dst_plane = buf + c * plane;
    for (int64_t r = 0; r < rows; ++r) {
      float* dst = dst_plane + r * pw;
      const int64_t iy = iy0 + r;
      if (iy < 0 || iy >= g.ih) {
        std::fill(dst, dst + pw, 0.0f);
        continue;
      }
      std::fill(dst, dst + std::min(g.pl, pw), 0.0f);
      std::memcpy(dst + g.pl, x + (c * g.ih + iy) * g.iw, size_t(copy) * sizeof(float));
      std::fill(dst + g.pl + copy, dst + pw, 0.0f);
    }
    std::fill(dst_plane + rows * pw, dst_plane + plane, 0.0f);
  }
}

void ConvShifted(const ConvShape& s, const float* x, const float* w_taps, const float* bias,
                 float* y, const ThreadPool& pool) {
  Geo2D g;
  To2D(s.geo, &g);
  const int64_t cg = s.in_per_group, mg = s.out_per_group, kk = s.kernel_size;
  const int64_t pw = g.ow + (g.kw - 1) * g.dw, ph = g.oh + (g.kh - 1) * g.dh;
  // Kx1 kernels without padding read the input in place and write the output in place.
  const bool in_place = g.kw == 1 && pw == g.iw && g.pt == 0 && ph <= g.ih;
  const int64_t threads = pool.num_threads();
  const int64_t macs = s.batch * s.out_channels * s.out_size * cg * kk;
  int64_t rows = std::clamp<int64_t>(1024 / pw, 1, g.oh);
  if (macs >= kConvParallelMinMacs && s.batch * s.group * CeilDiv(g.oh, rows) < 2 * threads) {
    rows = std::max<int64_t>(1, CeilDiv(g.oh, CeilDiv(2 * threads, s.batch * s.group)));
  }
  const int64_t blocks = CeilDiv(g.oh, rows);
  // Each unit pads its own input rows (halo rows are copied twice), so one parallel region
  // does the whole convolution.
  ForEachConvUnit(pool, s.batch * s.group * blocks, macs, [&](int64_t unit) {
    const int64_t plane_index = unit / blocks, r0 = (unit % blocks) * rows;
    const int64_t n = plane_index / s.group, group = plane_index % s.group;
    const int64_t nr = std::min(rows, g.oh - r0), cols = nr * pw;
    const float* xg = x + (n * s.in_channels + group * cg) * s.in_size;
    const float* src = xg + r0 * pw;  // in place: row r0 of every channel plane
    int64_t plane = s.in_size;
    if (!in_place) {
      const int64_t rows_in = nr + (g.kh - 1) * g.dh;
      plane = rows_in * pw + (g.kw - 1) * g.dw + 16;
      float* buf = ConvScratch(1, size_t(cg * plane));
      PadRows(xg, cg, g, r0 - g.pt, rows_in, pw, plane, buf);
      src = buf;
    }
    float* yg = y + (n * s.out_channels + group * mg) * s.out_size;
    float* out = in_place ? yg + r0 * g.ow : ConvScratch(0, size_t(mg * cols));
    GemmShape gs;
    gs.m = mg;
    gs.n = cols;
    gs.k = cg;
    gs.lda = cg;
    gs.ldb = plane;
    gs.ldc = in_place ? s.out_size : cols;
    for (int64_t tap = 0; tap < kk; ++tap) {
      const int64_t ky = tap / g.kw, kx = tap % g.kw;
      const float* b = src + ky * g.dh * pw + kx * g.dw;
      Sgemm(gs, 1.0f, w_taps + (group * kk + tap) * mg * cg, b, tap == 0 ? 0.0f : 1.0f, out);
    }
    for (int64_t m = 0; m < mg; ++m) {
      const float b = bias ? bias[group * mg + m] : 0.0f;
      if (in_place) {
        float* row = out + m * s.out_size;
        for (int64_t i = 0; i < cols; ++i) row[i] += b;
        continue;
      }
      for (int64_t r = 0; r < nr; ++r) {
        const float* from = out + m * cols + r * pw;
        float* to = yg + m * s.out_size + (r0 + r) * g.ow;
        for (int64_t i = 0; i < g.ow; ++i) to[i] = from[i] + b;
      }
    }
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

// Kernel == stride, no padding or dilation: every output gets exactly one column value, so
// the columns are written (with the bias) instead of accumulated. Input rows [iy0, iy1).
void ScatterDisjoint2D(const float* col, int64_t channels, const Geo2D& g, int64_t iy0, int64_t iy1,
                       const float* bias, float* y) {
  const int64_t tile = (iy1 - iy0) * g.iw;
  for (int64_t c = 0; c < channels; ++c) {
    const float b = bias ? bias[c] : 0.0f;
    for (int64_t ky = 0; ky < g.kh; ++ky) {
      const float* src = col + (c * g.kh + ky) * g.kw * tile;
      for (int64_t iy = iy0; iy < iy1; ++iy) {
        float* out = y + (c * g.oh + iy * g.sh + ky) * g.ow;
        const float* s0 = src + (iy - iy0) * g.iw;
        if (g.kw == 2) {  // the common 2x2 / stride 2 upsampling: interleave two columns
          const float* s1 = s0 + tile;
          for (int64_t ix = 0; ix < g.iw; ++ix) {
            out[2 * ix] = s0[ix] + b;
            out[2 * ix + 1] = s1[ix] + b;
          }
          continue;
        }
        for (int64_t kx = 0; kx < g.kw; ++kx) {
          const float* sk = s0 + kx * tile;
          for (int64_t ix = 0; ix < g.iw; ++ix) out[ix * g.kw + kx] = sk[ix] + b;
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
      UnravelIndex(kp, g.kernel, k_index.data());
      const float* src = col + (c * s.kernel_size + kp) * tile;
      for (int64_t p = p0; p < p1; ++p) {
        UnravelIndex(p, g.input_spatial, i_index.data());
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

float* ConvScratch(int slot, size_t count) {
  // 64-byte aligned so that vector loads at multiples of 16 floats do not split cache lines.
  thread_local std::vector<float> buffers[2];
  std::vector<float>& buffer = buffers[slot];
  if (buffer.size() < count + 16) buffer.resize(count + 16);
  const uintptr_t address = reinterpret_cast<uintptr_t>(buffer.data());
  return buffer.data() + ((64 - address % 64) % 64) / sizeof(float);
}

bool To2D(const ConvGeometry& g, Geo2D* out) {
  if (g.spatial_rank == 1) {
    *out = {1, g.input_spatial[0], 1, g.output_spatial[0], 1, g.kernel[0],
            1, g.strides[0],       1, g.dilations[0],      0, g.pads_begin[0]};
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

ConvPath SelectConvPath(const ConvShape& s) {
  const ConvGeometry& g = s.geo;
  bool pointwise = true;
  for (int a = 0; a < g.spatial_rank; ++a) {
    const size_t i = size_t(a);
    pointwise = pointwise && g.kernel[i] == 1 && g.strides[i] == 1 && g.pads_begin[i] == 0 &&
                g.pads_end[i] == 0;
  }
  if (pointwise) return ConvPath::kPointwise;
  bool unit_stride = true;
  for (int64_t stride : g.strides) unit_stride = unit_stride && stride == 1;
  // The depthwise kernel deinterleaves stride-2 rows in registers; wider strides use im2col.
  if (s.in_per_group == 1 && s.group > 1 && g.spatial_rank <= 2 &&
      g.strides[size_t(g.spatial_rank - 1)] <= 2) {
    return ConvPath::kDepthwise;
  }
  // With few input channels the per-tap GEMMs are too thin; im2col makes K = taps * channels.
  // The shifted path also computes the (kw - 1) * dw wrapped columns of every row.
  const int64_t ow = g.output_spatial.back(), wrapped = (g.kernel.back() - 1) * g.dilations.back();
  if (unit_stride && g.spatial_rank <= 2 && s.in_per_group >= 8 && 2 * wrapped <= ow) {
    return ConvPath::kShifted;
  }
  return ConvPath::kIm2col;
}

void PackTapMajorWeights(const ConvShape& s, const float* w, float* packed) {
  const int64_t cg = s.in_per_group, mg = s.out_per_group, kk = s.kernel_size;
  for (int64_t group = 0; group < s.group; ++group) {
    for (int64_t tap = 0; tap < kk; ++tap) {
      for (int64_t m = 0; m < mg; ++m) {
        float* dst = packed + ((group * kk + tap) * mg + m) * cg;
        const float* src = w + (group * mg + m) * cg * kk + tap;
        for (int64_t c = 0; c < cg; ++c) dst[c] = src[c * kk];
      }
    }
  }
}

void ConvForwardFast(const ConvShape& s, const float* x, const float* w, const float* tap_major,
                     const float* bias, float* y, const ThreadPool& pool) {
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
    case ConvPath::kDepthwise:
      ConvDepthwiseFast(s, x, w, bias, y, pool);
      return;
    case ConvPath::kShifted: {
      std::vector<float> packed;
      if (!tap_major) {
        packed.resize(size_t(s.out_channels * s.in_per_group * s.kernel_size));
        PackTapMajorWeights(s, w, packed.data());
        tap_major = packed.data();
      }
      ConvShifted(s, x, tap_major, bias, y, pool);
      return;
    }
    case ConvPath::kIm2col:
      ConvGemm(s, false, x, w, bias, y, pool);
      return;
  }
}

void ConvTransposeForwardFast(const ConvShape& s, const float* x, const float* w, const float* bias,
                              float* y, const ThreadPool& pool) {
  if (s.batch == 0 || s.out_channels == 0 || s.out_size == 0) return;
  const int64_t cg = s.in_per_group, mg = s.out_per_group, kk = s.kernel_size;
  const int64_t threads = pool.num_threads();
  const int64_t planes = s.batch * s.group;
  const int64_t macs = s.batch * s.in_channels * mg * kk * s.in_size;
  const int64_t chunks = std::clamp<int64_t>(CeilDiv(threads, planes), 1, std::max<int64_t>(mg, 1));
  const int64_t per_chunk = CeilDiv(mg, chunks);
  Geo2D g2;  // its output extents are the ConvTranspose output
  const bool planar = To2D(s.geo, &g2);
  const bool disjoint = planar && g2.kh == g2.sh && g2.kw == g2.sw && g2.dh == 1 && g2.dw == 1 &&
                        g2.pt == 0 && g2.pl == 0 && g2.oh == g2.ih * g2.sh &&
                        g2.ow == g2.iw * g2.sw;
  ForEachConvUnit(pool, planes * chunks, macs, [&](int64_t unit) {
    const int64_t plane = unit / chunks, chunk = unit % chunks;
    const int64_t n = plane / s.group, g = plane % s.group;
    const int64_t m0 = chunk * per_chunk, m1 = std::min(mg, m0 + per_chunk);
    if (m0 >= m1) return;
    float* yg = y + (n * s.out_channels + g * mg + m0) * s.out_size;
    const float* bias_g = bias ? bias + g * mg + m0 : nullptr;
    if (!disjoint || cg == 0) {
      for (int64_t m = m0; m < m1; ++m) {
        float* row = yg + (m - m0) * s.out_size;
        std::fill(row, row + s.out_size, bias ? bias[g * mg + m] : 0.0f);
      }
    }
    if (cg == 0) return;
    const int64_t rows = (m1 - m0) * kk;
    int64_t tile = std::min(s.in_size, std::max(kMinTile, kColumnBudgetFloats / rows / 16 * 16));
    if (disjoint) tile = std::max<int64_t>(1, tile / g2.iw) * g2.iw;  // whole input rows
    float* col = ConvScratch(1, size_t(rows * tile));
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
      const float* a = w + g * cg * mg * kk + m0 * kk;
      if (cg <= kThinGemmMaxK) {
        ThinGemm(rows, p1 - p0, cg, a, 1, mg * kk, xg + p0, s.in_size, nullptr, col, p1 - p0);
      } else {
        Sgemm(gs, 1.0f, a, xg + p0, 0.0f, col);
      }
      if (disjoint) {
        ScatterDisjoint2D(col, m1 - m0, g2, p0 / g2.iw, p1 / g2.iw, bias_g, yg);
      } else if (planar) {
        Col2im2D(col, m1 - m0, g2, p0, p1, yg);
      } else {
        Col2imND(col, m1 - m0, s, p0, p1, yg);
      }
    }
  });
}

}  // namespace shrink::engine
