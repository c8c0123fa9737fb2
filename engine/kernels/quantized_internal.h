// Shared pieces of the quantized kernels (quantized*.cc): the rounding and saturation rule,
// reading scales and zero points, and the exact integer GEMM they all run on.
//
// Arithmetic contract, shared with ONNX Runtime's MLAS so that results match bit for bit:
// - Quantize(x) = clamp(x / scale, qmin - zp, qmax - zp) (NaN -> qmin - zp), rounded half to
//   even, plus zp.
// - Requantize(acc) is the same with x / scale replaced by float(acc) * multiplier.
// - Integer products are accumulated exactly in int32 on operands with the zero point already
//   subtracted (int16 range), so every fast path equals its reference path bit for bit.
// Float code that decides a rounding lives in portable functions only (never in the
// target("avx2") clones), so no FMA contraction can change a result between machines.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/ir/tensor.h"
#include "engine/runtime/kernel.h"

namespace shrink::engine::quant {

template <typename T>
constexpr int32_t kQMin = int32_t(std::numeric_limits<T>::min());
template <typename T>
constexpr int32_t kQMax = int32_t(std::numeric_limits<T>::max());

// Round half to even for |v| < 2^22 (callers clamp first): adding 1.5 * 2^23 leaves no
// fraction bits, so the FPU's default round-to-nearest-even does the rounding. Unlike
// nearbyintf this vectorizes on plain SSE2.
inline float RoundHalfEven(float v) {
  constexpr float kMagic = 12582912.0f;  // 1.5 * 2^23
  return (v + kMagic) - kMagic;
}

// Clamps v (already divided by the scale) to [lo, hi], rounds half to even and adds zp.
// NaN maps to lo, as MLAS's maxps does.
inline int32_t ClampRound(float v, float lo, float hi, int32_t zp) {
  v = lo < v ? v : lo;
  v = v < hi ? v : hi;
  return int32_t(RoundHalfEven(v)) + zp;
}

template <typename T>
inline T QuantizeValue(float x, float scale, int32_t zp) {
  return T(ClampRound(x / scale, float(kQMin<T> - zp), float(kQMax<T> - zp), zp));
}

// y[i] = Quantize(x[i]) with one scale and zero point.
template <typename T>
void QuantizeSpan(const float* x, int64_t n, float scale, int32_t zp, T* y) {
  const float lo = float(kQMin<T> - zp), hi = float(kQMax<T> - zp);
  for (int64_t i = 0; i < n; ++i) y[i] = T(ClampRound(x[i] / scale, lo, hi, zp));
}

// y[i] = Requantize(acc[i] + bias) with one multiplier and zero point.
template <typename T>
void RequantizeSpan(const int32_t* acc, int64_t n, int32_t bias, float multiplier, int32_t zp,
                    T* y) {
  const float lo = float(kQMin<T> - zp), hi = float(kQMax<T> - zp);
  for (int64_t i = 0; i < n; ++i) {
    // Wrapping add: int32 overflow is the model's problem, not undefined behaviour here.
    int32_t sum = int32_t(uint32_t(acc[i]) + uint32_t(bias));
    y[i] = T(ClampRound(float(sum) * multiplier, lo, hi, zp));
  }
}

// Calls fn(T{}) for the 8-bit quantized types; other dtypes are an error naming `what`.
template <typename Fn>
Status Dispatch8Bit(const Node& node, DataType type, const char* what, Fn&& fn) {
  switch (type) {
    case DataType::kUint8: return fn(uint8_t{});
    case DataType::kInt8: return fn(int8_t{});
    default:
      return Unimplemented(node.Describe() + ": " + what + " dtype " + DataTypeName(type) +
                           " is not supported (expected uint8 or int8)");
  }
}

// Same for the 8- and 16-bit quantized types.
template <typename Fn>
Status DispatchQuantType(const Node& node, DataType type, const char* what, Fn&& fn) {
  switch (type) {
    case DataType::kUint8: return fn(uint8_t{});
    case DataType::kInt8: return fn(int8_t{});
    case DataType::kUint16: return fn(uint16_t{});
    case DataType::kInt16: return fn(int16_t{});
    default:
      return Unimplemented(node.Describe() + ": " + what + " dtype " + DataTypeName(type) +
                           " is not supported (expected uint8, int8, uint16 or int16)");
  }
}

// --- Scales and zero points -------------------------------------------------------------

// The values of a float32/float16/bfloat16 tensor as floats; `what` names it in errors.
StatusOr<std::vector<float>> ReadScales(const Node& node, const Tensor& tensor, const char* what);

// Zero points as int32. `zp` may be null (absent): then `count` zeros. Otherwise its dtype
// must equal `data_type` (the error names both) and it must hold `count` values.
StatusOr<std::vector<int32_t>> ReadZeroPoints(const Node& node, const Tensor* zp,
                                              DataType data_type, const char* what,
                                              const char* data_name, int64_t count);

// A scalar (or one-element) float input, e.g. y_scale of QLinearAdd.
StatusOr<float> ReadScalarScale(const Node& node, const Tensor& tensor, const char* what);
// A scalar (or one-element) zero point of dtype data_type; 0 when absent.
StatusOr<int32_t> ReadScalarZeroPoint(const Node& node, const Tensor* zp, DataType data_type,
                                      const char* what, const char* data_name);

// Input i or null when omitted.
inline const Tensor* OptionalInput(const KernelContext& context, int i) {
  return context.has_input(i) ? &context.input(i) : nullptr;
}

// --- Exact integer GEMM ---------------------------------------------------------------------

// Panels are row-major int16 with rows padded to PadK(k) zeros, so the dot-product loop has no
// remainder and zero padding adds nothing.
constexpr int64_t kKAlign = 32;
inline int64_t PadK(int64_t k) { return (k + kKAlign - 1) / kKAlign * kKAlign; }

// c[i * c_row + j * c_col] = sum_k a[i * kp + k] * b[j * kp + k] for i < m, j < n, exactly in
// int32. Single-threaded: callers split the work. `reference` selects the plain loop.
void DotGemmS16(const int16_t* a, const int16_t* b, int64_t m, int64_t n, int64_t kp, int32_t* c,
                int64_t c_row, int64_t c_col, bool reference);

// Packs `rows` rows of 8-bit src (element (r, k) at src[r * row_stride + k * col_stride]) minus the
// zero point zp[r] (zp_stride 0 for one zero point) into dst rows of length kp.
template <typename T>
void PackMinusZeroPoint(const T* src, int64_t rows, int64_t k, int64_t row_stride,
                        int64_t col_stride, const int32_t* zp, int64_t zp_stride, int16_t* dst,
                        int64_t kp) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* s = src + r * row_stride;
    int16_t* d = dst + r * kp;
    const int32_t z = zp[r * zp_stride];
    if (col_stride == 1) {
      for (int64_t i = 0; i < k; ++i) d[i] = int16_t(int32_t(s[i]) - z);
    } else {
      for (int64_t i = 0; i < k; ++i) d[i] = int16_t(int32_t(s[i * col_stride]) - z);
    }
    for (int64_t i = k; i < kp; ++i) d[i] = 0;
  }
}

// --- Registration of the kernel groups (one file each) --------------------------------------

void RegisterQuantizeKernels(KernelRegistry* registry);            // quantized.cc
void RegisterQuantizedMatMulKernels(KernelRegistry* registry);     // quantized_matmul.cc
void RegisterQuantizedConvKernels(KernelRegistry* registry);       // quantized_conv.cc
void RegisterQLinearElementwiseKernels(KernelRegistry* registry);  // quantized_elementwise.cc
void RegisterQLinearPoolKernels(KernelRegistry* registry);         // quantized_pool.cc

}  // namespace shrink::engine::quant
