// com.microsoft QLinearGlobalAveragePool and QLinearAveragePool, NCHW or channels_last.
//
// As in ORT: the global pool sums codes exactly in int32 and requantizes with
// x_scale / (y_scale * image_size); the windowed pool dequantizes, sums floats in window order
// (row-major), divides by the count and quantizes y / y_scale + y_zp.
#include <algorithm>
#include <string>
#include <vector>

#include "engine/kernels/conv_geometry.h"
#include "engine/kernels/kernel_util.h"
#include "engine/kernels/quantized_internal.h"

namespace shrink::engine::quant {
namespace {

struct PoolQuant {
  float x_scale = 1, y_scale = 1;
  int32_t x_zp = 0, y_zp = 0;
};

// X, x_scale, x_zero_point?, y_scale, y_zero_point? (zero points of X's dtype).
StatusOr<PoolQuant> ReadPoolQuant(const KernelContext& context) {
  const Node& node = context.node;
  RETURN_IF_ERROR(ExpectInputs(context, 1, 5));
  if (!context.has_input(1) || !context.has_input(3)) {
    return KernelError(node, "required inputs x_scale and y_scale must be present");
  }
  const DataType type = context.input(0).dtype();
  PoolQuant q;
  ASSIGN_OR_RETURN(q.x_scale, ReadScalarScale(node, context.input(1), "x_scale"));
  ASSIGN_OR_RETURN(q.y_scale, ReadScalarScale(node, context.input(3), "y_scale"));
  ASSIGN_OR_RETURN(q.x_zp, ReadScalarZeroPoint(node, OptionalInput(context, 2), type,
                                               "x_zero_point", "input X"));
  ASSIGN_OR_RETURN(q.y_zp, ReadScalarZeroPoint(node, OptionalInput(context, 4), type,
                                               "y_zero_point", "input X"));
  return q;
}

// N, C and the spatial dims of x in either layout.
struct PoolLayout {
  bool channels_last = false;
  int64_t batch = 0, channels = 0, image = 1;
  Shape spatial;
};

StatusOr<PoolLayout> ReadLayout(const Node& node, const Tensor& x) {
  if (x.rank() < 3) {
    return KernelError(node, "input X must have rank >= 3, got shape " + ShapeToString(x.shape()));
  }
  PoolLayout l;
  l.channels_last = node.GetInt("channels_last", 0) != 0;
  l.batch = x.dim(0);
  l.channels = l.channels_last ? x.dim(x.rank() - 1) : x.dim(1);
  const int first = l.channels_last ? 1 : 2;
  l.spatial.assign(x.shape().begin() + first, x.shape().begin() + first + (x.rank() - 2));
  for (int64_t d : l.spatial) l.image *= d;
  return l;
}

Shape OutputShape(const PoolLayout& l, const Shape& spatial) {
  Shape out = {l.batch};
  if (!l.channels_last) out.push_back(l.channels);
  out.insert(out.end(), spatial.begin(), spatial.end());
  if (l.channels_last) out.push_back(l.channels);
  return out;
}

template <typename T>
void GlobalPool(const PoolLayout& l, const PoolQuant& q, const T* x, T* y, const ThreadPool& pool) {
  const float multiplier = q.x_scale / (q.y_scale * float(l.image));
  const int32_t bias = int32_t(uint32_t(-q.x_zp) * uint32_t(l.image));  // -x_zp * image
  if (!l.channels_last) {
    pool.ParallelFor(
        l.batch * l.channels, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, l.image)),
        [&](int64_t begin, int64_t end) {
          std::vector<int32_t> sums(static_cast<size_t>(end - begin));
          for (int64_t i = begin; i < end; ++i) {
            const T* src = x + i * l.image;
            int32_t sum = 0;
            for (int64_t j = 0; j < l.image; ++j) sum += int32_t(src[j]);
            sums[size_t(i - begin)] = sum;
          }
          RequantizeSpan<T>(sums.data(), end - begin, bias, multiplier, q.y_zp, y + begin);
        });
    return;
  }
  pool.ParallelFor(l.batch, 1, [&](int64_t begin, int64_t end) {
    std::vector<int32_t> sums(static_cast<size_t>(l.channels));
    for (int64_t n = begin; n < end; ++n) {
      std::fill(sums.begin(), sums.end(), 0);
      const T* src = x + n * l.image * l.channels;
      for (int64_t j = 0; j < l.image; ++j) {
        for (int64_t c = 0; c < l.channels; ++c)
          sums[size_t(c)] += int32_t(src[j * l.channels + c]);
      }
      RequantizeSpan<T>(sums.data(), l.channels, bias, multiplier, q.y_zp, y + n * l.channels);
    }
  });
}

Status QLinearGlobalAveragePool(KernelContext& context) {
  const Node& node = context.node;
  ASSIGN_OR_RETURN(PoolQuant q, ReadPoolQuant(context));
  const Tensor& x = context.input(0);
  ASSIGN_OR_RETURN(PoolLayout l, ReadLayout(node, x));
  return Dispatch8Bit(node, x.dtype(), "input X", [&](auto tag) -> Status {
    using T = decltype(tag);
    ASSIGN_OR_RETURN(Tensor y,
                     Tensor::Allocate(x.dtype(), OutputShape(l, Shape(l.spatial.size(), 1))));
    if (l.image > 0) GlobalPool<T>(l, q, x.data<T>(), y.data<T>(), context.pool);
    context.output(0) = std::move(y);
    return OkStatus();
  });
}

// Window bounds per output pixel and spatial dim, clipped to the input as ORT does (a window
// that reaches into the end padding is cut at the input edge).
struct Windows {
  std::vector<std::vector<int64_t>> start, end;  // [dim][output index]
};

Windows MakeWindows(const ConvGeometry& g) {
  Windows w;
  for (int d = 0; d < g.spatial_rank; ++d) {
    size_t a = size_t(d);
    w.start.emplace_back(size_t(g.output_spatial[a]));
    w.end.emplace_back(size_t(g.output_spatial[a]));
    for (int64_t o = 0; o < g.output_spatial[a]; ++o) {
      int64_t s = o * g.strides[a] - g.pads_begin[a];
      w.end[a][size_t(o)] = std::min(s + g.kernel[a], g.input_spatial[a]);
      w.start[a][size_t(o)] = std::max<int64_t>(s, 0);
    }
  }
  return w;
}

// Averages the dequantized plane `xf` (one channel, contiguous) into the codes y (output pixel o
// at y[o * y_stride]).
template <typename T>
void PoolPlane(const ConvGeometry& g, const Windows& w, const float* xf, bool count_include_pad,
               int64_t kernel_size, const PoolQuant& q, T* y, int64_t y_stride) {
  const int rank = g.spatial_rank;
  int64_t out_count = 1;
  for (int64_t e : g.output_spatial) out_count *= e;
  std::vector<int64_t> o(static_cast<size_t>(rank), 0), lo(o), hi(o), i(o);
  const float y_lo = float(kQMin<T>), y_hi = float(kQMax<T>);
  for (int64_t flat = 0; flat < out_count; ++flat) {
    int64_t count = 1;
    bool empty = false;
    for (int d = 0; d < rank; ++d) {
      size_t a = size_t(d);
      lo[a] = w.start[a][size_t(o[a])];
      hi[a] = w.end[a][size_t(o[a])];
      count *= std::max<int64_t>(0, hi[a] - lo[a]);
      empty = empty || hi[a] <= lo[a];
      i[a] = lo[a];
    }
    float sum = 0.0f;
    while (!empty) {  // row-major walk over the window
      int64_t index = 0;
      for (int d = 0; d < rank; ++d) index = index * g.input_spatial[size_t(d)] + i[size_t(d)];
      sum += xf[index];
      int d = rank - 1;
      for (; d >= 0; --d) {
        if (++i[size_t(d)] < hi[size_t(d)]) break;
        i[size_t(d)] = lo[size_t(d)];
      }
      if (d < 0) break;
    }
    sum /= float(count_include_pad ? kernel_size : count);
    y[flat * y_stride] = T(ClampRound(sum / q.y_scale + float(q.y_zp), y_lo, y_hi, 0));
    for (int d = rank - 1; d >= 0; --d) {
      if (++o[size_t(d)] < g.output_spatial[size_t(d)]) break;
      o[size_t(d)] = 0;
    }
  }
}

Status QLinearAveragePool(KernelContext& context) {
  const Node& node = context.node;
  ASSIGN_OR_RETURN(PoolQuant q, ReadPoolQuant(context));
  const Tensor& x = context.input(0);
  ASSIGN_OR_RETURN(PoolLayout l, ReadLayout(node, x));
  std::vector<int64_t> kernel = node.GetInts("kernel_shape");
  if (kernel.empty()) return KernelError(node, "attribute kernel_shape is required");
  for (int64_t d : node.GetInts("dilations")) {
    if (d != 1) return KernelError(node, "dilations other than 1 are not supported");
  }
  Shape nchw = {l.batch, l.channels};
  nchw.insert(nchw.end(), l.spatial.begin(), l.spatial.end());
  ConvGeometryOptions options;
  options.ceil_mode = node.GetInt("ceil_mode", 0) != 0;
  ASSIGN_OR_RETURN(ConvGeometry g, ResolveConvGeometry(node, nchw, kernel, options));
  const bool include_pad = node.GetInt("count_include_pad", 0) != 0;
  int64_t kernel_size = 1, out_image = 1;
  for (int64_t k : kernel) kernel_size *= k;
  for (int64_t e : g.output_spatial) out_image *= e;
  const Windows windows = MakeWindows(g);
  return Dispatch8Bit(node, x.dtype(), "input X", [&](auto tag) -> Status {
    using T = decltype(tag);
    ASSIGN_OR_RETURN(Tensor y, Tensor::Allocate(x.dtype(), OutputShape(l, g.output_spatial)));
    const T* in = x.data<T>();
    T* out = y.data<T>();
    // One (image, channel) plane per unit; NHWC planes are strided by C.
    context.pool.ParallelFor(l.batch * l.channels, 1, [&](int64_t begin, int64_t end) {
      std::vector<float> plane(static_cast<size_t>(l.image));
      for (int64_t u = begin; u < end; ++u) {
        const int64_t n = u / l.channels, c = u % l.channels;
        const int64_t stride = l.channels_last ? l.channels : 1;
        const T* src = l.channels_last ? in + n * l.image * l.channels + c : in + u * l.image;
        for (int64_t j = 0; j < l.image; ++j) {
          plane[size_t(j)] = q.x_scale * float(int32_t(src[j * stride]) - q.x_zp);
        }
        T* dst = l.channels_last ? out + n * out_image * l.channels + c : out + u * out_image;
        PoolPlane<T>(g, windows, plane.data(), include_pad, kernel_size, q, dst, stride);
      }
    });
    context.output(0) = std::move(y);
    return OkStatus();
  });
}

}  // namespace

void RegisterQLinearPoolKernels(KernelRegistry* registry) {
  registry->RegisterFunction(OpType::kMsQLinearGlobalAveragePool, &QLinearGlobalAveragePool);
  registry->RegisterFunction(OpType::kMsQLinearAveragePool, &QLinearAveragePool);
}

}  // namespace shrink::engine::quant
