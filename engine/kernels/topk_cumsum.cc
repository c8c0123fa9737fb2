// Kernels that walk one axis in order: TopK, CumSum, and Trilu (rows of the last two dims).
#include <algorithm>
#include <cmath>

#include "engine/kernels/tensor_internal.h"

namespace shrink::engine::tensor_internal {
namespace {

// Sort key of an element: half types compare as float.
template <typename T>
auto KeyOf(const T& v) {
  if constexpr (std::is_same_v<T, Float16>) {
    return HalfToFloat(v.bits);
  } else if constexpr (std::is_same_v<T, BFloat16>) {
    return BFloat16ToFloat(v.bits);
  } else {
    return v;
  }
}

// a ranks above b in a "largest" ordering; NaN ranks above every number so the order is strict.
template <typename K>
bool Above(K a, K b) {
  if constexpr (std::is_floating_point_v<K>) {
    if (std::isnan(a)) return !std::isnan(b);
    if (std::isnan(b)) return false;
  }
  return a > b;
}

template <typename T>
void TopKLines(const T* in, int64_t outer, int64_t dim, int64_t inner, int64_t k, bool largest,
               T* values, int64_t* indices, const ThreadPool& pool) {
  using K = decltype(KeyOf(T{}));
  int64_t lines = outer * inner;
  int64_t chunk = std::max<int64_t>(1, 4096 / std::max<int64_t>(dim, 1));
  pool.ParallelFor(lines, chunk, [&](int64_t begin, int64_t end) {
    std::vector<std::pair<K, int64_t>> items(static_cast<size_t>(dim));
    auto before = [largest](const std::pair<K, int64_t>& a, const std::pair<K, int64_t>& b) {
      bool ahead = largest ? Above(a.first, b.first) : Above(b.first, a.first);
      bool behind = largest ? Above(b.first, a.first) : Above(a.first, b.first);
      if (ahead || behind) return ahead;
      return a.second < b.second;  // ties: lower index first
    };
    for (int64_t line = begin; line < end; ++line) {
      int64_t o = line / inner, i = line % inner;
      const T* src = in + o * dim * inner + i;
      for (int64_t d = 0; d < dim; ++d) items[size_t(d)] = {KeyOf(src[d * inner]), d};
      std::partial_sort(items.begin(), items.begin() + k, items.end(), before);
      T* vout = values + o * k * inner + i;
      int64_t* iout = indices + o * k * inner + i;
      for (int64_t j = 0; j < k; ++j) {
        int64_t d = items[size_t(j)].second;
        vout[j * inner] = src[d * inner];
        iout[j * inner] = d;
      }
    }
  });
}

Status TopKKernel(KernelContext& context) {
  const Node& node = context.node;
  int64_t k = 0;
  if (context.opset < 10) {
    RETURN_IF_ERROR(ExpectInputs(context, 1, 1));
    if (!node.HasAttribute("k")) return KernelError(node, "attribute k is required");
    k = node.GetInt("k", 0);
  } else {
    RETURN_IF_ERROR(ExpectInputs(context, 2, 2));
    ASSIGN_OR_RETURN(k, ReadIntScalar(context, 1, "K"));
  }
  const Tensor& input = context.input(0);
  RETURN_IF_ERROR(RequireNumeric(node, input.dtype()));
  if (input.rank() == 0) return KernelError(node, "input must have rank >= 1");
  ASSIGN_OR_RETURN(int axis, NormalizeAxis(node.GetInt("axis", -1), input.rank(), node));
  int64_t dim = input.dim(axis);
  if (k < 0 || k > dim) {
    return KernelError(node, "k = " + std::to_string(k) + " is out of range for an axis of " +
                                 std::to_string(dim));
  }
  bool largest = context.opset < 11 || node.GetInt("largest", 1) != 0;
  Shape out_shape = input.shape();
  out_shape[size_t(axis)] = k;
  ASSIGN_OR_RETURN(Tensor values, Tensor::Allocate(input.dtype(), out_shape));
  ASSIGN_OR_RETURN(Tensor indices, Tensor::Allocate(DataType::kInt64, out_shape));
  int64_t outer = DimProduct(input.shape(), 0, axis);
  int64_t inner = DimProduct(input.shape(), axis + 1, input.rank());
  if (values.size() > 0) {
    RETURN_IF_ERROR(DispatchNumeric(input.dtype(), [&](auto tag) {
      using T = decltype(tag);
      TopKLines(input.data<T>(), outer, dim, inner, k, largest, values.data<T>(),
                indices.data<int64_t>(), context.pool);
      return OkStatus();
    }));
  }
  context.output(0) = std::move(values);
  if (context.num_outputs() > 1) context.output(1) = std::move(indices);
  return OkStatus();
}

template <typename T>
void CumSumLines(const T* in, int64_t outer, int64_t dim, int64_t inner, bool exclusive,
                 bool reverse, T* out) {
  for (int64_t o = 0; o < outer; ++o) {
    const T* x = in + o * dim * inner;
    T* y = out + o * dim * inner;
    for (int64_t step = 0; step < dim; ++step) {
      int64_t d = reverse ? dim - 1 - step : step;
      int64_t prev = reverse ? d + 1 : d - 1;
      T* row = y + d * inner;
      if (step == 0) {
        for (int64_t i = 0; i < inner; ++i) row[i] = exclusive ? T(0) : x[d * inner + i];
        continue;
      }
      const T* add = x + (exclusive ? prev : d) * inner;
      const T* last = y + prev * inner;
      for (int64_t i = 0; i < inner; ++i) row[i] = static_cast<T>(last[i] + add[i]);
    }
  }
}

Status CumSumKernel(KernelContext& context) {
  RETURN_IF_ERROR(ExpectInputs(context, 2, 2));
  const Tensor& input = context.input(0);
  const Node& node = context.node;
  ASSIGN_OR_RETURN(int64_t raw_axis, ReadIntScalar(context, 1, "axis"));
  if (input.rank() == 0) return KernelError(node, "input must have rank >= 1");
  ASSIGN_OR_RETURN(int axis, NormalizeAxis(raw_axis, input.rank(), node));
  bool exclusive = node.GetInt("exclusive", 0) != 0;
  bool reverse = node.GetInt("reverse", 0) != 0;
  int64_t outer = DimProduct(input.shape(), 0, axis);
  int64_t dim = input.dim(axis);
  int64_t inner = DimProduct(input.shape(), axis + 1, input.rank());
  ASSIGN_OR_RETURN(Tensor output, Tensor::Allocate(input.dtype(), input.shape()));
  DataType type = input.dtype();
  if (type == DataType::kBool) return UnsupportedType(node, type);
  RETURN_IF_ERROR(RequireNumeric(node, type));
  if (type == DataType::kFloat16 || type == DataType::kBFloat16) {
    // Accumulate in float, round once per output element.
    std::vector<float> x(size_t(input.size())), y(size_t(input.size()));
    for (int64_t i = 0; i < input.size(); ++i) x[size_t(i)] = float(input.GetAsDouble(i));
    CumSumLines(x.data(), outer, dim, inner, exclusive, reverse, y.data());
    uint16_t* out = output.data<uint16_t>();
    for (int64_t i = 0; i < input.size(); ++i) {
      out[i] =
          type == DataType::kFloat16 ? FloatToHalf(y[size_t(i)]) : FloatToBFloat16(y[size_t(i)]);
    }
  } else {
    RETURN_IF_ERROR(DispatchNumeric(type, [&](auto tag) {
      using T = decltype(tag);
      if constexpr (std::is_arithmetic_v<T>) {
        CumSumLines(input.data<T>(), outer, dim, inner, exclusive, reverse, output.data<T>());
      }
      return OkStatus();
    }));
  }
  context.output(0) = std::move(output);
  return OkStatus();
}

Status TriluKernel(KernelContext& context) {
  RETURN_IF_ERROR(ExpectInputs(context, 1, 2));
  const Tensor& input = context.input(0);
  const Node& node = context.node;
  if (input.rank() < 2) return KernelError(node, "input must have rank >= 2");
  int64_t k = 0;
  if (context.has_input(1)) {
    ASSIGN_OR_RETURN(k, ReadIntScalar(context, 1, "k"));
  }
  bool upper = node.GetInt("upper", 1) != 0;
  int r = input.rank();
  int64_t rows = input.dim(r - 2), cols = input.dim(r - 1);
  k = std::clamp<int64_t>(k, -rows - cols - 1, rows + cols + 1);
  int64_t batches = DimProduct(input.shape(), 0, r - 2);
  ASSIGN_OR_RETURN(Tensor output, Tensor::Allocate(input.dtype(), input.shape()));
  RETURN_IF_ERROR(DispatchByElement(node, input.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* in = Elements<T>(input);
    T* out = MutableElements<T>(output);  // zero-filled (empty strings)
    for (int64_t b = 0; b < batches; ++b) {
      for (int64_t i = 0; i < rows; ++i) {
        int64_t offset = (b * rows + i) * cols;
        // upper keeps j - i >= k, lower keeps j - i <= k
        int64_t lo = upper ? std::clamp<int64_t>(i + k, 0, cols) : 0;
        int64_t hi = upper ? cols : std::clamp<int64_t>(i + k + 1, 0, cols);
        if (hi > lo) CopyElements(in + offset + lo, hi - lo, out + offset + lo);
      }
    }
    return OkStatus();
  }));
  context.output(0) = std::move(output);
  return OkStatus();
}

}  // namespace

void RegisterOrderingKernels(KernelRegistry* registry) {
  registry->RegisterFunction(OpType::kTopK, &TopKKernel);
  registry->RegisterFunction(OpType::kCumSum, &CumSumKernel);
  registry->RegisterFunction(OpType::kTrilu, &TriluKernel);
}

}  // namespace shrink::engine::tensor_internal
