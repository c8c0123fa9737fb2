// Fast paths of the integer convolutions. Each pads the input once per image (so windows need
// no bounds checks) and then either builds im2row rows for the int16 dot-product GEMM, runs a
// direct depthwise loop, or builds VNNI panels for the u8 x s8 GEMM. All are exact.
#include <algorithm>
#include <vector>

#include "engine/kernels/quantized_conv.h"

namespace shrink::engine::quant {
namespace {

// One image of x, spatially padded, as E values (fill for the padding).
template <typename E>
struct PaddedImage {
  std::vector<int64_t> strides;  // element strides of the padded spatial dims
  int64_t plane = 1;             // elements per channel
  std::vector<E> data;           // [C, plane]
};

template <typename T, typename E, typename Convert>
void CopyRow(const T* __restrict src, int64_t n, Convert convert, E* __restrict dst) {
  for (int64_t i = 0; i < n; ++i) dst[i] = convert(int32_t(src[i]));
}

// convert(code) gives the stored value of an input code.
template <typename E, typename Convert>
void BuildPadded(const ConvProblem& p, const void* x, int64_t n, const ThreadPool& pool, E fill,
                 Convert convert, PaddedImage<E>* img) {
  const ConvGeometry& g = p.geo;
  const int rank = g.spatial_rank;
  std::vector<int64_t> dims(static_cast<size_t>(rank));
  for (int d = 0; d < rank; ++d) {
    size_t a = size_t(d);
    int64_t needed =
        (g.output_spatial[a] - 1) * g.strides[a] + (g.kernel[a] - 1) * g.dilations[a] + 1;
    dims[a] = std::max(g.pads_begin[a] + g.input_spatial[a] + g.pads_end[a], needed);
  }
  img->strides.assign(size_t(rank), 1);
  for (int d = rank - 2; d >= 0; --d) {
    img->strides[size_t(d)] = img->strides[size_t(d + 1)] * dims[size_t(d + 1)];
  }
  img->plane = img->strides[0] * dims[0];
  img->data.assign(size_t(p.channels * img->plane), fill);
  const int64_t width = g.input_spatial.back();
  const int64_t rows = p.in_image / width;  // input rows along the last dim
  pool.ParallelFor(p.channels, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, p.in_image)),
                   [&](int64_t c0, int64_t c1) {
                     for (int64_t c = c0; c < c1; ++c) {
                       for (int64_t r = 0; r < rows; ++r) {
                         int64_t rest = r, offset = g.pads_begin.back();
                         for (int d = rank - 2; d >= 0; --d) {
                           size_t a = size_t(d);
                           offset +=
                               (rest % g.input_spatial[a] + g.pads_begin[a]) * img->strides[a];
                           rest /= g.input_spatial[a];
                         }
                         E* dst = img->data.data() + c * img->plane + offset;
                         const int64_t src = ((n * p.channels + c) * rows + r) * width;
                         if (p.x_type == DataType::kUint8) {
                           CopyRow(static_cast<const uint8_t*>(x) + src, width, convert, dst);
                         } else {
                           CopyRow(static_cast<const int8_t*>(x) + src, width, convert, dst);
                         }
                       }
                     }
                   });
}

// Offset of each kernel tap and of each output pixel's window origin in the padded image.
void WindowOffsets(const ConvProblem& p, const std::vector<int64_t>& strides,
                   std::vector<int64_t>* taps, std::vector<int64_t>* origins) {
  const ConvGeometry& g = p.geo;
  const int rank = g.spatial_rank;
  taps->resize(size_t(p.kernel_size));
  for (int64_t q = 0; q < p.kernel_size; ++q) {
    int64_t rest = q, offset = 0;
    for (int d = rank - 1; d >= 0; --d) {
      size_t a = size_t(d);
      offset += (rest % g.kernel[a]) * g.dilations[a] * strides[a];
      rest /= g.kernel[a];
    }
    (*taps)[size_t(q)] = offset;
  }
  origins->resize(size_t(p.out_image));
  for (int64_t o = 0; o < p.out_image; ++o) {
    int64_t rest = o, offset = 0;
    for (int d = rank - 1; d >= 0; --d) {
      size_t a = size_t(d);
      offset += (rest % g.output_spatial[a]) * g.strides[a] * strides[a];
      rest /= g.output_spatial[a];
    }
    (*origins)[size_t(o)] = offset;
  }
}

// Pixels per work unit: a panel of about `bytes`, at least `align`, shrunk until every thread
// has work.
int64_t PixelChunk(const ConvProblem& p, int64_t row_bytes, int64_t bytes, int64_t align,
                   const ThreadPool& pool) {
  int64_t pc = std::clamp<int64_t>(bytes / row_bytes / align * align, align, 16 * align);
  const int64_t units_wanted = 2 * int64_t(pool.num_threads());
  while (pc > align && p.geo.group * ((p.out_image + pc - 1) / pc) < units_wanted) {
    pc = std::max(align, pc / 2 / align * align);
  }
  return pc;
}

// A depthwise channel over a plane whose two spatial dims were split into stride phases:
// acc[i] = sum_q w[q] * plane[offset[q] + i] for i < length. With the phases, every tap reads
// one contiguous run covering all output rows (row pitch = phase width; the columns past the
// output width are computed and dropped). Built portable, AVX2 and AVX512 (integer only, so
// the builds agree).
__attribute__((always_inline)) inline void MultiplyAdd(const int16_t* __restrict src, int32_t w,
                                                       int64_t n, int32_t* __restrict acc) {
  for (int64_t i = 0; i < n; ++i) acc[i] += w * int32_t(src[i]);
}

__attribute__((always_inline)) inline void DepthwiseBody(const int16_t* plane,
                                                         const int16_t* weights,
                                                         const int64_t* offsets, int64_t taps,
                                                         int64_t length, int32_t* acc) {
  std::fill_n(acc, length, 0);
  for (int64_t q = 0; q < taps; ++q) MultiplyAdd(plane + offsets[q], weights[q], length, acc);
}

void DepthwisePortable(const int16_t* plane, const int16_t* weights, const int64_t* offsets,
                       int64_t taps, int64_t length, int32_t* acc) {
  DepthwiseBody(plane, weights, offsets, taps, length, acc);
}
__attribute__((target("avx2"))) void DepthwiseAvx2(const int16_t* plane, const int16_t* weights,
                                                   const int64_t* offsets, int64_t taps,
                                                   int64_t length, int32_t* acc) {
  DepthwiseBody(plane, weights, offsets, taps, length, acc);
}
__attribute__((target("avx512f,avx512bw,prefer-vector-width=512"))) void DepthwiseAvx512(
    const int16_t* plane, const int16_t* weights, const int64_t* offsets, int64_t taps,
    int64_t length, int32_t* acc) {
  DepthwiseBody(plane, weights, offsets, taps, length, acc);
}

// Phase geometry of a 2-D depthwise convolution (1-D is treated as H = 1): the padded plane
// is split into sh * sw phase planes, padded element (r, c) going to phase (r % sh, c % sw)
// at (r / sh, c / sw).
struct DepthwisePlan {
  int64_t sh = 1, sw = 1;        // strides
  int64_t pt = 0, pl = 0;        // leading pads
  int64_t h = 1, w = 1;          // input
  int64_t hq = 1, wq = 1;        // one phase plane
  int64_t oh = 1, ow = 1;        // output
  int64_t plane = 1;             // elements of all phases of one channel
  std::vector<int64_t> offsets;  // per tap: phase plane start + row/column offset
};

DepthwisePlan MakeDepthwisePlan(const ConvProblem& p) {
  const ConvGeometry& g = p.geo;
  const bool two_d = g.spatial_rank == 2;
  const int64_t kh = two_d ? g.kernel[0] : 1, kw = g.kernel.back();
  const int64_t dh = two_d ? g.dilations[0] : 1, dw = g.dilations.back();
  DepthwisePlan d;
  d.sh = two_d ? g.strides[0] : 1;
  d.sw = g.strides.back();
  d.pt = two_d ? g.pads_begin[0] : 0;
  d.pl = g.pads_begin.back();
  d.h = two_d ? g.input_spatial[0] : 1;
  d.w = g.input_spatial.back();
  d.oh = two_d ? g.output_spatial[0] : 1;
  d.ow = g.output_spatial.back();
  // Padded extents: the input plus pads, and at least every window's reach.
  const int64_t hp =
      std::max(d.pt + d.h + (two_d ? g.pads_end[0] : 0), (d.oh - 1) * d.sh + (kh - 1) * dh + 1);
  const int64_t wp =
      std::max(d.pl + d.w + g.pads_end.back(), (d.ow - 1) * d.sw + (kw - 1) * dw + 1);
  d.hq = (hp + d.sh - 1) / d.sh;
  d.wq = (wp + d.sw - 1) / d.sw;
  d.plane = d.sh * d.sw * d.hq * d.wq;
  for (int64_t a = 0; a < kh; ++a) {
    for (int64_t b = 0; b < kw; ++b) {
      const int64_t r = a * dh, c = b * dw;
      const int64_t phase = (r % d.sh) * d.sw + c % d.sw;
      d.offsets.push_back(phase * d.hq * d.wq + (r / d.sh) * d.wq + c / d.sw);
    }
  }
  return d;
}

// dst[j] = src[j * stride] - zp for j < n; strides 1 and 2 get constant-stride loops.
template <typename T>
void GatherRow(const T* __restrict src, int64_t n, int64_t stride, int32_t zp,
               int16_t* __restrict dst) {
  if (stride == 1) {
    for (int64_t j = 0; j < n; ++j) dst[j] = int16_t(int32_t(src[j]) - zp);
  } else if (stride == 2) {
    for (int64_t j = 0; j < n; ++j) dst[j] = int16_t(int32_t(src[2 * j]) - zp);
  } else {
    for (int64_t j = 0; j < n; ++j) dst[j] = int16_t(int32_t(src[j * stride]) - zp);
  }
}

// Channel c of image n, minus the zero point, into its phase planes (padding stays 0).
template <typename T>
void BuildPhases(const DepthwisePlan& d, const T* x, int32_t zp, int16_t* phases) {
  std::fill_n(phases, d.plane, 0);
  // Per column phase: the first input column landing in it, how many, and where.
  int64_t first[8], count[8], column[8];
  const int64_t column_phases = std::min<int64_t>(d.sw, 8);
  for (int64_t pc = 0; pc < column_phases; ++pc) {
    first[pc] = ((pc - d.pl) % d.sw + d.sw) % d.sw;
    count[pc] = first[pc] < d.w ? (d.w - first[pc] + d.sw - 1) / d.sw : 0;
    column[pc] = (first[pc] + d.pl) / d.sw;
  }
  for (int64_t row = 0; row < d.h; ++row) {
    const int64_t r = row + d.pt;
    const int64_t pr = d.sh == 1 ? 0 : r % d.sh, rq = d.sh == 1 ? r : r / d.sh;
    for (int64_t pc = 0; pc < column_phases; ++pc) {
      int16_t* dst = phases + ((pr * d.sw + pc) * d.hq + rq) * d.wq + column[pc];
      GatherRow(x + row * d.w + first[pc], count[pc], d.sw, zp, dst);
    }
  }
}

}  // namespace

void PackConvWeightsS16(const ConvProblem& p, const void* w, ConvWeights* out) {
  const int64_t kp = PadK(p.k);
  out->m = p.out_channels;
  out->k = p.k;
  out->zero_points = p.w_zp;
  out->s16.assign(size_t(p.out_channels * kp), 0);
  for (int64_t m = 0; m < p.out_channels; ++m) {
    for (int64_t i = 0; i < p.k; ++i) {
      out->s16[size_t(m * kp + i)] = int16_t(CodeAt(p.w_type, w, m * p.k + i) - p.w_zp[size_t(m)]);
    }
  }
}

void PackConvWeightsVnni(const ConvProblem& p, const void* w, ConvWeights* out) {
  const int64_t kp = PadTo(p.k, 4);
  const int32_t offset = ROffset(p.w_type);
  out->m = p.out_channels;
  out->k = p.k;
  out->zero_points = p.w_zp;
  out->s8.assign(size_t(p.out_channels * kp), 0);
  out->r0.resize(size_t(p.out_channels));
  out->sr.assign(size_t(p.out_channels), 0);
  for (int64_t m = 0; m < p.out_channels; ++m) {
    for (int64_t i = 0; i < p.k; ++i) {
      int8_t v = int8_t(CodeAt(p.w_type, w, m * p.k + i) - offset);
      out->s8[size_t(m * kp + i)] = v;
      out->sr[size_t(m)] += v;
    }
    out->r0[size_t(m)] = p.w_zp[size_t(m)] - offset;
  }
}

void RunGemmConv(const ConvProblem& p, const void* x, const ConvWeights& w, const ThreadPool& pool,
                 const ConvEpilogue& epilogue) {
  const int64_t kp = PadK(p.k), ks = p.kernel_size;
  const int64_t pc = PixelChunk(p, kp * 2, 65536, 16, pool);
  const int64_t chunks = (p.out_image + pc - 1) / pc;
  const int32_t zp = p.x_zp;
  PaddedImage<int16_t> img;
  std::vector<int64_t> taps, origins;
  for (int64_t n = 0; n < p.batch; ++n) {
    BuildPadded<int16_t>(
        p, x, n, pool, 0, [zp](int32_t v) { return int16_t(v - zp); }, &img);
    if (n == 0) WindowOffsets(p, img.strides, &taps, &origins);
    const int64_t units = p.geo.group * chunks;
    pool.ParallelFor(
        units, pc * p.group_out * kp >= (1 << 15) ? 1 : units, [&](int64_t u0, int64_t u1) {
          std::vector<int16_t> panel(size_t(pc * kp), 0);  // the k..kp tail stays zero
          std::vector<int32_t> acc(static_cast<size_t>(pc * p.group_out));
          for (int64_t u = u0; u < u1; ++u) {
            const int64_t g = u / chunks, p0 = (u % chunks) * pc;
            const int64_t count = std::min(pc, p.out_image - p0);
            for (int64_t i = 0; i < count; ++i) {  // im2row
              const int16_t* base =
                  img.data.data() + g * p.group_in * img.plane + origins[size_t(p0 + i)];
              for (int64_t c = 0; c < p.group_in; ++c) {
                const int16_t* src = base + c * img.plane;
                int16_t* dst = panel.data() + i * kp + c * ks;
                for (int64_t q = 0; q < ks; ++q) dst[q] = src[taps[size_t(q)]];
              }
            }
            DotGemmS16(panel.data(), w.s16.data() + g * p.group_out * kp, count, p.group_out, kp,
                       acc.data(), 1, count, /*reference=*/false);
            for (int64_t j = 0; j < p.group_out; ++j) {
              epilogue(n, g * p.group_out + j, p0, count, acc.data() + j * count);
            }
          }
        });
  }
}

void RunDepthwiseConv(const ConvProblem& p, const void* x, const ConvWeights& w,
                      const ThreadPool& pool, const ConvEpilogue& epilogue) {
  const GemmIsa isa = ActiveGemmIsa();
  auto* run = isa == GemmIsa::kVnni   ? DepthwiseAvx512
              : isa == GemmIsa::kAvx2 ? DepthwiseAvx2
                                      : DepthwisePortable;
  const int64_t kp = PadK(p.k);
  const DepthwisePlan d = MakeDepthwisePlan(p);
  const int64_t length = (d.oh - 1) * d.wq + d.ow;
  const int64_t work = p.out_image * p.kernel_size;
  pool.ParallelFor(
      p.batch * p.channels, std::max<int64_t>(1, (1 << 15) / std::max<int64_t>(1, work)),
      [&](int64_t u0, int64_t u1) {
        std::vector<int16_t> phases(static_cast<size_t>(d.plane));
        std::vector<int32_t> acc(static_cast<size_t>(d.oh * d.wq));
        std::vector<int32_t> out(static_cast<size_t>(p.out_image));
        for (int64_t u = u0; u < u1; ++u) {  // u = image * channels + channel
          const int64_t c = u % p.channels;
          if (p.x_type == DataType::kUint8) {
            BuildPhases(d, static_cast<const uint8_t*>(x) + u * p.in_image, p.x_zp, phases.data());
          } else {
            BuildPhases(d, static_cast<const int8_t*>(x) + u * p.in_image, p.x_zp, phases.data());
          }
          run(phases.data(), w.s16.data() + c * kp, d.offsets.data(), int64_t(d.offsets.size()),
              length, acc.data());
          for (int64_t r = 0; r < d.oh; ++r) {
            std::copy_n(acc.data() + r * d.wq, d.ow, out.data() + r * d.ow);
          }
          epilogue(u / p.channels, c, 0, p.out_image, out.data());
        }
      });
}

// out[i] = the 4 bytes s[t][i * stride] (t = 0..3) as one little-endian word.
void Interleave4(const uint8_t* const* s, int64_t count, int64_t stride, uint32_t* out) {
  if (stride == 1) {
    InterleaveBytes4(s, count, out);
    return;
  }
  const uint8_t *s0 = s[0], *s1 = s[1], *s2 = s[2], *s3 = s[3];
  for (int64_t i = 0; i < count; ++i) {
    const int64_t j = i * stride;
    out[i] = uint32_t(s0[j]) | uint32_t(s1[j]) << 8 | uint32_t(s2[j]) << 16 | uint32_t(s3[j]) << 24;
  }
}

// Builds the VNNI panel [kp / 4][pc][4] for pixels [p0, p0 + count) of group g and the column
// terms tz (sum - k * z0) of the GEMM. Pixels are taken in runs along the last output dim,
// where window origins advance by the stride. `zeros` backs the k >= p.k padding rows.
// k_offsets[k]: offset of (channel, tap) k from a window origin in the padded image.
void VnniIm2Col(const ConvProblem& p, const PaddedImage<uint8_t>& img,
                const std::vector<int64_t>& k_offsets, const std::vector<int64_t>& origins,
                int64_t g, int64_t p0, int64_t count, int64_t pc, int32_t z0, const uint8_t* zeros,
                uint32_t* panel, int32_t* tz) {
  const int64_t groups = PadTo(p.k, 4) / 4;
  const int64_t out_w = p.geo.output_spatial.back(), stride = p.geo.strides.back();
  const uint8_t* group = img.data.data() + g * p.group_in * img.plane;
  for (int64_t i = 0; i < count;) {
    const int64_t run = std::min(count - i, out_w - (p0 + i) % out_w);
    const uint8_t* origin = group + origins[size_t(p0 + i)];
    for (int64_t q = 0; q < groups; ++q) {
      const uint8_t* src[4];
      for (int t = 0; t < 4; ++t) {
        const int64_t k = 4 * q + t;
        src[t] = k < p.k ? origin + k_offsets[size_t(k)] : zeros;
      }
      Interleave4(src, run, stride, panel + q * pc + i);
    }
    i += run;
  }
  VnniColumnSums(reinterpret_cast<const uint8_t*>(panel), pc, groups * 4, -int32_t(p.k) * z0, tz);
}

void RunVnniConv(const ConvProblem& p, const void* x, const ConvWeights& w, const ThreadPool& pool,
                 const ConvEpilogue& epilogue) {
  const int64_t kp = PadTo(p.k, 4);
  const int64_t pc = PixelChunk(p, kp, 65536, 32, pool);
  const int64_t chunks = (p.out_image + pc - 1) / pc;
  const int32_t offset = ZOffset(p.x_type);
  const int32_t z0 = p.x_zp + offset;  // padding holds the zero point: (zu - z0) = 0 there
  PaddedImage<uint8_t> img;
  std::vector<int64_t> taps, origins, k_offsets;
  for (int64_t n = 0; n < p.batch; ++n) {
    BuildPadded<uint8_t>(
        p, x, n, pool, uint8_t(z0), [offset](int32_t v) { return uint8_t(v + offset); }, &img);
    if (n == 0) {
      WindowOffsets(p, img.strides, &taps, &origins);
      k_offsets.resize(size_t(p.k));
      for (int64_t k = 0; k < p.k; ++k) {
        k_offsets[size_t(k)] = (k / p.kernel_size) * img.plane + taps[size_t(k % p.kernel_size)];
      }
    }
    const int64_t units = p.geo.group * chunks;
    pool.ParallelFor(
        units, pc * p.group_out * kp >= (1 << 16) ? 1 : units, [&](int64_t u0, int64_t u1) {
          std::vector<uint32_t> panel(size_t(kp / 4 * pc), 0);  // 4 k values per word
          std::vector<uint8_t> zeros(static_cast<size_t>(pc * p.geo.strides.back()), 0);
          std::vector<int32_t> tz(static_cast<size_t>(pc)), z0s(static_cast<size_t>(pc), z0);
          std::vector<int32_t> acc(static_cast<size_t>(pc * p.group_out));
          VnniGemm gemm;
          gemm.z = reinterpret_cast<const uint8_t*>(panel.data());
          gemm.nz = pc;
          gemm.ldr = kp;
          gemm.kp = kp;
          gemm.tz = tz.data();
          gemm.z0 = z0s.data();
          for (int64_t u = u0; u < u1; ++u) {
            const int64_t g = u / chunks, p0 = (u % chunks) * pc;
            const int64_t count = std::min(pc, p.out_image - p0);
            VnniIm2Col(p, img, k_offsets, origins, g, p0, count, pc, z0, zeros.data(), panel.data(),
                       tz.data());
            const int64_t m0 = g * p.group_out;
            gemm.r = w.s8.data() + m0 * kp;
            gemm.r0 = w.r0.data() + m0;
            gemm.sr = w.sr.data() + m0;
            RunVnniGemm(gemm, p.group_out, 0, count, acc.data(), pc);
            for (int64_t j = 0; j < p.group_out; ++j)
              epilogue(n, m0 + j, p0, count, acc.data() + j * pc);
          }
        });
  }
}

}  // namespace shrink::engine::quant
