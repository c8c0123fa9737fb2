// Index-driven copies: Gather, GatherElements, GatherND, ScatterElements, ScatterND, plus NonZero
// and OneHot. Every index is validated (negative indices count from the end) before any copy.
#include <algorithm>
#include <cmath>

#include "engine/kernels/tensor_internal.h"

namespace shrink::engine::tensor_internal {
namespace {

constexpr int64_t kMinChunkElements = 16384;

// Reads all indices, maps negatives by adding `dim` and rejects anything outside [0, dim).
// `dims` (optional) gives a per-position limit instead: position p is checked against
// dims[p % dims.size()] (GatherND tuples).
StatusOr<std::vector<int64_t>> ReadIndices(const KernelContext& context, const Tensor& indices,
                                           const std::vector<int64_t>& dims) {
  if (!IsIntegerIndexType(indices.dtype())) {
    return UnsupportedType(context.node, indices.dtype(), "indices");
  }
  std::vector<int64_t> values(size_t(indices.size()));
  for (int64_t p = 0; p < indices.size(); ++p) {
    int64_t dim = dims[size_t(p) % dims.size()];
    int64_t v = indices.GetAsInt64(p);
    int64_t fixed = v < 0 ? v + dim : v;
    if (fixed < 0 || fixed >= dim) {
      return KernelError(context.node, "index " + std::to_string(v) + " (at flat position " +
                                           std::to_string(p) + ") is out of range for a dim of " +
                                           std::to_string(dim));
    }
    values[size_t(p)] = fixed;
  }
  return values;
}

template <typename T>
inline void CopyBlock(const T* from, int64_t count, T* to) {
  if (count == 1) {
    *to = *from;
  } else {
    CopyElements(from, count, to);
  }
}

Status GatherKernel(KernelContext& context) {
  RETURN_IF_ERROR(ExpectInputs(context, 2, 2));
  const Tensor& data = context.input(0);
  const Tensor& indices = context.input(1);
  if (data.rank() == 0) return KernelError(context.node, "data must have rank >= 1");
  ASSIGN_OR_RETURN(int axis,
                   NormalizeAxis(context.node.GetInt("axis", 0), data.rank(), context.node));
  int64_t dim = data.dim(axis);
  ASSIGN_OR_RETURN(std::vector<int64_t> idx, ReadIndices(context, indices, {dim}));
  Shape out_shape(data.shape().begin(), data.shape().begin() + axis);
  out_shape.insert(out_shape.end(), indices.shape().begin(), indices.shape().end());
  out_shape.insert(out_shape.end(), data.shape().begin() + axis + 1, data.shape().end());
  ASSIGN_OR_RETURN(Tensor output, Tensor::Allocate(data.dtype(), out_shape));
  int64_t outer = DimProduct(data.shape(), 0, axis);
  int64_t inner = DimProduct(data.shape(), axis + 1, data.rank());
  int64_t n = int64_t(idx.size());
  RETURN_IF_ERROR(DispatchByElement(context.node, data.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* in = Elements<T>(data);
    T* out = MutableElements<T>(output);
    int64_t chunk = std::max<int64_t>(1, kMinChunkElements / std::max<int64_t>(inner, 1));
    context.pool.ParallelFor(outer * n, chunk, [&](int64_t begin, int64_t end) {
      for (int64_t item = begin; item < end; ++item) {
        int64_t o = item / n, j = item % n;
        CopyBlock(in + (o * dim + idx[size_t(j)]) * inner, inner, out + item * inner);
      }
    });
    return OkStatus();
  }));
  context.output(0) = std::move(output);
  return OkStatus();
}

// Checks that `indices` has the rank of `data` and fits inside it on every axis but `axis`.
Status CheckElementsShapes(const Node& node, const Tensor& data, const Tensor& indices, int axis) {
  if (indices.rank() != data.rank()) {
    return KernelError(node, "indices rank " + std::to_string(indices.rank()) +
                                 " differs from data rank " + std::to_string(data.rank()));
  }
  for (int d = 0; d < data.rank(); ++d) {
    if (d != axis && indices.dim(d) > data.dim(d)) {
      return KernelError(node, "indices shape " + ShapeToString(indices.shape()) +
                                   " exceeds data shape " + ShapeToString(data.shape()) +
                                   " on axis " + std::to_string(d));
    }
  }
  return OkStatus();
}

// Calls fn(position, data_offset) for every element of `indices` (GatherElements/ScatterElements
// addressing: the axis coordinate comes from the index value).
template <typename Fn>
void ForEachElementTarget(const Shape& index_shape, const Shape& data_shape, int axis,
                          const std::vector<int64_t>& idx, Fn&& fn) {
  int r = int(index_shape.size());
  std::vector<int64_t> strides = Strides(data_shape);
  std::vector<int64_t> pos(size_t(r), 0);
  int64_t count = int64_t(idx.size());
  int64_t base = 0;  // offset of pos without the axis coordinate
  for (int64_t p = 0; p < count; ++p) {
    fn(p, base + idx[size_t(p)] * strides[size_t(axis)]);
    for (int k = r - 1; k >= 0; --k) {
      int64_t step = k == axis ? 0 : strides[size_t(k)];
      base += step;
      if (++pos[size_t(k)] < index_shape[size_t(k)]) break;
      base -= step * index_shape[size_t(k)];
      pos[size_t(k)] = 0;
    }
  }
}

Status GatherElementsKernel(KernelContext& context) {
  RETURN_IF_ERROR(ExpectInputs(context, 2, 2));
  const Tensor& data = context.input(0);
  const Tensor& indices = context.input(1);
  if (data.rank() == 0) return KernelError(context.node, "data must have rank >= 1");
  ASSIGN_OR_RETURN(int axis,
                   NormalizeAxis(context.node.GetInt("axis", 0), data.rank(), context.node));
  RETURN_IF_ERROR(CheckElementsShapes(context.node, data, indices, axis));
  ASSIGN_OR_RETURN(std::vector<int64_t> idx, ReadIndices(context, indices, {data.dim(axis)}));
  ASSIGN_OR_RETURN(Tensor output, Tensor::Allocate(data.dtype(), indices.shape()));
  RETURN_IF_ERROR(DispatchByElement(context.node, data.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* in = Elements<T>(data);
    T* out = MutableElements<T>(output);
    ForEachElementTarget(indices.shape(), data.shape(), axis, idx,
                         [&](int64_t p, int64_t offset) { out[p] = in[offset]; });
    return OkStatus();
  }));
  context.output(0) = std::move(output);
  return OkStatus();
}

// Shared GatherND/ScatterND addressing: tuples of k indices into data dims [b, b + k).
struct NdPlan {
  int64_t batches = 1;           // product of the batch dims
  int64_t per_batch = 1;         // tuples per batch
  int64_t slice = 1;             // elements per addressed slice
  int64_t batch_stride = 1;      // data elements per batch
  std::vector<int64_t> offsets;  // data offset (within its batch) of each tuple
};

StatusOr<NdPlan> PlanNd(const KernelContext& context, const Tensor& data, const Tensor& indices,
                        int64_t batch_dims) {
  const Node& node = context.node;
  int r = data.rank(), q = indices.rank();
  if (q < 1) return KernelError(node, "indices must have rank >= 1");
  if (batch_dims < 0 || batch_dims >= std::min(r, q)) {
    return KernelError(node, "batch_dims " + std::to_string(batch_dims) + " is out of range");
  }
  int b = int(batch_dims);
  int64_t k = indices.dim(q - 1);
  if (k < 1 || k > r - b) {
    return KernelError(
        node, "indices last dim " + std::to_string(k) + " must be in 1.." + std::to_string(r - b));
  }
  for (int d = 0; d < b; ++d) {
    if (data.dim(d) != indices.dim(d))
      return KernelError(node, "batch dims of data and indices differ");
  }
  std::vector<int64_t> limits(data.shape().begin() + b, data.shape().begin() + b + k);
  ASSIGN_OR_RETURN(std::vector<int64_t> idx, ReadIndices(context, indices, limits));
  NdPlan plan;
  plan.batches = DimProduct(data.shape(), 0, b);
  plan.batch_stride = DimProduct(data.shape(), b, r);
  plan.slice = DimProduct(data.shape(), b + int(k), r);
  int64_t tuples = int64_t(idx.size()) / k;
  plan.per_batch = plan.batches == 0 ? 0 : tuples / plan.batches;
  std::vector<int64_t> strides = Strides(data.shape());
  plan.offsets.resize(static_cast<size_t>(tuples));
  for (int64_t t = 0; t < tuples; ++t) {
    int64_t offset = 0;
    for (int64_t j = 0; j < k; ++j) offset += idx[size_t(t * k + j)] * strides[size_t(b + j)];
    plan.offsets[size_t(t)] = offset;
  }
  return plan;
}

Status GatherNDKernel(KernelContext& context) {
  RETURN_IF_ERROR(ExpectInputs(context, 2, 2));
  const Tensor& data = context.input(0);
  const Tensor& indices = context.input(1);
  int64_t batch_dims = context.opset >= 12 ? context.node.GetInt("batch_dims", 0) : 0;
  ASSIGN_OR_RETURN(NdPlan plan, PlanNd(context, data, indices, batch_dims));
  int q = indices.rank();
  Shape out_shape(indices.shape().begin(), indices.shape().end() - 1);
  out_shape.insert(out_shape.end(), data.shape().begin() + batch_dims + indices.dim(q - 1),
                   data.shape().end());
  ASSIGN_OR_RETURN(Tensor output, Tensor::Allocate(data.dtype(), out_shape));
  RETURN_IF_ERROR(DispatchByElement(context.node, data.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* in = Elements<T>(data);
    T* out = MutableElements<T>(output);
    int64_t tuples = int64_t(plan.offsets.size());
    int64_t chunk = std::max<int64_t>(1, kMinChunkElements / std::max<int64_t>(plan.slice, 1));
    context.pool.ParallelFor(tuples, chunk, [&](int64_t begin, int64_t end) {
      for (int64_t t = begin; t < end; ++t) {
        int64_t batch = t / plan.per_batch;
        CopyBlock(in + batch * plan.batch_stride + plan.offsets[size_t(t)], plan.slice,
                  out + t * plan.slice);
      }
    });
    return OkStatus();
  }));
  context.output(0) = std::move(output);
  return OkStatus();
}

enum class Reduction { kNone, kAdd, kMul, kMax, kMin };

StatusOr<Reduction> ReadReduction(const KernelContext& context) {
  std::string name = context.node.GetString("reduction", "none");
  if (name == "none") return Reduction::kNone;
  if (name == "add") return Reduction::kAdd;
  if (name == "mul") return Reduction::kMul;
  if (name == "max") return Reduction::kMax;
  if (name == "min") return Reduction::kMin;
  return KernelError(context.node, "unknown reduction '" + name + "'");
}

template <typename T>
T Reduce(T a, T b, Reduction reduction) {
  if constexpr (std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>) {
    constexpr bool kHalf = std::is_same_v<T, Float16>;
    float x = kHalf ? HalfToFloat(a.bits) : BFloat16ToFloat(a.bits);
    float y = kHalf ? HalfToFloat(b.bits) : BFloat16ToFloat(b.bits);
    float r = Reduce(x, y, reduction);
    return T{kHalf ? FloatToHalf(r) : FloatToBFloat16(r)};
  } else {
    switch (reduction) {
      case Reduction::kAdd:
        return static_cast<T>(a + b);
      case Reduction::kMul:
        return static_cast<T>(a * b);
      case Reduction::kMax:
        return std::max(a, b);
      case Reduction::kMin:
        return std::min(a, b);
      case Reduction::kNone:
        return b;
    }
    return b;
  }
}

// Copies data into a new output and calls apply(T-tag, out) with the element type for the
// reduction: bit copies for kNone (any dtype), numeric types otherwise.
template <typename Fn>
Status ScatterInto(const KernelContext& context, Reduction reduction, Tensor* output, Fn&& apply) {
  const Tensor& data = context.input(0);
  if (context.input(2).dtype() != data.dtype()) {
    return KernelError(context.node, "updates dtype differs from data dtype");
  }
  *output = data.Clone();
  if (reduction == Reduction::kNone) {
    return DispatchByElement(context.node, data.dtype(), [&](auto tag) {
      apply(tag);
      return OkStatus();
    });
  }
  RETURN_IF_ERROR(RequireNumeric(context.node, data.dtype()));
  return DispatchNumeric(data.dtype(), [&](auto tag) {
    apply(tag);
    return OkStatus();
  });
}

Status ScatterElementsKernel(KernelContext& context) {
  RETURN_IF_ERROR(ExpectInputs(context, 3, 3));
  const Tensor& data = context.input(0);
  const Tensor& indices = context.input(1);
  const Tensor& updates = context.input(2);
  if (data.rank() == 0) return KernelError(context.node, "data must have rank >= 1");
  ASSIGN_OR_RETURN(int axis,
                   NormalizeAxis(context.node.GetInt("axis", 0), data.rank(), context.node));
  ASSIGN_OR_RETURN(Reduction reduction, ReadReduction(context));
  if (indices.shape() != updates.shape()) {
    return KernelError(context.node, "indices shape " + ShapeToString(indices.shape()) +
                                         " differs from updates shape " +
                                         ShapeToString(updates.shape()));
  }
  RETURN_IF_ERROR(CheckElementsShapes(context.node, data, indices, axis));
  ASSIGN_OR_RETURN(std::vector<int64_t> idx, ReadIndices(context, indices, {data.dim(axis)}));
  Tensor output;
  RETURN_IF_ERROR(ScatterInto(context, reduction, &output, [&](auto tag) {
    using T = decltype(tag);
    const T* upd = Elements<T>(updates);
    T* out = MutableElements<T>(output);
    ForEachElementTarget(indices.shape(), data.shape(), axis, idx, [&](int64_t p, int64_t offset) {
      if constexpr (std::is_arithmetic_v<T> || std::is_same_v<T, Float16> ||
                    std::is_same_v<T, BFloat16>) {
        out[offset] =
            reduction == Reduction::kNone ? upd[p] : Reduce(out[offset], upd[p], reduction);
      } else {
        out[offset] = upd[p];
      }
    });
  }));
  context.output(0) = std::move(output);
  return OkStatus();
}

Status ScatterNDKernel(KernelContext& context) {
  RETURN_IF_ERROR(ExpectInputs(context, 3, 3));
  const Tensor& data = context.input(0);
  const Tensor& indices = context.input(1);
  const Tensor& updates = context.input(2);
  ASSIGN_OR_RETURN(Reduction reduction, ReadReduction(context));
  if (data.rank() < 1) return KernelError(context.node, "data must have rank >= 1");
  ASSIGN_OR_RETURN(NdPlan plan, PlanNd(context, data, indices, 0));
  int q = indices.rank();
  Shape expected(indices.shape().begin(), indices.shape().end() - 1);
  expected.insert(expected.end(), data.shape().begin() + indices.dim(q - 1), data.shape().end());
  if (updates.shape() != expected) {
    return KernelError(context.node, "updates shape " + ShapeToString(updates.shape()) +
                                         " should be " + ShapeToString(expected));
  }
  Tensor output;
  RETURN_IF_ERROR(ScatterInto(context, reduction, &output, [&](auto tag) {
    using T = decltype(tag);
    const T* upd = Elements<T>(updates);
    T* out = MutableElements<T>(output);
    for (size_t t = 0; t < plan.offsets.size(); ++t) {
      T* dst = out + plan.offsets[t];
      const T* src = upd + int64_t(t) * plan.slice;
      if constexpr (std::is_arithmetic_v<T> || std::is_same_v<T, Float16> ||
                    std::is_same_v<T, BFloat16>) {
        if (reduction != Reduction::kNone) {
          for (int64_t i = 0; i < plan.slice; ++i) dst[i] = Reduce(dst[i], src[i], reduction);
          continue;
        }
      }
      CopyElements(src, plan.slice, dst);
    }
  }));
  context.output(0) = std::move(output);
  return OkStatus();
}

template <typename T>
bool IsNonZero(const T& v) {
  if constexpr (std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>) {
    return (v.bits & 0x7fff) != 0;
  } else {
    return v != T(0);
  }
}

Status NonZeroKernel(KernelContext& context) {
  RETURN_IF_ERROR(ExpectInputs(context, 1, 1));
  const Tensor& input = context.input(0);
  int rank = input.rank();
  RETURN_IF_ERROR(RequireNumeric(context.node, input.dtype()));
  std::vector<int64_t> hits;
  RETURN_IF_ERROR(DispatchNumeric(input.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* in = input.data<T>();
    for (int64_t i = 0; i < input.size(); ++i) {
      if (IsNonZero(in[i])) hits.push_back(i);
    }
    return OkStatus();
  }));
  int64_t nnz = int64_t(hits.size());
  int coords = std::max(rank, 1);  // a scalar reports one coordinate, 0
  ASSIGN_OR_RETURN(Tensor output, Tensor::Allocate(DataType::kInt64, {coords, nnz}));
  int64_t* out = output.data<int64_t>();
  for (int64_t h = 0; h < nnz; ++h) {
    int64_t flat = hits[size_t(h)];
    for (int k = rank - 1; k >= 0; --k) {
      out[k * nnz + h] = flat % input.dim(k);
      flat /= input.dim(k);
    }
  }
  context.output(0) = std::move(output);
  return OkStatus();
}

Status OneHotKernel(KernelContext& context) {
  RETURN_IF_ERROR(ExpectInputs(context, 3, 3));
  const Node& node = context.node;
  const Tensor& indices = context.input(0);
  const Tensor& depth_tensor = context.input(1);
  const Tensor& values = context.input(2);
  RETURN_IF_ERROR(RequireNumeric(node, indices.dtype(), "indices"));
  RETURN_IF_ERROR(RequireNumeric(node, depth_tensor.dtype(), "depth"));
  if (depth_tensor.size() != 1) return KernelError(node, "depth must be a scalar");
  if (values.size() != 2) return KernelError(node, "values must hold [off_value, on_value]");
  double raw_depth = depth_tensor.GetAsDouble(0);
  if (!(raw_depth >= 1 && raw_depth < 9e18)) {
    return KernelError(node, "depth must be positive, got " + std::to_string(raw_depth));
  }
  int64_t depth = int64_t(raw_depth);
  bool negative_indices = context.opset >= 11;  // OneHot-9 treats them as out of range
  int rank = indices.rank();
  ASSIGN_OR_RETURN(int axis, NormalizeAxis(node.GetInt("axis", -1), rank + 1, node));
  Shape out_shape = indices.shape();
  out_shape.insert(out_shape.begin() + axis, depth);
  ASSIGN_OR_RETURN(Tensor output, Tensor::Allocate(values.dtype(), out_shape));
  int64_t outer = DimProduct(indices.shape(), 0, axis);
  int64_t inner = DimProduct(indices.shape(), axis, rank);
  RETURN_IF_ERROR(DispatchByElement(node, values.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* v = Elements<T>(values);
    T* out = MutableElements<T>(output);
    std::fill(out, out + output.size(), v[0]);
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < inner; ++i) {
        double raw = indices.GetAsDouble(o * inner + i);
        if (!(std::abs(raw) < 9e18)) continue;  // NaN or far out of range: all off
        int64_t index = int64_t(raw);
        if (index < 0 && negative_indices) index += depth;
        if (index >= 0 && index < depth) out[(o * depth + index) * inner + i] = v[1];
      }
    }
    return OkStatus();
  }));
  context.output(0) = std::move(output);
  return OkStatus();
}

}  // namespace

void RegisterGatherScatterKernels(KernelRegistry* registry) {
  registry->RegisterFunction(OpType::kGather, &GatherKernel);
  registry->RegisterFunction(OpType::kGatherElements, &GatherElementsKernel);
  registry->RegisterFunction(OpType::kGatherND, &GatherNDKernel);
  registry->RegisterFunction(OpType::kScatterElements, &ScatterElementsKernel);
  // Scatter (9, deprecated at 11) is ScatterElements under its old name.
  registry->RegisterFunction(OpType::kScatter, &ScatterElementsKernel);
  registry->RegisterFunction(OpType::kScatterND, &ScatterNDKernel);
  registry->RegisterFunction(OpType::kNonZero, &NonZeroKernel);
  registry->RegisterFunction(OpType::kOneHot, &OneHotKernel);
}

}  // namespace shrink::engine::tensor_internal
