// Internal to the reduction kernel group (reduction.cc, softmax.cc): element conversions, the
// [outer, axis, inner] split shared by axis-wise ops, float SIMD helpers and cross-file
// registration.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "engine/ir/dtype.h"
#include "engine/ir/tensor.h"
#include "engine/runtime/kernel.h"

namespace shrink::engine::reduction_internal {

// Softmax, LogSoftmax, Hardmax, LayerNormalization, LpNormalization (softmax.cc).
void RegisterSoftmaxKernels(KernelRegistry* registry);
// Makes the float fast paths of softmax.cc use their portable SSE2 build even on CPUs with
// AVX2/AVX-512, so tests cover it. Not for concurrent use with running kernels.
void UseBaselineIsaForTesting(bool baseline);

// Element type T seen as an arithmetic value: half types compute in float, integers widen to
// 64 bits, float/double stay themselves.
template <typename T>
struct Elem {
  using Compute = std::conditional_t<std::is_floating_point_v<T>, T,
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
    case DataType::kFloat32:
    case DataType::kFloat64:
    case DataType::kFloat16:
    case DataType::kBFloat16:
    case DataType::kInt8:
    case DataType::kUint8:
    case DataType::kInt16:
    case DataType::kUint16:
    case DataType::kInt32:
    case DataType::kUint32:
    case DataType::kInt64:
    case DataType::kUint64:
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
    if (i < axis)
      split.outer *= d;
    else if (i == axis)
      split.n = d;
    else
      split.inner *= d;
  }
  return split;
}

// Work per parallel chunk, in elements touched: below this, threads cost more than they save.
constexpr int64_t kMinParallelWork = 32768;
inline int64_t MinChunk(int64_t work_per_item) {
  return work_per_item <= 0 ? kMinParallelWork
                            : std::max<int64_t>(1, kMinParallelWork / work_per_item);
}

// Float SIMD on GCC vector extensions: the same source compiles to SSE2, AVX2 or AVX-512 code
// depending on the vector width and the calling function's target attribute. Vector compares
// and selects stay branch-free, which plain loops do not under the default -ftrapping-math.
// Everything is always_inline: call it only from functions built for a matching target.

// Wide vectors are returned only from always-inlined calls, so gcc's warnings about their
// calling convention do not apply. Not popped: they are reported where templates instantiate.
#pragma GCC diagnostic ignored "-Wpsabi"

template <int kBytes>
struct Simd {
  typedef float F __attribute__((vector_size(kBytes)));
  typedef int32_t I __attribute__((vector_size(kBytes)));
  static constexpr int kLanes = kBytes / 4;
};
using Sse2 = Simd<16>;
using Avx2 = Simd<32>;
using Avx512 = Simd<64>;

template <typename S>
__attribute__((always_inline)) inline typename S::F Load(const float* p) {
  typename S::F v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
template <typename S>
__attribute__((always_inline)) inline void Store(float* p, const typename S::F& v) {
  std::memcpy(p, &v, sizeof(v));
}
// The first m < kLanes values of p, the rest `fill`.
template <typename S>
__attribute__((always_inline)) inline typename S::F LoadPartial(const float* p, int64_t m,
                                                                float fill) {
  typename S::F v = typename S::F{} + fill;
  std::memcpy(&v, p, size_t(m) * sizeof(float));
  return v;
}

// exp: a Cephes-style polynomial, about 1.5 ulp for arguments in [-87.3, 88]; 0 below
// (subnormal results are flushed); NaN stays NaN. Callers pass x - max, so never above 88.
template <typename S>
__attribute__((always_inline)) inline typename S::F Exp(const typename S::F& v) {
  using F = typename S::F;
  using I = typename S::I;
  const F zero = {};
  const F lo = zero - 87.3f, hi = zero + 88.0f;
  F c = v < lo ? lo : v;
  c = c > hi ? hi : c;
  F k = c * 1.44269504f + 12582912.0f;  // 1.5 * 2^23: rounds c * log2(e) to an integer
  F fk = k - 12582912.0f;
  F r = c - fk * 0.693359375f;  // ln 2 in two parts
  r = r - fk * -2.12194440e-4f;
  F p = zero + 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.0f;
  I exponent = ((I)k - 0x4B400000 + 127) << 23;  // 2^round(c * log2(e))
  F result = p * (F)exponent;
  return v < lo ? zero : result;
}

template <typename S>
__attribute__((always_inline)) inline void ExpArray(float* y, int64_t n) {
  constexpr int L = S::kLanes;
  int64_t i = 0;
  for (; i + L <= n; i += L) Store<S>(y + i, Exp<S>(Load<S>(y + i)));
  if (i < n) {
    typename S::F e = Exp<S>(LoadPartial<S>(y + i, n - i, 0.0f));
    std::memcpy(y + i, &e, size_t(n - i) * sizeof(float));
  }
}

template <typename V>
__attribute__((always_inline)) inline V VectorMax(const V& a, const V& b) {
  return a < b ? b : a;
}

// Horizontal max and sum of one vector, as a tree of halvings.
template <typename S>
__attribute__((always_inline)) inline float HorizontalMax(const typename S::F& v) {
  if constexpr (S::kLanes == 16) {
    return HorizontalMax<Avx2>(
        VectorMax(__builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7),
                  __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15)));
  } else if constexpr (S::kLanes == 8) {
    return HorizontalMax<Sse2>(VectorMax(__builtin_shufflevector(v, v, 0, 1, 2, 3),
                                         __builtin_shufflevector(v, v, 4, 5, 6, 7)));
  } else {
    return VectorMax(VectorMax(v[0], v[2]), VectorMax(v[1], v[3]));
  }
}
template <typename S>
__attribute__((always_inline)) inline float HorizontalSum(const typename S::F& v) {
  if constexpr (S::kLanes == 16) {
    return HorizontalSum<Avx2>(__builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7) +
                               __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15));
  } else if constexpr (S::kLanes == 8) {
    return HorizontalSum<Sse2>(__builtin_shufflevector(v, v, 0, 1, 2, 3) +
                               __builtin_shufflevector(v, v, 4, 5, 6, 7));
  } else {
    return (v[0] + v[2]) + (v[1] + v[3]);
  }
}

}  // namespace shrink::engine::reduction_internal
