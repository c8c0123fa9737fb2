// ConvInteger and QLinearConv: im2row on a zero-padded int16 copy of the input (zero point
// already subtracted, so padding contributes exactly 0) followed by the exact int16 GEMM;
// depthwise 2-D convolutions use a direct loop instead. The reference path sums straight from
// the inputs with bounds checks.
#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/kernels/conv_geometry.h"
#include "engine/kernels/kernel_util.h"
#include "engine/kernels/quantized_internal.h"

namespace shrink::engine::quant {
namespace {

enum class ConvKind { kInteger, kQLinear };

struct ConvInputs {
  int x, w, x_zp, w_zp, x_scale, w_scale, y_scale, y_zp, bias;
};
ConvInputs InputsOf(ConvKind kind) {
  if (kind == ConvKind::kInteger) return {0, 1, 2, 3, -1, -1, -1, -1, -1};
  return {0, 3, 2, 5, 1, 4, 6, 7, 8};
}

// Everything about one call: shapes, geometry and the per-channel parameters.
struct ConvProblem {
  ConvGeometry geo;
  int64_t batch = 0, channels = 0, out_channels = 0;
  int64_t group_in = 0, group_out = 0;  // channels per group
  int64_t kernel_size = 1;              // product of kernel extents
  int64_t k = 0, kp = 0;                // group_in * kernel_size, padded
  int64_t in_image = 1, out_image = 1;  // spatial element counts
  DataType x_type = DataType::kUndefined, w_type = DataType::kUndefined;
  DataType y_type = DataType::kInt32;
  int32_t x_zp = 0, y_zp = 0;
  std::vector<int32_t> w_zp;      // [M]
  std::vector<float> multiplier;  // [M]: x_scale * w_scale[m] / y_scale (QLinearConv)
  std::vector<int32_t> bias;      // [M] (zeros when absent)
};

Status CheckShapes(const Node& node, const Tensor& x, const Tensor& w, ConvProblem* p) {
  if (x.rank() < 3) {
    return KernelError(node, "input x must have rank >= 3, got shape " + ShapeToString(x.shape()));
  }
  if (w.rank() != x.rank()) {
    return KernelError(node, "weight shape " + ShapeToString(w.shape()) +
                                 " does not match the rank of input shape " +
                                 ShapeToString(x.shape()));
  }
  std::vector<int64_t> kernel(w.shape().begin() + 2, w.shape().end());
  std::vector<int64_t> attr = node.GetInts("kernel_shape");
  if (!attr.empty() && attr != kernel) {
    return KernelError(node, "kernel_shape attribute does not match weight shape " +
                                 ShapeToString(w.shape()));
  }
  ASSIGN_OR_RETURN(p->geo, ResolveConvGeometry(node, x.shape(), kernel, {}));
  p->batch = x.dim(0);
  p->channels = x.dim(1);
  p->out_channels = w.dim(0);
  const int64_t g = p->geo.group;
  if (p->channels % g != 0 || p->out_channels % g != 0 || w.dim(1) * g != p->channels) {
    return KernelError(node, "group " + std::to_string(g) + " does not fit input shape " +
                                 ShapeToString(x.shape()) + " and weight shape " +
                                 ShapeToString(w.shape()));
  }
  p->group_in = p->channels / g;
  p->group_out = p->out_channels / g;
  for (int64_t e : kernel) p->kernel_size *= e;
  for (int64_t e : p->geo.input_spatial) p->in_image *= e;
  for (int64_t e : p->geo.output_spatial) p->out_image *= e;
  p->k = p->group_in * p->kernel_size;
  p->kp = PadK(p->k);
  return OkStatus();
}

Status ReadParams(const KernelContext& context, ConvKind kind, ConvProblem* p) {
  const Node& node = context.node;
  const ConvInputs in = InputsOf(kind);
  const Tensor& x = context.input(in.x);
  const Tensor& w = context.input(in.w);
  RETURN_IF_ERROR(Dispatch8Bit(node, x.dtype(), "input x", [](auto) { return OkStatus(); }));
  RETURN_IF_ERROR(Dispatch8Bit(node, w.dtype(), "input w", [](auto) { return OkStatus(); }));
  p->x_type = x.dtype();
  p->w_type = w.dtype();
  ASSIGN_OR_RETURN(p->x_zp, ReadScalarZeroPoint(node, OptionalInput(context, in.x_zp), x.dtype(),
                                                "x_zero_point", "input x"));
  const Tensor* w_zp = OptionalInput(context, in.w_zp);
  int64_t w_zp_count = w_zp && w_zp->size() != 1 ? p->out_channels : 1;
  ASSIGN_OR_RETURN(p->w_zp, ReadZeroPoints(node, w_zp, w.dtype(), "w_zero_point", "input w",
                                           w_zp_count));
  if (p->w_zp.size() == 1) p->w_zp.assign(size_t(p->out_channels), p->w_zp[0]);
  p->bias.assign(size_t(p->out_channels), 0);
  if (kind == ConvKind::kInteger) return OkStatus();

  ASSIGN_OR_RETURN(float x_scale, ReadScalarScale(node, context.input(in.x_scale), "x_scale"));
  ASSIGN_OR_RETURN(float y_scale, ReadScalarScale(node, context.input(in.y_scale), "y_scale"));
  const Tensor& w_scale_tensor = context.input(in.w_scale);
  ASSIGN_OR_RETURN(std::vector<float> w_scale, ReadScales(node, w_scale_tensor, "w_scale"));
  if (w_scale.size() != 1 && int64_t(w_scale.size()) != p->out_channels) {
    return KernelError(node, "w_scale has " + std::to_string(w_scale.size()) +
                                 " values, expected 1 or " + std::to_string(p->out_channels) +
                                 " (one per output channel)");
  }
  p->multiplier.resize(size_t(p->out_channels));
  for (int64_t m = 0; m < p->out_channels; ++m) {
    // ORT's order: (x_scale * w_scale) / y_scale.
    p->multiplier[size_t(m)] = x_scale * w_scale[w_scale.size() == 1 ? 0 : size_t(m)] / y_scale;
  }
  const Tensor* y_zp = OptionalInput(context, in.y_zp);
  p->y_type = y_zp ? y_zp->dtype() : x.dtype();
  RETURN_IF_ERROR(Dispatch8Bit(node, p->y_type, "y_zero_point", [](auto) { return OkStatus(); }));
  ASSIGN_OR_RETURN(p->y_zp, ReadScalarZeroPoint(node, y_zp, p->y_type, "y_zero_point",
                                                "y_zero_point"));
  if (const Tensor* bias = OptionalInput(context, in.bias)) {
    if (bias->dtype() != DataType::kInt32) return UnsupportedType(node, bias->dtype(), "bias B");
    if (bias->size() != p->out_channels) {
      return KernelError(node, "bias B has shape " + ShapeToString(bias->shape()) +
                                   ", expected [" + std::to_string(p->out_channels) + "]");
    }
    std::copy_n(bias->data<int32_t>(), p->out_channels, p->bias.begin());
  }
  return OkStatus();
}

int32_t ElementAt(DataType type, const void* data, int64_t i) {
  return type == DataType::kUint8 ? int32_t(static_cast<const uint8_t*>(data)[i])
                                  : int32_t(static_cast<const int8_t*>(data)[i]);
}

// Weights as [M, kp] int16 rows minus their zero points.
std::vector<int16_t> PackWeights(const ConvProblem& p, const void* w) {
  std::vector<int16_t> packed(static_cast<size_t>(p.out_channels * p.kp));
  for (int64_t m = 0; m < p.out_channels; ++m) {
    int16_t* row = packed.data() + m * p.kp;
    for (int64_t i = 0; i < p.k; ++i) {
      row[i] = int16_t(ElementAt(p.w_type, w, m * p.k + i) - p.w_zp[size_t(m)]);
    }
  }
  return packed;
}

// Writes output channel m, pixels [p0, p0 + count) of image n from int32 sums.
using ConvEpilogue = std::function<void(int64_t n, int64_t m, int64_t p0, int64_t count,
                                        const int32_t* acc)>;

// x[n] minus its zero point as int16, each spatial dim padded by pads_begin / pads_end (and
// enough at the end that every window lies inside).
struct PaddedImage {
  std::vector<int64_t> dims;     // padded spatial extents
  std::vector<int64_t> strides;  // element strides of the padded spatial dims
  int64_t plane = 1;             // elements per channel
  std::vector<int16_t> data;     // [C, plane]
};

void BuildPadded(const ConvProblem& p, const void* x, int64_t n, const ThreadPool& pool,
                 PaddedImage* img) {
  const ConvGeometry& g = p.geo;
  const int rank = g.spatial_rank;
  img->dims.resize(size_t(rank));
  for (int d = 0; d < rank; ++d) {
    size_t a = size_t(d);
    int64_t needed = (g.output_spatial[a] - 1) * g.strides[a] + (g.kernel[a] - 1) * g.dilations[a] + 1;
    img->dims[a] = std::max(g.pads_begin[a] + g.input_spatial[a] + g.pads_end[a], needed);
  }
  img->strides.assign(size_t(rank), 1);
  for (int d = rank - 2; d >= 0; --d) {
    img->strides[size_t(d)] = img->strides[size_t(d + 1)] * img->dims[size_t(d + 1)];
  }
  img->plane = img->strides[0] * img->dims[0];
  img->data.assign(size_t(p.channels * img->plane), 0);
  const int64_t rows = p.in_image / g.input_spatial.back();  // input rows of the last dim
  const int64_t width = g.input_spatial.back();
  pool.ParallelFor(p.channels, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, p.in_image)),
                   [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const int64_t src_base = (n * p.channels + c) * p.in_image;
      for (int64_t r = 0; r < rows; ++r) {
        // Padded offset of input row r (odometer over all spatial dims but the last).
        int64_t rest = r, offset = g.pads_begin.back();
        for (int d = rank - 2; d >= 0; --d) {
          size_t a = size_t(d);
          offset += (rest % g.input_spatial[a] + g.pads_begin[a]) * img->strides[a];
          rest /= g.input_spatial[a];
        }
        int16_t* dst = img->data.data() + c * img->plane + offset;
        const int64_t src = src_base + r * width;
        if (p.x_type == DataType::kUint8) {
          const uint8_t* s = static_cast<const uint8_t*>(x) + src;
          for (int64_t i = 0; i < width; ++i) dst[i] = int16_t(int32_t(s[i]) - p.x_zp);
        } else {
          const int8_t* s = static_cast<const int8_t*>(x) + src;
          for (int64_t i = 0; i < width; ++i) dst[i] = int16_t(int32_t(s[i]) - p.x_zp);
        }
      }
    }
  });
}

// Offset of each kernel tap and of each output pixel's window origin in the padded image.
void WindowOffsets(const ConvProblem& p, const PaddedImage& img, std::vector<int64_t>* taps,
                   std::vector<int64_t>* origins) {
  const ConvGeometry& g = p.geo;
  const int rank = g.spatial_rank;
  taps->resize(size_t(p.kernel_size));
  for (int64_t q = 0; q < p.kernel_size; ++q) {
    int64_t rest = q, offset = 0;
    for (int d = rank - 1; d >= 0; --d) {
      size_t a = size_t(d);
      offset += (rest % g.kernel[a]) * g.dilations[a] * img.strides[a];
      rest /= g.kernel[a];
    }
    (*taps)[size_t(q)] = offset;
  }
  origins->resize(size_t(p.out_image));
  for (int64_t o = 0; o < p.out_image; ++o) {
    int64_t rest = o, offset = 0;
    for (int d = rank - 1; d >= 0; --d) {
      size_t a = size_t(d);
      offset += (rest % g.output_spatial[a]) * g.strides[a] * img.strides[a];
      rest /= g.output_spatial[a];
    }
    (*origins)[size_t(o)] = offset;
  }
}


// Output channel tile of the GEMM path: pixels [p0, p0 + count) x channels of group g.
void ConvChunk(const ConvProblem& p, const PaddedImage& img, const std::vector<int64_t>& taps,
               const std::vector<int64_t>& origins, const int16_t* weights, int64_t n, int64_t g,
               int64_t p0, int64_t count, int16_t* panel, int32_t* acc,
               const ConvEpilogue& epilogue) {
  const int64_t ks = p.kernel_size;
  for (int64_t i = 0; i < count; ++i) {
    int16_t* row = panel + i * p.kp;
    const int16_t* base = img.data.data() + g * p.group_in * img.plane + origins[size_t(p0 + i)];
    for (int64_t c = 0; c < p.group_in; ++c) {
      const int16_t* src = base + c * img.plane;
      int16_t* dst = row + c * ks;
      for (int64_t q = 0; q < ks; ++q) dst[q] = src[taps[size_t(q)]];
    }
  }
  DotGemmS16(panel, weights + g * p.group_out * p.kp, count, p.group_out, p.kp, acc, 1, count,
             /*reference=*/false);
  for (int64_t j = 0; j < p.group_out; ++j) {
    epilogue(n, g * p.group_out + j, p0, count, acc + j * count);
  }
}

void RunGemmConv(const ConvProblem& p, const void* x, const int16_t* weights,
                 const ThreadPool& pool, const ConvEpilogue& epilogue) {
  const int64_t groups = p.geo.group;
  int64_t pc = std::clamp<int64_t>(32768 / p.kp, 16, 512);
  const int64_t threads = pool.num_threads();
  while (pc > 16 && groups * ((p.out_image + pc - 1) / pc) < 2 * threads) pc /= 2;
  const int64_t chunks = (p.out_image + pc - 1) / pc;
  PaddedImage img;
  std::vector<int64_t> taps, origins;
  for (int64_t n = 0; n < p.batch; ++n) {
    BuildPadded(p, x, n, pool, &img);
    if (n == 0) WindowOffsets(p, img, &taps, &origins);
    const int64_t work = pc * p.group_out * p.kp;
    pool.ParallelFor(groups * chunks, work >= (1 << 15) ? 1 : groups * chunks,
                     [&](int64_t u0, int64_t u1) {
      std::vector<int16_t> panel(size_t(pc * p.kp), 0);  // the k..kp tail stays zero
      std::vector<int32_t> acc(static_cast<size_t>(pc * p.group_out));
      for (int64_t u = u0; u < u1; ++u) {
        const int64_t g = u / chunks, p0 = (u % chunks) * pc;
        ConvChunk(p, img, taps, origins, weights, n, g, p0, std::min(pc, p.out_image - p0),
                  panel.data(), acc.data(), epilogue);
      }
    });
  }
}

// acc[r * out_w + ow] += w * src_row_r[ow * stride] for all output rows: the depthwise inner
// loop, contiguous when stride == 1.
__attribute__((always_inline)) inline void DepthwiseTap(const int16_t* src,
                                                        const int64_t* row_origins,
                                                        int64_t rows, int64_t out_w,
                                                        int64_t stride, int32_t w,
                                                        int32_t* acc) {
  for (int64_t r = 0; r < rows; ++r) {
    const int16_t* s = src + row_origins[r];
    int32_t* a = acc + r * out_w;
    if (stride == 1) {
      for (int64_t i = 0; i < out_w; ++i) a[i] += w * int32_t(s[i]);
    } else {
      for (int64_t i = 0; i < out_w; ++i) a[i] += w * int32_t(s[i * stride]);
    }
  }
}

void DepthwiseChannel(const int16_t* plane, const int16_t* weights, const int64_t* taps,
                      int64_t ks, const int64_t* row_origins, int64_t rows, int64_t out_w,
                      int64_t stride, int32_t* acc) {
  std::fill_n(acc, rows * out_w, 0);
  for (int64_t q = 0; q < ks; ++q) {
    DepthwiseTap(plane + taps[q], row_origins, rows, out_w, stride, weights[q], acc);
  }
}

__attribute__((target("avx2"))) void DepthwiseChannelAvx2(
    const int16_t* plane, const int16_t* weights, const int64_t* taps, int64_t ks,
    const int64_t* row_origins, int64_t rows, int64_t out_w, int64_t stride, int32_t* acc) {
  std::fill_n(acc, rows * out_w, 0);
  for (int64_t q = 0; q < ks; ++q) {
    DepthwiseTap(plane + taps[q], row_origins, rows, out_w, stride, weights[q], acc);
  }
}

// One input and one output channel per group: a direct loop per channel.
void RunDepthwiseConv(const ConvProblem& p, const void* x, const int16_t* weights,
                      const ThreadPool& pool, const ConvEpilogue& epilogue) {
  static const bool avx2 = __builtin_cpu_supports("avx2");
  const int64_t out_w = p.geo.output_spatial.back();
  const int64_t rows = p.out_image / out_w;
  const int64_t stride = p.geo.strides.back();
  PaddedImage img;
  std::vector<int64_t> taps, origins, row_origins(static_cast<size_t>(rows));
  for (int64_t n = 0; n < p.batch; ++n) {
    BuildPadded(p, x, n, pool, &img);
    if (n == 0) {
      WindowOffsets(p, img, &taps, &origins);
      for (int64_t r = 0; r < rows; ++r) row_origins[size_t(r)] = origins[size_t(r * out_w)];
    }
    const int64_t work = p.out_image * p.kernel_size;
    pool.ParallelFor(p.channels, std::max<int64_t>(1, (1 << 15) / std::max<int64_t>(1, work)),
                     [&](int64_t c0, int64_t c1) {
      std::vector<int32_t> acc(static_cast<size_t>(p.out_image));
      for (int64_t c = c0; c < c1; ++c) {
        auto fn = avx2 ? DepthwiseChannelAvx2 : DepthwiseChannel;
        fn(img.data.data() + c * img.plane, weights + c * p.kp, taps.data(), p.kernel_size,
           row_origins.data(), rows, out_w, stride, acc.data());
        epilogue(n, c, 0, p.out_image, acc.data());
      }
    });
  }
}

// The oracle: direct sums from x and w with bounds checks (padding contributes nothing).
void RunReferenceConv(const ConvProblem& p, const void* x, const void* w,
                      const ConvEpilogue& epilogue) {
  const ConvGeometry& g = p.geo;
  const int rank = g.spatial_rank;
  std::vector<int32_t> acc(static_cast<size_t>(p.out_image));
  std::vector<int64_t> out(static_cast<size_t>(rank)), tap(static_cast<size_t>(rank));
  for (int64_t n = 0; n < p.batch; ++n) {
    for (int64_t m = 0; m < p.out_channels; ++m) {
      const int64_t group = m / p.group_out;
      for (int64_t o = 0; o < p.out_image; ++o) {
        for (int64_t rest = o, d = rank - 1; d >= 0; --d) {
          out[size_t(d)] = rest % g.output_spatial[size_t(d)];
          rest /= g.output_spatial[size_t(d)];
        }
        int64_t sum = 0;
        for (int64_t c = 0; c < p.group_in; ++c) {
          const int64_t channel = group * p.group_in + c;
          for (int64_t q = 0; q < p.kernel_size; ++q) {
            int64_t index = 0;
            bool inside = true;
            for (int64_t rest = q, d = rank - 1; d >= 0; --d) {
              size_t a = size_t(d);
              int64_t coord = out[a] * g.strides[a] - g.pads_begin[a] +
                              (rest % g.kernel[a]) * g.dilations[a];
              rest /= g.kernel[a];
              inside = inside && coord >= 0 && coord < g.input_spatial[a];
              tap[a] = coord;
            }
            if (!inside) continue;
            for (int d = 0; d < rank; ++d) index = index * g.input_spatial[size_t(d)] + tap[size_t(d)];
            int64_t xv = ElementAt(p.x_type, x, (n * p.channels + channel) * p.in_image + index);
            int64_t wv = ElementAt(p.w_type, w, (m * p.group_in + c) * p.kernel_size + q);
            sum += (xv - p.x_zp) * (wv - p.w_zp[size_t(m)]);
          }
        }
        acc[size_t(o)] = int32_t(uint32_t(uint64_t(sum)));
      }
      epilogue(n, m, 0, p.out_image, acc.data());
    }
  }
}

class IntegerConvKernel : public OpKernel {
 public:
  IntegerConvKernel(ConvKind kind, const KernelConfig& config)
      : kind_(kind), reference_(config.reference) {
    // Pre-pack constant weights (with constant or absent zero points).
    const ConvInputs in = InputsOf(kind);
    auto constant = [&](int i) -> const Tensor* {
      return i < int(config.constant_inputs.size()) ? config.constant_inputs[size_t(i)] : nullptr;
    };
    const Tensor* w = constant(in.w);
    const Tensor* w_zp = constant(in.w_zp);
    if (reference_ || w == nullptr || w->rank() < 3 || w->dim(0) <= 0 ||
        (config.node.HasInput(in.w_zp) && w_zp == nullptr)) {
      return;
    }
    if (w->dtype() != DataType::kUint8 && w->dtype() != DataType::kInt8) return;
    if (w_zp && (w_zp->dtype() != w->dtype() || (w_zp->size() != 1 && w_zp->size() != w->dim(0)))) {
      return;
    }
    ConvProblem p;
    p.out_channels = w->dim(0);
    p.k = w->size() / p.out_channels;
    p.kp = PadK(p.k);
    p.w_type = w->dtype();
    p.w_zp.assign(size_t(p.out_channels), 0);
    for (int64_t m = 0; w_zp && m < p.out_channels; ++m) {
      p.w_zp[size_t(m)] = int32_t(w_zp->GetAsInt64(w_zp->size() == 1 ? 0 : m));
    }
    packed_ = PackWeights(p, w->raw_data());
    packed_k_ = p.k;
    packed_m_ = p.out_channels;
  }

  Status Compute(KernelContext& context) override {
    const Node& node = context.node;
    const ConvInputs in = InputsOf(kind_);
    RETURN_IF_ERROR(ExpectInputs(context, 2, kind_ == ConvKind::kInteger ? 4 : 9));
    for (int required : {in.x, in.w, in.x_scale, in.w_scale, in.y_scale}) {
      if (required >= 0 && !context.has_input(required)) {
        return KernelError(node, "required input " + std::to_string(required) + " is missing");
      }
    }
    const Tensor& x = context.input(in.x);
    const Tensor& w = context.input(in.w);
    ConvProblem p;
    RETURN_IF_ERROR(CheckShapes(node, x, w, &p));
    RETURN_IF_ERROR(ReadParams(context, kind_, &p));
    Shape out_shape = {p.batch, p.out_channels};
    out_shape.insert(out_shape.end(), p.geo.output_spatial.begin(), p.geo.output_spatial.end());
    ASSIGN_OR_RETURN(Tensor y, Tensor::Allocate(p.y_type, out_shape));
    ConvEpilogue epilogue = MakeEpilogue(p, &y);
    if (y.size() > 0) {
      if (reference_) {
        RunReferenceConv(p, x.raw_data(), w.raw_data(), epilogue);
      } else {
        std::vector<int16_t> local;
        const int16_t* weights = packed_.data();
        if (packed_.empty() || packed_k_ != p.k || packed_m_ != p.out_channels) {
          local = PackWeights(p, w.raw_data());
          weights = local.data();
        }
        if (p.group_in == 1 && p.group_out == 1) {
          RunDepthwiseConv(p, x.raw_data(), weights, context.pool, epilogue);
        } else {
          RunGemmConv(p, x.raw_data(), weights, context.pool, epilogue);
        }
      }
    }
    context.output(0) = std::move(y);
    return OkStatus();
  }

 private:
  static ConvEpilogue MakeEpilogue(const ConvProblem& p, Tensor* y) {
    const int64_t m_count = p.out_channels, image = p.out_image;
    if (p.y_type == DataType::kInt32) {
      int32_t* out = y->data<int32_t>();
      return [=](int64_t n, int64_t m, int64_t p0, int64_t count, const int32_t* acc) {
        std::copy_n(acc, count, out + (n * m_count + m) * image + p0);
      };
    }
    auto make = [&](auto tag) -> ConvEpilogue {
      using T = decltype(tag);
      T* out = y->data<T>();
      return [=, &p](int64_t n, int64_t m, int64_t p0, int64_t count, const int32_t* acc) {
        RequantizeSpan<T>(acc, count, p.bias[size_t(m)], p.multiplier[size_t(m)], p.y_zp,
                          out + (n * m_count + m) * image + p0);
      };
    };
    return p.y_type == DataType::kUint8 ? make(uint8_t{}) : make(int8_t{});
  }

  ConvKind kind_;
  bool reference_;
  std::vector<int16_t> packed_;
  int64_t packed_k_ = 0, packed_m_ = 0;
};

KernelFactory Factory(ConvKind kind) {
  return [kind](const KernelConfig& config) -> StatusOr<std::unique_ptr<OpKernel>> {
    return std::unique_ptr<OpKernel>(new IntegerConvKernel(kind, config));
  };
}

}  // namespace

void RegisterQuantizedConvKernels(KernelRegistry* registry) {
  registry->Register(OpType::kConvInteger, Factory(ConvKind::kInteger));
  registry->Register(OpType::kQLinearConv, Factory(ConvKind::kQLinear));
}

}  // namespace shrink::engine::quant
