// The element loops shared by the quantized kernels, each built three times (portable SSE2,
// AVX2, AVX512) from one body and selected at run time. The bodies contain no a * b + c that
// could be fused, so every build produces identical results.
#include <cstdint>
#include <type_traits>

#include "engine/kernels/quantized_internal.h"

namespace shrink::engine::quant {
namespace {

// The build to run: 0 portable, 1 AVX2, 2 AVX512 (on VNNI machines).
int Level() {
  static const bool avx2 = __builtin_cpu_supports("avx2");
  const GemmIsa isa = ActiveGemmIsa();
  return isa == GemmIsa::kVnni ? 2 : (avx2 && isa != GemmIsa::kPortable) ? 1 : 0;
}

#define SHRINK_AVX512 target("avx512f,avx512bw,prefer-vector-width=512")

// lo and hi arrive as arguments: gcc 12 does not vectorize the clamp with constant bounds.
template <typename T>
__attribute__((always_inline)) inline void QuantizeBody(const float* __restrict x, int64_t n,
                                                        float scale, int32_t zp, float lo, float hi,
                                                        T* __restrict y) {
  for (int64_t i = 0; i < n; ++i) y[i] = T(ClampRound(x[i] / scale, lo, hi, zp));
}

template <typename T>
__attribute__((always_inline)) inline void RequantizeBody(const int32_t* __restrict acc, int64_t n,
                                                          int32_t bias, float multiplier,
                                                          int32_t zp, float lo, float hi,
                                                          T* __restrict y) {
  for (int64_t i = 0; i < n; ++i) {
    // Wrapping add: int32 overflow is the model's problem, not undefined behaviour here.
    const int32_t sum = int32_t(uint32_t(acc[i]) + uint32_t(bias));
    y[i] = T(ClampRound(float(sum) * multiplier, lo, hi, zp));
  }
}

template <typename T>
__attribute__((always_inline)) inline void RequantizeEachBody(const int32_t* __restrict acc,
                                                              const float* __restrict mult,
                                                              int64_t n, int32_t zp, float lo,
                                                              float hi, T* __restrict y) {
  for (int64_t i = 0; i < n; ++i) y[i] = T(ClampRound(float(acc[i]) * mult[i], lo, hi, zp));
}

template <typename T>
__attribute__((always_inline)) inline void DequantizeBody(const T* __restrict x, int64_t n,
                                                          float scale, int32_t zp,
                                                          float* __restrict y) {
  using Diff = std::conditional_t<std::is_same_v<T, int32_t>, int64_t, int32_t>;
  for (int64_t i = 0; i < n; ++i) y[i] = float(Diff(x[i]) - Diff(zp)) * scale;
}

template <typename T>
__attribute__((noipa)) void QuantizePortable(const float* x, int64_t n, float scale, int32_t zp,
                                             float lo, float hi, T* y) {
  QuantizeBody(x, n, scale, zp, lo, hi, y);
}
template <typename T>
__attribute__((target("avx2"), noipa)) void QuantizeAvx2(const float* x, int64_t n, float scale,
                                                         int32_t zp, float lo, float hi, T* y) {
  QuantizeBody(x, n, scale, zp, lo, hi, y);
}
template <typename T>
__attribute__((SHRINK_AVX512, noipa)) void QuantizeAvx512(const float* x, int64_t n, float scale,
                                                          int32_t zp, float lo, float hi, T* y) {
  QuantizeBody(x, n, scale, zp, lo, hi, y);
}
template <typename T>
__attribute__((noipa)) void RequantizePortable(const int32_t* acc, int64_t n, int32_t bias,
                                               float multiplier, int32_t zp, float lo, float hi,
                                               T* y) {
  RequantizeBody(acc, n, bias, multiplier, zp, lo, hi, y);
}
template <typename T>
__attribute__((target("avx2"), noipa)) void RequantizeAvx2(const int32_t* acc, int64_t n,
                                                           int32_t bias, float multiplier,
                                                           int32_t zp, float lo, float hi, T* y) {
  RequantizeBody(acc, n, bias, multiplier, zp, lo, hi, y);
}
template <typename T>
__attribute__((SHRINK_AVX512, noipa)) void RequantizeAvx512(const int32_t* acc, int64_t n,
                                                            int32_t bias, float multiplier,
                                                            int32_t zp, float lo, float hi, T* y) {
  RequantizeBody(acc, n, bias, multiplier, zp, lo, hi, y);
}
template <typename T>
__attribute__((noipa)) void RequantizeEachPortable(const int32_t* acc, const float* mult, int64_t n,
                                                   int32_t zp, float lo, float hi, T* y) {
  RequantizeEachBody(acc, mult, n, zp, lo, hi, y);
}
template <typename T>
__attribute__((target("avx2"), noipa)) void RequantizeEachAvx2(const int32_t* acc,
                                                               const float* mult, int64_t n,
                                                               int32_t zp, float lo, float hi,
                                                               T* y) {
  RequantizeEachBody(acc, mult, n, zp, lo, hi, y);
}
template <typename T>
__attribute__((SHRINK_AVX512, noipa)) void RequantizeEachAvx512(const int32_t* acc,
                                                                const float* mult, int64_t n,
                                                                int32_t zp, float lo, float hi,
                                                                T* y) {
  RequantizeEachBody(acc, mult, n, zp, lo, hi, y);
}
template <typename T>
void DequantizePortable(const T* x, int64_t n, float scale, int32_t zp, float* y) {
  DequantizeBody(x, n, scale, zp, y);
}
template <typename T>
__attribute__((target("avx2"))) void DequantizeAvx2(const T* x, int64_t n, float scale, int32_t zp,
                                                    float* y) {
  DequantizeBody(x, n, scale, zp, y);
}

template <typename T>
__attribute__((SHRINK_AVX512)) void DequantizeAvx512(const T* x, int64_t n, float scale, int32_t zp,
                                                     float* y) {
  DequantizeBody(x, n, scale, zp, y);
}

}  // namespace

template <typename T>
void QuantizeSpan(const float* x, int64_t n, float scale, int32_t zp, T* y) {
  const float lo = float(kQMin<T> - zp), hi = float(kQMax<T> - zp);
  const int level = Level();
  (level == 2   ? QuantizeAvx512<T>
   : level == 1 ? QuantizeAvx2<T>
                : QuantizePortable<T>)(x, n, scale, zp, lo, hi, y);
}

template <typename T>
void RequantizeSpan(const int32_t* acc, int64_t n, int32_t bias, float multiplier, int32_t zp,
                    T* y) {
  const float lo = float(kQMin<T> - zp), hi = float(kQMax<T> - zp);
  const int level = Level();
  (level == 2   ? RequantizeAvx512<T>
   : level == 1 ? RequantizeAvx2<T>
                : RequantizePortable<T>)(acc, n, bias, multiplier, zp, lo, hi, y);
}

template <typename T>
void RequantizeSpanPerElement(const int32_t* acc, const float* multipliers, int64_t n, int32_t zp,
                              T* y) {
  const float lo = float(kQMin<T> - zp), hi = float(kQMax<T> - zp);
  const int level = Level();
  (level == 2   ? RequantizeEachAvx512<T>
   : level == 1 ? RequantizeEachAvx2<T>
                : RequantizeEachPortable<T>)(acc, multipliers, n, zp, lo, hi, y);
}

template <typename T>
void DequantizeSpan(const T* x, int64_t n, float scale, int32_t zp, float* y) {
  const int level = Level();
  (level == 2   ? DequantizeAvx512<T>
   : level == 1 ? DequantizeAvx2<T>
                : DequantizePortable<T>)(x, n, scale, zp, y);
}

#define SHRINK_QUANT_SPANS(T)                                                            \
  template void QuantizeSpan<T>(const float*, int64_t, float, int32_t, T*);              \
  template void RequantizeSpan<T>(const int32_t*, int64_t, int32_t, float, int32_t, T*); \
  template void DequantizeSpan<T>(const T*, int64_t, float, int32_t, float*);            \
  template void RequantizeSpanPerElement<T>(const int32_t*, const float*, int64_t, int32_t, T*);
SHRINK_QUANT_SPANS(uint8_t)
SHRINK_QUANT_SPANS(int8_t)
SHRINK_QUANT_SPANS(uint16_t)
SHRINK_QUANT_SPANS(int16_t)
#undef SHRINK_QUANT_SPANS
template void DequantizeSpan<int32_t>(const int32_t*, int64_t, float, int32_t, float*);

}  // namespace shrink::engine::quant
