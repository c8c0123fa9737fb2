// MaxPool (with the optional Indices output), AveragePool, GlobalMaxPool and
// GlobalAveragePool over NC[D]HW tensors, any spatial rank.
//
// Windows are precomputed per spatial axis: for each output coordinate, the input coordinates
// inside the input (padding excluded) and how many window positions fall inside the padded
// input (the count_include_pad divisor). A window is the product of its axes' lists. 1-D and
// 2-D pooling reduce each window's rows first (a vectorizable pass over whole input rows) and
// then its columns; MaxPool with Indices scans windows in row-major order so ties resolve to the
// first element like ONNX Runtime. Semantics follow ONNX Runtime: AveragePool divides by the
// valid count, or with count_include_pad by the window clipped to the padded extent (ceil_mode
// windows can overhang it); a window without valid elements yields 0 (average) or the lowest
// value (max, index -1).
#include <algorithm>
#include <limits>
#include <string>

#include "engine/kernels/kernel_util.h"
#include "engine/kernels/nn_internal.h"

namespace shrink::engine {
namespace {

struct AxisWindows {
  std::vector<int64_t> positions;     // valid input coordinates of all windows, concatenated
  std::vector<int64_t> begin;         // window o is positions[begin[o], begin[o + 1])
  std::vector<int64_t> padded_count;  // per output coordinate
  int64_t in = 1, out = 1;
  int64_t size(int64_t o) const { return begin[size_t(o + 1)] - begin[size_t(o)]; }
  const int64_t* at(int64_t o) const { return positions.data() + begin[size_t(o)]; }
};

struct PoolShape {
  int64_t planes = 0;  // N * C
  int64_t in_size = 1, out_size = 1;
  Shape output_shape;
  std::vector<int64_t> input_spatial;
  std::vector<AxisWindows> axes;  // 1-D pooling gets a leading unit axis
};

AxisWindows UnitAxis() {
  AxisWindows axis;
  axis.positions = {0};
  axis.begin = {0, 1};
  axis.padded_count = {1};
  return axis;
}

StatusOr<PoolShape> ResolvePool(const Node& node, const Shape& x) {
  std::vector<int64_t> kernel = node.GetInts("kernel_shape");
  if (kernel.empty()) return KernelError(node, "the kernel_shape attribute is required");
  if (x.size() < 3 || kernel.size() != x.size() - 2) {
    return KernelError(node, "input X shape " + ShapeToString(x) + " does not match kernel_shape " +
                                 ShapeToString(kernel) + " (expected rank " +
                                 std::to_string(kernel.size() + 2) + ")");
  }
  ConvGeometryOptions options;
  options.ceil_mode = node.GetInt("ceil_mode", 0) != 0;
  ASSIGN_OR_RETURN(ConvGeometry g, ResolveConvGeometry(node, x, kernel, options));
  PoolShape p;
  p.planes = x[0] * x[1];
  p.output_shape = {x[0], x[1]};
  p.input_spatial = g.input_spatial;
  if (g.spatial_rank == 1) p.axes.push_back(UnitAxis());
  for (size_t i = 0; i < size_t(g.spatial_rank); ++i) {
    p.in_size *= g.input_spatial[i];
    p.out_size *= g.output_spatial[i];
    p.output_shape.push_back(g.output_spatial[i]);
    AxisWindows axis;
    axis.in = g.input_spatial[i];
    axis.out = g.output_spatial[i];
    axis.begin.push_back(0);
    for (int64_t o = 0; o < g.output_spatial[i]; ++o) {
      const int64_t start = o * g.strides[i] - g.pads_begin[i];
      int64_t padded = 0;
      for (int64_t k = 0; k < g.kernel[i]; ++k) {
        const int64_t at = start + k * g.dilations[i];
        if (at < g.input_spatial[i] + g.pads_end[i]) ++padded;
        if (at >= 0 && at < g.input_spatial[i]) axis.positions.push_back(at);
      }
      axis.begin.push_back(int64_t(axis.positions.size()));
      axis.padded_count.push_back(padded);
    }
    p.axes.push_back(std::move(axis));
  }
  return p;
}

// Splits the planes over the pool in chunks of at least ~16K output elements of work.
template <typename Fn>
void ForEachPlane(const PoolShape& p, const ThreadPool& pool, Fn&& fn) {
  const int64_t work = std::max<int64_t>(1, p.out_size + p.in_size);
  pool.ParallelFor(p.planes, std::max<int64_t>(1, 16384 / work), [&](int64_t begin, int64_t end) {
    for (int64_t plane = begin; plane < end; ++plane) fn(plane);
  });
}

// --- 1-D / 2-D --------------------------------------------------------------------------------

// Max or sum over each window; rows first into `acc` (one input row wide), then columns.
template <typename T, typename Acc, bool kMax>
void Pool2DPlane(const PoolShape& p, const T* x, T* y, bool include_pad, Acc* acc) {
  const AxisWindows& rows = p.axes[0];
  const AxisWindows& cols = p.axes[1];
  const int64_t width = cols.in;
  const Acc lowest = std::numeric_limits<Acc>::lowest();
  for (int64_t oy = 0; oy < rows.out; ++oy) {
    const int64_t* row_list = rows.at(oy);
    const int64_t row_count = rows.size(oy);
    T* out = y + oy * cols.out;
    if (row_count == 0) {
      std::fill(out, out + cols.out, kMax ? T(lowest) : T(0));
      continue;
    }
    const T* first = x + row_list[0] * width;
    for (int64_t i = 0; i < width; ++i) acc[i] = Acc(first[i]);
    for (int64_t r = 1; r < row_count; ++r) {
      const T* row = x + row_list[r] * width;
      for (int64_t i = 0; i < width; ++i) {
        if constexpr (kMax) {
          acc[i] = Acc(row[i]) > acc[i] ? Acc(row[i]) : acc[i];
        } else {
          acc[i] += Acc(row[i]);
        }
      }
    }
    for (int64_t ox = 0; ox < cols.out; ++ox) {
      const int64_t* col_list = cols.at(ox);
      const int64_t col_count = cols.size(ox);
      if (col_count == 0) {
        out[ox] = kMax ? T(lowest) : T(0);
        continue;
      }
      Acc value = acc[col_list[0]];
      for (int64_t c = 1; c < col_count; ++c) {
        if constexpr (kMax) {
          value = acc[col_list[c]] > value ? acc[col_list[c]] : value;
        } else {
          value += acc[col_list[c]];
        }
      }
      if constexpr (!kMax) {
        const int64_t count = include_pad ? rows.padded_count[size_t(oy)] * cols.padded_count[size_t(ox)]
                                          : row_count * col_count;
        value /= Acc(count);
      }
      out[ox] = T(value);
    }
  }
}

// MaxPool with Indices: row-major scan per window, the first maximum wins.
template <typename T>
void MaxPoolIndices2DPlane(const PoolShape& p, const T* x, T* y, int64_t* indices, int64_t base,
                           bool column_major) {
  const AxisWindows& rows = p.axes[0];
  const AxisWindows& cols = p.axes[1];
  const int64_t height = rows.in, width = cols.in;
  for (int64_t oy = 0; oy < rows.out; ++oy) {
    for (int64_t ox = 0; ox < cols.out; ++ox) {
      T best = std::numeric_limits<T>::lowest();
      int64_t best_h = -1, best_w = -1;
      for (int64_t r = 0; r < rows.size(oy); ++r) {
        const int64_t h = rows.at(oy)[r];
        for (int64_t c = 0; c < cols.size(ox); ++c) {
          const int64_t w = cols.at(ox)[c];
          const T v = x[h * width + w];
          if (best_h < 0 || v > best) {
            best = v;
            best_h = h;
            best_w = w;
          }
        }
      }
      const int64_t o = oy * cols.out + ox;
      y[o] = best;
      if (best_h < 0) {
        indices[o] = -1;
      } else {
        indices[o] = base + (column_major ? best_h + best_w * height : best_h * width + best_w);
      }
    }
  }
}

// --- any rank -----------------------------------------------------------------------------------

// Calls visit(out_offset, window_offsets, padded_count) for each output position of a plane.
template <typename Visit>
void ForEachWindowND(const PoolShape& p, Visit&& visit) {
  const int rank = int(p.axes.size());
  std::vector<int64_t> o(size_t(rank), 0), k(size_t(rank), 0), window;
  for (int64_t out = 0; out < p.out_size; ++out) {
    window.clear();
    int64_t padded = 1;
    bool empty = false;
    for (int a = 0; a < rank; ++a) {
      padded *= p.axes[size_t(a)].padded_count[size_t(o[size_t(a)])];
      empty = empty || p.axes[size_t(a)].size(o[size_t(a)]) == 0;
    }
    std::fill(k.begin(), k.end(), 0);
    while (!empty) {
      int64_t offset = 0;
      for (int a = 0; a < rank; ++a) {
        const AxisWindows& axis = p.axes[size_t(a)];
        offset = offset * axis.in + axis.at(o[size_t(a)])[k[size_t(a)]];
      }
      window.push_back(offset);
      int a = rank - 1;
      for (; a >= 0; --a) {
        if (++k[size_t(a)] < p.axes[size_t(a)].size(o[size_t(a)])) break;
        k[size_t(a)] = 0;
      }
      if (a < 0) break;
    }
    visit(out, window, padded);
    for (int a = rank - 1; a >= 0; --a) {
      if (++o[size_t(a)] < p.axes[size_t(a)].out) break;
      o[size_t(a)] = 0;
    }
  }
}

// Row-major offset within a plane -> column-major (storage_order = 1).
int64_t ColumnMajor(int64_t offset, const std::vector<int64_t>& dims) {
  std::vector<int64_t> index(dims.size());
  for (size_t a = dims.size(); a > 0; --a) {
    index[a - 1] = offset % dims[a - 1];
    offset /= dims[a - 1];
  }
  int64_t result = 0, scale = 1;
  for (size_t a = 0; a < dims.size(); ++a) {
    result += index[a] * scale;
    scale *= dims[a];
  }
  return result;
}

template <typename T>
void MaxPoolPlanes(const PoolShape& p, const T* x, T* y, int64_t* indices, bool column_major,
                   const ThreadPool& pool) {
  const bool planar = p.axes.size() == 2;
  ForEachPlane(p, pool, [&](int64_t plane) {
    const T* xp = x + plane * p.in_size;
    T* yp = y + plane * p.out_size;
    if (planar && !indices) {
      thread_local std::vector<T> acc;
      acc.resize(size_t(p.axes[1].in));
      Pool2DPlane<T, T, true>(p, xp, yp, false, acc.data());
      return;
    }
    if (planar) {
      MaxPoolIndices2DPlane(p, xp, yp, indices + plane * p.out_size, plane * p.in_size,
                            column_major);
      return;
    }
    ForEachWindowND(p, [&](int64_t out, const std::vector<int64_t>& window, int64_t) {
      T best = std::numeric_limits<T>::lowest();
      int64_t best_at = -1;
      for (int64_t at : window) {
        if (best_at < 0 || xp[at] > best) {
          best = xp[at];
          best_at = at;
        }
      }
      yp[out] = best;
      if (indices) {
        if (column_major && best_at >= 0) best_at = ColumnMajor(best_at, p.input_spatial);
        indices[plane * p.out_size + out] = best_at < 0 ? -1 : plane * p.in_size + best_at;
      }
    });
  });
}

template <typename T>
void AveragePoolPlanes(const PoolShape& p, const T* x, T* y, bool include_pad,
                       const ThreadPool& pool) {
  ForEachPlane(p, pool, [&](int64_t plane) {
    const T* xp = x + plane * p.in_size;
    T* yp = y + plane * p.out_size;
    if (p.axes.size() == 2) {
      thread_local std::vector<double> acc;
      acc.resize(size_t(p.axes[1].in));
      Pool2DPlane<T, double, false>(p, xp, yp, include_pad, acc.data());
      return;
    }
    ForEachWindowND(p, [&](int64_t out, const std::vector<int64_t>& window, int64_t padded) {
      double sum = 0;
      for (int64_t at : window) sum += double(xp[at]);
      const double count = include_pad ? double(padded) : double(window.size());
      yp[out] = window.empty() ? T(0) : T(sum / count);
    });
  });
}

Status MaxPool(KernelContext& context) {
  RETURN_IF_ERROR(ExpectInputs(context, 1, 1));
  const Node& node = context.node;
  const Tensor& x = context.input(0);
  ASSIGN_OR_RETURN(PoolShape p, ResolvePool(node, x.shape()));
  const int64_t order = node.GetInt("storage_order", 0);
  if (order != 0 && order != 1) return KernelError(node, "storage_order must be 0 or 1");
  const bool column_major = order == 1;
  Tensor indices;
  int64_t* index_data = nullptr;
  if (context.wants_output(1) && context.num_outputs() > 1) {
    ASSIGN_OR_RETURN(indices, Tensor::Allocate(DataType::kInt64, p.output_shape));
    index_data = indices.data<int64_t>();
  }
  ASSIGN_OR_RETURN(Tensor y, Tensor::Allocate(x.dtype(), p.output_shape));
  switch (x.dtype()) {
    case DataType::kFloat32:
      MaxPoolPlanes(p, x.data<float>(), y.data<float>(), index_data, column_major, context.pool);
      break;
    case DataType::kFloat64:
      MaxPoolPlanes(p, x.data<double>(), y.data<double>(), index_data, column_major, context.pool);
      break;
    case DataType::kInt8:
      MaxPoolPlanes(p, x.data<int8_t>(), y.data<int8_t>(), index_data, column_major, context.pool);
      break;
    case DataType::kUint8:
      MaxPoolPlanes(p, x.data<uint8_t>(), y.data<uint8_t>(), index_data, column_major,
                    context.pool);
      break;
    case DataType::kFloat16:
    case DataType::kBFloat16: {  // exact: max only selects values
      Tensor xf = ToFloat32(x), yf(DataType::kFloat32, p.output_shape);
      MaxPoolPlanes(p, xf.data<float>(), yf.data<float>(), index_data, column_major, context.pool);
      ASSIGN_OR_RETURN(y, FromFloat32(yf, x.dtype()));
      break;
    }
    default:
      return UnsupportedType(node, x.dtype(), "input X");
  }
  context.output(0) = std::move(y);
  if (index_data) context.output(1) = std::move(indices);
  return OkStatus();
}

Status AveragePool(KernelContext& context) {
  RETURN_IF_ERROR(ExpectInputs(context, 1, 1));
  const Node& node = context.node;
  const Tensor& x = context.input(0);
  ASSIGN_OR_RETURN(PoolShape p, ResolvePool(node, x.shape()));
  const bool include_pad = node.GetInt("count_include_pad", 0) != 0;
  ASSIGN_OR_RETURN(Tensor y, Tensor::Allocate(x.dtype(), p.output_shape));
  switch (x.dtype()) {
    case DataType::kFloat32:
      AveragePoolPlanes(p, x.data<float>(), y.data<float>(), include_pad, context.pool);
      break;
    case DataType::kFloat64:
      AveragePoolPlanes(p, x.data<double>(), y.data<double>(), include_pad, context.pool);
      break;
    case DataType::kFloat16:
    case DataType::kBFloat16: {
      Tensor xf = ToFloat32(x), yf(DataType::kFloat32, p.output_shape);
      AveragePoolPlanes(p, xf.data<float>(), yf.data<float>(), include_pad, context.pool);
      ASSIGN_OR_RETURN(y, FromFloat32(yf, x.dtype()));
      break;
    }
    default:
      return UnsupportedType(node, x.dtype(), "input X");
  }
  context.output(0) = std::move(y);
  return OkStatus();
}

// --- global pooling: one value per (n, c) plane ----------------------------------------------

template <typename T, bool kMax>
void GlobalPoolPlanes(const T* x, T* y, int64_t planes, int64_t size, const ThreadPool& pool) {
  pool.ParallelFor(planes, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, size)),
                   [&](int64_t begin, int64_t end) {
    for (int64_t plane = begin; plane < end; ++plane) {
      const T* xp = x + plane * size;
      if constexpr (kMax) {
        T best = size > 0 ? xp[0] : T(0);
        for (int64_t i = 1; i < size; ++i) best = xp[i] > best ? xp[i] : best;
        y[plane] = best;
      } else {
        // Eight partial sums in the input type vectorize; the total is taken in double.
        T partial[8] = {};
        int64_t i = 0;
        for (; i + 8 <= size; i += 8) {
          for (int j = 0; j < 8; ++j) partial[j] += xp[i + j];
        }
        double sum = 0;
        for (int j = 0; j < 8; ++j) sum += double(partial[j]);
        for (; i < size; ++i) sum += double(xp[i]);
        y[plane] = size > 0 ? T(sum / double(size)) : T(0);
      }
    }
  });
}

template <bool kMax>
Status GlobalPool(KernelContext& context) {
  RETURN_IF_ERROR(ExpectInputs(context, 1, 1));
  const Node& node = context.node;
  const Tensor& x = context.input(0);
  if (x.rank() < 3) {
    return KernelError(node, "input X must have rank >= 3 (N, C, spatial...), got shape " +
                                 ShapeToString(x.shape()));
  }
  Shape out_shape(size_t(x.rank()), 1);
  out_shape[0] = x.dim(0);
  out_shape[1] = x.dim(1);
  const int64_t planes = x.dim(0) * x.dim(1);
  const int64_t size = planes == 0 ? 0 : x.size() / planes;
  ASSIGN_OR_RETURN(Tensor y, Tensor::Allocate(x.dtype(), out_shape));
  switch (x.dtype()) {
    case DataType::kFloat32:
      GlobalPoolPlanes<float, kMax>(x.data<float>(), y.data<float>(), planes, size, context.pool);
      break;
    case DataType::kFloat64:
      GlobalPoolPlanes<double, kMax>(x.data<double>(), y.data<double>(), planes, size,
                                     context.pool);
      break;
    case DataType::kFloat16:
    case DataType::kBFloat16: {
      Tensor xf = ToFloat32(x), yf(DataType::kFloat32, out_shape);
      GlobalPoolPlanes<float, kMax>(xf.data<float>(), yf.data<float>(), planes, size,
                                    context.pool);
      ASSIGN_OR_RETURN(y, FromFloat32(yf, x.dtype()));
      break;
    }
    default:
      return UnsupportedType(node, x.dtype(), "input X");
  }
  context.output(0) = std::move(y);
  return OkStatus();
}

}  // namespace

void RegisterPoolKernels(KernelRegistry* registry) {
  registry->RegisterFunction(OpType::kMaxPool, &MaxPool);
  registry->RegisterFunction(OpType::kAveragePool, &AveragePool);
  registry->RegisterFunction(OpType::kGlobalMaxPool, &GlobalPool<true>);
  registry->RegisterFunction(OpType::kGlobalAveragePool, &GlobalPool<false>);
}

}  // namespace shrink::engine
