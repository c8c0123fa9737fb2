// Machinery shared by the elementwise kernels (elementwise.cc: binary, variadic, Where, Cast;
// elementwise_math.cc: unary math and activations): a kernel adapter carrying the reference
// switch, broadcast iteration plans, dtype helpers and the run-time AVX2 switch.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "common/status.h"
#include "engine/ir/tensor.h"
#include "engine/kernels/kernel_util.h"
#include "engine/runtime/kernel.h"

namespace shrink::engine::elementwise {

// Elementwise kernels are stateless: a function of the context and of KernelConfig::reference
// (true selects plain loops over std:: math, the oracle the fast paths are tested against).
using EwFunction = Status (*)(KernelContext& context, bool reference);
void RegisterEw(KernelRegistry* registry, OpType op, EwFunction function);
void RegisterElementwiseMathKernels(KernelRegistry* registry);  // elementwise_math.cc

// Minimum elements per thread: loops over fewer elements run inline.
constexpr int64_t kCheapChunk = 32768;  // memory-bound ops (Add, Relu, Cast, ...)
constexpr int64_t kCostlyChunk = 4096;  // ops calling transcendental functions

// True when the CPU has AVX2 and FMA: float loops then run their target("avx2,fma") clones.
bool UseAvx2();
#define SHRINK_AVX2 __attribute__((target("avx2,fma")))
#define SHRINK_INLINE __attribute__((always_inline)) inline

template <typename T>
inline constexpr bool kIsFloat = std::is_same_v<T, float> || std::is_same_v<T, double>;
template <typename T>
inline constexpr bool kIsInt = std::is_integral_v<T> && !std::is_same_v<T, bool>;
template <typename T>
inline constexpr bool kIsArith = kIsFloat<T> || kIsInt<T>;

inline bool IsHalf(DataType type) {
  return type == DataType::kFloat16 || type == DataType::kBFloat16;
}
// Float16/BFloat16 are computed in float32: convert in, compute, round back once.
Tensor HalfToFloatTensor(const Tensor& tensor);
Tensor FloatToHalfTensor(const Tensor& tensor, DataType half_type);
// Returns the tensor itself, or its float32 conversion when it is float16/bfloat16.
Tensor WidenHalf(const Tensor& tensor);

// Calls fn(T{}) for float, double and the eight integer types (not bool, not half).
template <typename Fn>
Status DispatchArith(DataType type, Fn&& fn) {
  switch (type) {
    case DataType::kFloat32: return fn(float{});
    case DataType::kFloat64: return fn(double{});
    case DataType::kInt8: return fn(int8_t{});
    case DataType::kUint8: return fn(uint8_t{});
    case DataType::kInt16: return fn(int16_t{});
    case DataType::kUint16: return fn(uint16_t{});
    case DataType::kInt32: return fn(int32_t{});
    case DataType::kUint32: return fn(uint32_t{});
    case DataType::kInt64: return fn(int64_t{});
    case DataType::kUint64: return fn(uint64_t{});
    default: return Unimplemented(std::string("dtype ") + DataTypeName(type) + " not supported");
  }
}

// Checks that inputs [first, last) are present and share input `first`'s dtype.
Status ExpectSameTypes(const KernelContext& context, int first, int last);

// Iteration over an output and up to three inputs broadcast into it. Adjacent dims are merged
// where every input is either contiguous across both or broadcast across both, so the
// innermost run is as long as possible; inner strides are then 1 (contiguous) or 0 (repeated).
struct BroadcastPlan {
  Shape output_shape;
  int64_t size = 0;
  std::vector<int64_t> dims;                  // merged dims, outermost first; never empty
  std::vector<std::vector<int64_t>> strides;  // per input, per merged dim (0 = broadcast)
  // The unmerged strides of each input over output_shape (for the reference loops).
  std::vector<std::vector<int64_t>> full_strides;
  bool inner_contiguous(size_t input) const { return strides[input].back() != 0; }
};
// `output_shape` must be the broadcast of the inputs (or larger); fails naming the shapes.
StatusOr<BroadcastPlan> MakeBroadcastPlan(const Node& node, const Shape& output_shape,
                                          const std::vector<Shape>& inputs);
// Broadcasts the inputs' shapes together, then plans; fails naming the shapes.
StatusOr<BroadcastPlan> PlanFor(const Node& node, const std::vector<const Tensor*>& inputs);

// Calls fn(out_offset, offsets, count) for each contiguous run of output elements in
// [begin, end): offsets[k] is input k's element offset at the run start; within the run input
// k advances by plan.strides[k].back() (0 or 1) per element.
template <size_t N, typename Fn>
void ForEachRun(const BroadcastPlan& plan, int64_t begin, int64_t end, Fn&& fn) {
  if (begin >= end) return;
  const size_t rank = plan.dims.size();
  const int64_t inner = plan.dims[rank - 1];
  std::vector<int64_t> index(rank, 0);
  std::array<int64_t, N> offsets{};
  int64_t rest = begin;
  for (size_t d = rank; d-- > 0;) {
    index[d] = rest % plan.dims[d];
    rest /= plan.dims[d];
    for (size_t k = 0; k < N; ++k) offsets[k] += index[d] * plan.strides[k][d];
  }
  for (int64_t pos = begin; pos < end;) {
    int64_t count = std::min(inner - index[rank - 1], end - pos);
    fn(pos, offsets, count);
    pos += count;
    index[rank - 1] += count;
    for (size_t k = 0; k < N; ++k) offsets[k] += count * plan.strides[k][rank - 1];
    for (size_t d = rank - 1; d > 0 && index[d] == plan.dims[d]; --d) {
      index[d] = 0;
      ++index[d - 1];
      for (size_t k = 0; k < N; ++k) {
        offsets[k] += plan.strides[k][d - 1] - plan.dims[d] * plan.strides[k][d];
      }
    }
  }
}

// Reference iteration: fn(out_index, offsets) per output element, computing every input offset
// from the unmerged broadcast strides.
template <size_t N, typename Fn>
void ForEachElementReference(const BroadcastPlan& plan, Fn&& fn) {
  const Shape& shape = plan.output_shape;
  for (int64_t i = 0; i < plan.size; ++i) {
    std::array<int64_t, N> offsets{};
    int64_t rest = i;
    for (size_t d = shape.size(); d-- > 0;) {
      int64_t coordinate = rest % shape[d];
      rest /= shape[d];
      for (size_t k = 0; k < N; ++k) offsets[k] += coordinate * plan.full_strides[k][d];
    }
    fn(i, offsets);
  }
}

// UB-free conversion of a floating value to an integer type: in-range values
// truncate toward zero; out-of-range values and NaN follow x86 (the integer "indefinite"
// value for 64-bit targets, wrap-around of the int64 conversion for narrower ones).
template <typename To>
To FloatToInt(double value) {
  constexpr double kTwo63 = 9223372036854775808.0;
  if constexpr (std::is_same_v<To, bool>) {
    return value != 0;
  } else if constexpr (std::is_same_v<To, uint64_t>) {
    if (value > -kTwo63 && value < kTwo63) return To(int64_t(value));
    if (value >= kTwo63 && value < 2 * kTwo63) return To(value);
    return To(uint64_t(1) << 63);
  } else {
    int64_t wide = (value >= -kTwo63 && value < kTwo63) ? int64_t(value) : INT64_MIN;
    return To(wide);
  }
}

// ---- Vectorizable float math ----------------------------------------------------------------
// Branch-free, so loops calling them vectorize (SSE2, or AVX2 in SHRINK_AVX2 clones, where gcc
// also contracts a * b + c into FMA: results may differ in the last bit between the clones;
// the stated error bounds hold for both and are tested for both). With
// trapping math (the default) gcc will not if-convert `c ? x * a : x`, since that would
// speculate the multiplication; Select() computes both sides and blends them with bit masks.

SHRINK_INLINE float BitsToFloat(int32_t bits) {
  float value;
  std::memcpy(&value, &bits, 4);
  return value;
}
SHRINK_INLINE int32_t FloatToBits(float value) {
  int32_t bits;
  std::memcpy(&bits, &value, 4);
  return bits;
}

// condition ? a : b, without a branch for float and double.
template <typename T>
SHRINK_INLINE T Select(bool condition, T a, T b) {
  if constexpr (std::is_same_v<T, float>) {
    const int32_t mask = -int32_t(condition);
    return BitsToFloat((FloatToBits(a) & mask) | (FloatToBits(b) & ~mask));
  } else if constexpr (std::is_same_v<T, double>) {
    int64_t ia, ib;
    std::memcpy(&ia, &a, 8);
    std::memcpy(&ib, &b, 8);
    const int64_t mask = -int64_t(condition);
    const int64_t bits = (ia & mask) | (ib & ~mask);
    double value;
    std::memcpy(&value, &bits, 8);
    return value;
  } else {
    return condition ? a : b;
  }
}

// exp(x) within 1 ulp of the correctly rounded result over the whole float range (Cephes
// polynomial, Cody-Waite reduction); overflows to inf, underflows through subnormals to 0,
// keeps NaN.
SHRINK_INLINE float FastExp(float x) {
  constexpr float kRound = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  x = Select(x < -110.0f, -110.0f, x);
  x = Select(x > 89.0f, 89.0f, x);
  float fn = x * 1.44269504088896341f + kRound;
  const int32_t n = FloatToBits(fn) - FloatToBits(kRound);
  fn -= kRound;
  float r = x - fn * 0.693359375f;
  r = r - fn * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float y = p * r * r + r + 1.0f;
  // 2^n in two factors so that n in [-159, 129] never leaves the normal exponent range.
  const int32_t n1 = n >> 1;
  const int32_t n2 = n - n1;
  return y * BitsToFloat((n1 + 127) << 23) * BitsToFloat((n2 + 127) << 23);
}

// log(x) for normal positive finite x (Cephes polynomial), within 2 ulp; other inputs are not
// handled (callers pass values in [1, 2]).
SHRINK_INLINE float FastLogNormal(float x) {
  const int32_t bits = FloatToBits(x);
  int32_t e = (bits >> 23) - 126;                         // x = m * 2^e, m in [0.5, 1)
  float m = BitsToFloat((bits & 0x007fffff) | 0x3f000000);
  const bool low = m < 0.707106781186547524f;
  e -= int32_t(low);
  m = Select(low, m + m, m) - 1.0f;
  const float z = m * m;
  float y = 7.0376836292e-2f;
  y = y * m + -1.1514610310e-1f;
  y = y * m + 1.1676998740e-1f;
  y = y * m + -1.2420140846e-1f;
  y = y * m + 1.4249322787e-1f;
  y = y * m + -1.6668057665e-1f;
  y = y * m + 2.0000714765e-1f;
  y = y * m + -2.4999993993e-1f;
  y = y * m + 3.3333331174e-1f;
  const float fe = float(e);
  y = y * m * z + fe * -2.12194440e-4f - 0.5f * z;
  return m + y + fe * 0.693359375f;
}

// tanh(x): the rational approximation (13/6) of Eigen and MLAS; relative error below 4e-7
// (at most 7 ulp, measured over every float); |x| < 4e-4 returns x.
SHRINK_INLINE float FastTanh(float x) {
  constexpr float kClamp = 7.90531110763549805f;
  float c = Select(x > kClamp, kClamp, x);
  c = Select(c < -kClamp, -kClamp, c);
  const float x2 = c * c;
  float p = -2.76076847742355e-16f;
  p = p * x2 + 2.00018790482477e-13f;
  p = p * x2 + -8.60467152213735e-11f;
  p = p * x2 + 5.12229709037114e-08f;
  p = p * x2 + 1.48572235717979e-05f;
  p = p * x2 + 6.37261928875436e-04f;
  p = p * x2 + 4.89352455891786e-03f;
  p = p * c;
  float q = 1.19825839466702e-06f;
  q = q * x2 + 1.18534705686654e-04f;
  q = q * x2 + 2.26843463243900e-03f;
  q = q * x2 + 4.89352518554385e-03f;
  return Select((x < 4e-4f) & (x > -4e-4f), x, p / q);
}

// erf(x): Eigen's rational approximation (odd 13 / even 8) on [-4, 4], outside of which erf
// is +-1 in float; within 8 ulp (relative error below 6e-7), measured over every float.
SHRINK_INLINE float FastErf(float x) {
  float c = Select(x > 4.0f, 4.0f, x);
  c = Select(c < -4.0f, -4.0f, c);
  const float x2 = c * c;
  float p = -2.72614225801306e-10f;
  p = p * x2 + 2.77068142495902e-08f;
  p = p * x2 + -2.10102402082508e-06f;
  p = p * x2 + -5.69250639462346e-05f;
  p = p * x2 + -7.34990630326855e-04f;
  p = p * x2 + -2.95459980854025e-03f;
  p = p * x2 + -1.60960333262415e-02f;
  float q = -1.45660718464996e-05f;
  q = q * x2 + -2.13374055278905e-04f;
  q = q * x2 + -1.68282697438203e-03f;
  q = q * x2 + -7.37332916720468e-03f;
  q = q * x2 + -1.42647390514189e-02f;
  return c * (p / q);  // c * ratio, not (c * p) / q: keeps subnormal inputs accurate
}

// 1 / (1 + exp(-x)), within 2 ulp (measured over every float in [-30, 30]).
SHRINK_INLINE float FastSigmoid(float x) { return 1.0f / (1.0f + FastExp(-x)); }

// log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)), with log1p(e) = log(u) * e / (u - 1) for
// u = 1 + e (exact compensation of the rounding of u). Relative error a few ulp.
SHRINK_INLINE float FastSoftplus(float x) {
  const float e = FastExp(-std::fabs(x));
  const float u = 1.0f + e;
  const float log1p = Select(u == 1.0f, e, FastLogNormal(u) * (e / (u - 1.0f)));
  return Select(x > 0.0f, x, 0.0f) + log1p;
}

}  // namespace shrink::engine::elementwise
