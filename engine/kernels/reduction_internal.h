// Internal to the reduction kernel group (reduction.cc, softmax.cc): element conversions, the
// [outer, axis, inner] split shared by axis-wise ops, and cross-file registration.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "engine/ir/dtype.h"
#include "engine/ir/tensor.h"
#include "engine/runtime/kernel.h"

namespace shrink::engine::reduction_internal {

// Softmax, LogSoftmax, Hardmax, LayerNormalization, LpNormalization (softmax.cc).
void RegisterSoftmaxKernels(KernelRegistry* registry);

// Element type T seen as an arithmetic value: half types compute in float, integers widen to
// 64 bits, float/double stay themselves.
template <typename T>
struct Elem {
  using Compute = std::conditional_t<
      std::is_floating_point_v<T>, T,
      std::conditional_t<std::is_signed_v<T>, int64_t, uint64_t>>;
  static Compute Load(T v) { return Compute(v); }
};
template <>
struct Elem<Float16> {
  using Compute = float;
  static float Load(Float16 v) { return HalfToFloat(v.bits); }
};
template <>
struct Elem<BFloat16> {
  using Compute = float;
  static float Load(BFloat16 v) { return BFloat16ToFloat(v.bits); }
};

// Converts a computed value to T: rounding for half types, truncation toward zero with
// saturation for integers (NaN becomes 0, infinities the type's extremes).
template <typename T, typename V>
inline T StoreAs(V v) {
  if constexpr (std::is_same_v<T, Float16>) {
    return Float16{FloatToHalf(float(v))};
  } else if constexpr (std::is_same_v<T, BFloat16>) {
    return BFloat16{FloatToBFloat16(float(v))};
  } else if constexpr (std::is_floating_point_v<T> || !std::is_floating_point_v<V>) {
    return T(v);
  } else {
    if (std::isnan(v)) return T(0);
    if (v <= V(std::numeric_limits<T>::lowest())) return std::numeric_limits<T>::lowest();
    if (v >= V(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
    return T(v);
  }
}

// Numeric dtypes other than bool (what DispatchNumeric handles, minus bool).
inline bool IsArithmetic(DataType type) {
  switch (type) {
    case DataType::kFloat32: case DataType::kFloat64: case DataType::kFloat16:
    case DataType::kBFloat16: case DataType::kInt8: case DataType::kUint8:
    case DataType::kInt16: case DataType::kUint16: case DataType::kInt32:
    case DataType::kUint32: case DataType::kInt64: case DataType::kUint64:
      return true;
    default:
      return false;
  }
}

// A tensor seen as [outer, n, inner] around one axis.
struct AxisSplit {
  int64_t outer = 1;
  int64_t n = 1;
  int64_t inner = 1;
};
inline AxisSplit SplitAtAxis(const Shape& shape, int axis) {
  AxisSplit split;
  for (int i = 0; i < int(shape.size()); ++i) {
    int64_t d = shape[size_t(i)];
    if (i < axis) split.outer *= d;
    else if (i == axis) split.n = d;
    else split.inner *= d;
  }
  return split;
}

// Work per parallel chunk, in elements touched: below this, threads cost more than they save.
constexpr int64_t kMinParallelWork = 32768;
inline int64_t MinChunk(int64_t work_per_item) {
  return work_per_item <= 0 ? kMinParallelWork
                            : std::max<int64_t>(1, kMinParallelWork / work_per_item);
}

}  // namespace shrink::engine::reduction_internal
