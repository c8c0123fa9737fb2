// Shared pieces of the quantized kernels (quantized*.cc): the rounding and saturation rule,
// reading scales and zero points, and the exact integer GEMM they all run on.
//
// Arithmetic contract, shared with ONNX Runtime's MLAS so that results match bit for bit:
// - Quantize(x) = clamp(x / scale, qmin - zp, qmax - zp) (NaN -> qmin - zp), rounded half to
//   even, plus zp.
// - Requantize(acc) is the same with x / scale replaced by float(acc) * multiplier.
// - Integer sums are exact int32 (wrapping modulo 2^32 like ORT): either int16 products of
//   operands with the zero point subtracted, or VNNI u8 x s8 products plus exact zero-point
//   corrections, so every fast path equals its reference path bit for bit.
// Float code that decides a rounding contains no a * b + c the compiler could fuse (where ORT
// fuses, std::fma says so explicitly), so the portable, AVX2 and AVX512 builds round the same.
// A -march=native build with GCC's default -ffp-contract=fast could fuse the mul+add of a few
// epilogues (QLinearMul, MatMulIntegerToFloat) and move ties; -ffp-contract=off prevents it.
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

// The span loops below have portable, AVX2 and AVX512 builds selected at run time
// (quantized_math.cc). Instantiated for uint8_t, int8_t, uint16_t and int16_t.

// y[i] = Quantize(x[i]) with one scale and zero point.
template <typename T>
void QuantizeSpan(const float* x, int64_t n, float scale, int32_t zp, T* y);

// y[i] = Requantize(acc[i] + bias) with one multiplier and zero point (int32 wrap-around add).
template <typename T>
void RequantizeSpan(const int32_t* acc, int64_t n, int32_t bias, float multiplier, int32_t zp,
                    T* y);

// y[i] = Requantize(acc[i]) with a multiplier per element (no bias).
template <typename T>
void RequantizeSpanPerElement(const int32_t* acc, const float* multipliers, int64_t n, int32_t zp,
                              T* y);

// y[i] = float(x[i] - zp) * scale (also instantiated for int32_t, with an int64 difference).
template <typename T>
void DequantizeSpan(const T* x, int64_t n, float scale, int32_t zp, float* y);

// Calls fn(T{}) for the 8-bit quantized types; other dtypes are an error naming `what`.
template <typename Fn>
Status Dispatch8Bit(const Node& node, DataType type, const char* what, Fn&& fn) {
  switch (type) {
    case DataType::kUint8:
      return fn(uint8_t{});
    case DataType::kInt8:
      return fn(int8_t{});
    default:
      return Unimplemented(node.Describe() + ": " + what + " dtype " + DataTypeName(type) +
                           " is not supported (expected uint8 or int8)");
  }
}

// Same for the 8- and 16-bit quantized types.
template <typename Fn>
Status DispatchQuantType(const Node& node, DataType type, const char* what, Fn&& fn) {
  switch (type) {
    case DataType::kUint8:
      return fn(uint8_t{});
    case DataType::kInt8:
      return fn(int8_t{});
    case DataType::kUint16:
      return fn(uint16_t{});
    case DataType::kInt16:
      return fn(int16_t{});
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

// Element i of an 8-bit code tensor (uint8 or int8) as int32.
inline int32_t CodeAt(DataType type, const void* data, int64_t i) {
  return type == DataType::kUint8 ? int32_t(static_cast<const uint8_t*>(data)[i])
                                  : int32_t(static_cast<const int8_t*>(data)[i]);
}

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

// --- Instruction set selection ---------------------------------------------------------------

// Which integer GEMM the fast paths use: the portable int16 loop, its AVX2 build, or the
// AVX512-VNNI u8 x s8 kernel. All give identical results; kAuto picks the best supported.
enum class GemmIsa { kAuto, kPortable, kAvx2, kVnni };
bool IsaSupported(GemmIsa isa);
GemmIsa ActiveGemmIsa();
// Tests force each supported path in turn (kAuto restores detection). Not thread-safe.
void SetGemmIsaForTesting(GemmIsa isa);

// --- AVX512-VNNI u8 x s8 GEMM (quantized_vnni.cc) ------------------------------------------

// c[j * ldc + (i - i0)] = sum_k (zu[k][i] - z0[i]) * (rs[j][k] - r0[j]) for rows j < rows and
// columns i in [i0, i0 + count), computed as the vpdpbusd sum of zu * rs minus r0[j] * tz[i]
// minus z0[i] * sr[j] (modulo 2^32, like every int32 sum here). zu (u8) and rs (s8) are the
// codes with the sign bit flipped where needed (ZOffset, ROffset).
struct VnniGemm {
  const uint8_t* z = nullptr;  // [kp / 4][nz][4]: bytes k..k+3 of column i at (k / 4 * nz + i) * 4
  int64_t nz = 0;              // columns in the panel: a multiple of 32, padding readable
  const int8_t* r = nullptr;   // rows of kp bytes, row stride ldr
  int64_t ldr = 0;
  int64_t kp = 0;               // a multiple of 4; bytes past the true k are 0 in z and r
  const int32_t* tz = nullptr;  // [nz]: sum_k zu[k][i] - k * z0[i]  (true k)
  const int32_t* z0 = nullptr;  // [nz]
  const int32_t* r0 = nullptr;  // [rows]
  const int32_t* sr = nullptr;  // [rows]: sum_k rs[j][k]
};
bool HasVnni();
void RunVnniGemm(const VnniGemm& g, int64_t rows, int64_t i0, int64_t count, int32_t* c,
                 int64_t ldc);
// sums[i] = bias + sum over the panel's kp bytes of column i (nz a multiple of 16).
void VnniColumnSums(const uint8_t* z, int64_t nz, int64_t kp, int32_t bias, int32_t* sums);
// out[i] = s[0][i] | s[1][i] << 8 | s[2][i] << 16 | s[3][i] << 24 for i < count (AVX512BW).
void InterleaveBytes4(const uint8_t* const* s, int64_t count, uint32_t* out);
// zu = code + ZOffset(type) for the u8 operand (128 for int8 codes); rs = code - ROffset(type)
// for the s8 operand (128 for uint8 codes). Both amount to flipping the sign bit.
inline int32_t ZOffset(DataType type) { return type == DataType::kInt8 ? 128 : 0; }
inline int32_t ROffset(DataType type) { return type == DataType::kUint8 ? 128 : 0; }
inline int64_t PadTo(int64_t v, int64_t multiple) {
  return (v + multiple - 1) / multiple * multiple;
}

// --- Registration of the kernel groups (one file each) --------------------------------------

void RegisterQuantizeKernels(KernelRegistry* registry);            // quantized.cc
void RegisterQuantizedMatMulKernels(KernelRegistry* registry);     // quantized_matmul.cc
void RegisterQuantizedConvKernels(KernelRegistry* registry);       // quantized_conv.cc
void RegisterQLinearElementwiseKernels(KernelRegistry* registry);  // quantized_elementwise.cc
void RegisterQLinearPoolKernels(KernelRegistry* registry);         // quantized_pool.cc

}  // namespace shrink::engine::quant
