// Unary elementwise kernels (math functions, activations, Clip, Shrink, IsNaN/IsInf, Not) and
// Cast/CastLike. Float16/bfloat16 inputs are computed in float32 and rounded back once.
#include <cerrno>
#include <charconv>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>

#include "engine/kernels/elementwise_internal.h"

namespace shrink::engine::elementwise {
namespace {

// ---- Unary loops --------------------------------------------------------------------------

template <typename T, typename Out, typename Op>
SHRINK_INLINE void UnaryRunImpl(const T* x, Out* y, int64_t n, const Op& op_ref) {
  const Op op = op_ref;  // a local copy: stores to y cannot alias its parameters
  for (int64_t i = 0; i < n; ++i) y[i] = op(x[i]);
}
template <typename T, typename Out, typename Op>
void UnaryRun(const T* x, Out* y, int64_t n, const Op& op) {
  UnaryRunImpl(x, y, n, op);
}
template <typename T, typename Out, typename Op>
SHRINK_AVX2 void UnaryRunAvx2(const T* x, Out* y, int64_t n, const Op& op) {
  UnaryRunImpl(x, y, n, op);
}

template <typename T, typename Out, typename Op>
void UnaryLoop(const ThreadPool& pool, const T* x, Out* y, int64_t n, const Op& op,
               int64_t chunk) {
  constexpr bool kFloatLoop = std::is_same_v<T, float>;
  const bool avx2 = kFloatLoop && UseAvx2();
  pool.ParallelFor(n, chunk, [&](int64_t begin, int64_t end) {
    if constexpr (kFloatLoop) {
      if (avx2) return UnaryRunAvx2(x + begin, y + begin, end - begin, op);
    }
    UnaryRun(x + begin, y + begin, end - begin, op);
  });
}

// Which element types a unary op accepts (after float16/bfloat16 are widened to float).
enum class Accept { kFloat, kSigned, kArith, kBool };
template <Accept kAccept, typename T>
constexpr bool Accepts() {
  switch (kAccept) {
    case Accept::kFloat: return kIsFloat<T>;
    case Accept::kSigned: return kIsFloat<T> || (kIsInt<T> && std::is_signed_v<T>);
    case Accept::kArith: return kIsArith<T>;
    case Accept::kBool: return std::is_same_v<T, bool>;
  }
  return false;
}

// Wraps a generic lambda so that invocability reflects the accepted types.
template <Accept kAccept, typename Fn>
struct UnaryOp {
  Fn fn;
  template <typename T, std::enable_if_t<Accepts<kAccept, T>(), int> = 0>
  auto operator()(T x) const {
    return fn(x);
  }
};

// y = op(x) with the output dtype given by op's result (T, or bool for predicates).
template <typename Op>
Status RunUnary(KernelContext& context, const Op& op, int64_t chunk) {
  RETURN_IF_ERROR(ExpectInputs(context, 1, 1));
  const DataType type = context.input(0).dtype();
  const Tensor x = WidenHalf(context.input(0));
  Tensor out;
  RETURN_IF_ERROR(DispatchNumeric(x.dtype(), [&](auto tag) -> Status {
    using T = decltype(tag);
    if constexpr (!std::is_invocable_v<const Op&, T>) {
      return UnsupportedType(context.node, type);
    } else {
      using Out = std::invoke_result_t<const Op&, T>;
      ASSIGN_OR_RETURN(out, Tensor::AllocateUninitialized(DataTypeOf<Out>::value, x.shape()));
      UnaryLoop(context.pool, x.data<T>(), out.data<Out>(), x.size(), op, chunk);
      return OkStatus();
    }
  }));
  bool narrow = IsHalf(type) && out.dtype() == DataType::kFloat32;
  context.output(0) = narrow ? FloatToHalfTensor(out, type) : out;
  return OkStatus();
}

template <Accept kAccept, typename Fn>
Status Unary(KernelContext& context, Fn fn, int64_t chunk = kCheapChunk) {
  return RunUnary(context, UnaryOp<kAccept, Fn>{fn}, chunk);
}

// ---- Math ---------------------------------------------------------------------------------

// Fast float versions where they exist; double always uses std::.
inline float Exp(float x) { return FastExp(x); }
inline double Exp(double x) { return std::exp(x); }
inline float Tanh(float x) { return FastTanh(x); }
inline double Tanh(double x) { return std::tanh(x); }
template <typename T>
T SigmoidReference(T x) {
  if (x >= 0) return T(1) / (T(1) + std::exp(-x));
  T e = std::exp(x);
  return e / (T(1) + e);
}
inline float Erf(float x) { return FastErf(x); }
inline double Erf(double x) { return std::erf(x); }
inline float Sigmoid(float x) { return FastSigmoid(x); }
inline double Sigmoid(double x) { return SigmoidReference(x); }
template <typename T>
T SoftplusReference(T x) {
  return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}
inline float Softplus(float x) { return FastSoftplus(x); }
inline double Softplus(double x) { return SoftplusReference(x); }

#define SHRINK_FLOAT_FN(Name, expr)                                               \
  Status Name##Kernel(KernelContext& context, bool) {                             \
    return Unary<Accept::kFloat>(context, [](auto x) { return decltype(x)(expr); }, \
                                 kCostlyChunk);                                   \
  }
SHRINK_FLOAT_FN(Sqrt, std::sqrt(x))
SHRINK_FLOAT_FN(Log, std::log(x))
SHRINK_FLOAT_FN(Sin, std::sin(x))
SHRINK_FLOAT_FN(Cos, std::cos(x))
SHRINK_FLOAT_FN(Tan, std::tan(x))
SHRINK_FLOAT_FN(Asin, std::asin(x))
SHRINK_FLOAT_FN(Acos, std::acos(x))
SHRINK_FLOAT_FN(Atan, std::atan(x))
SHRINK_FLOAT_FN(Sinh, std::sinh(x))
SHRINK_FLOAT_FN(Cosh, std::cosh(x))
SHRINK_FLOAT_FN(Asinh, std::asinh(x))
SHRINK_FLOAT_FN(Acosh, std::acosh(x))
SHRINK_FLOAT_FN(Atanh, std::atanh(x))
SHRINK_FLOAT_FN(Ceil, std::ceil(x))
SHRINK_FLOAT_FN(Floor, std::floor(x))
SHRINK_FLOAT_FN(Round, std::nearbyint(x))  // default rounding mode: half to even
SHRINK_FLOAT_FN(Softsign, x / (1 + std::fabs(x)))
#undef SHRINK_FLOAT_FN

Status ReciprocalKernel(KernelContext& context, bool) {
  return Unary<Accept::kFloat>(context, [](auto x) { return decltype(x)(1) / x; });
}
Status ExpKernel(KernelContext& context, bool reference) {
  if (reference) return Unary<Accept::kFloat>(context, [](auto x) { return std::exp(x); });
  return Unary<Accept::kFloat>(context, [](auto x) { return Exp(x); });
}
Status ErfKernel(KernelContext& context, bool reference) {
  if (reference) return Unary<Accept::kFloat>(context, [](auto x) { return std::erf(x); });
  return Unary<Accept::kFloat>(context, [](auto x) { return Erf(x); });
}
Status SigmoidKernel(KernelContext& context, bool reference) {
  if (reference) {
    return Unary<Accept::kFloat>(context, [](auto x) { return SigmoidReference(x); });
  }
  return Unary<Accept::kFloat>(context, [](auto x) { return Sigmoid(x); });
}
Status TanhKernel(KernelContext& context, bool reference) {
  if (reference) return Unary<Accept::kFloat>(context, [](auto x) { return std::tanh(x); });
  return Unary<Accept::kFloat>(context, [](auto x) { return Tanh(x); });
}

Status SoftplusKernel(KernelContext& context, bool reference) {
  if (reference) {
    return Unary<Accept::kFloat>(context, [](auto x) { return SoftplusReference(x); },
                                 kCostlyChunk);
  }
  return Unary<Accept::kFloat>(context, [](auto x) { return Softplus(x); }, kCostlyChunk);
}
Status MishKernel(KernelContext& context, bool reference) {
  if (reference) {
    return Unary<Accept::kFloat>(
        context, [](auto x) { return x * std::tanh(SoftplusReference(x)); }, kCostlyChunk);
  }
  return Unary<Accept::kFloat>(context, [](auto x) { return x * Tanh(Softplus(x)); },
                               kCostlyChunk);
}

Status AbsKernel(KernelContext& context, bool) {
  return Unary<Accept::kArith>(context, [](auto x) {
    using T = decltype(x);
    if constexpr (kIsFloat<T>) {
      return std::fabs(x);
    } else if constexpr (std::is_unsigned_v<T>) {
      return x;
    } else {
      return x < 0 ? T(0 - std::make_unsigned_t<T>(x)) : x;  // wraps at the minimum
    }
  });
}
Status NegKernel(KernelContext& context, bool) {
  return Unary<Accept::kSigned>(context, [](auto x) {
    using T = decltype(x);
    if constexpr (kIsFloat<T>) {
      return T(-x);
    } else {
      return T(0 - std::make_unsigned_t<T>(x));
    }
  });
}
Status SignKernel(KernelContext& context, bool) {
  return Unary<Accept::kArith>(context, [](auto x) {
    using T = decltype(x);
    if constexpr (std::is_unsigned_v<T>) {
      return T(x > 0 ? 1 : 0);
    } else {
      return x > 0 ? T(1) : (x < 0 ? T(-1) : (x == 0 ? T(0) : x));  // NaN stays NaN
    }
  });
}
Status NotKernel(KernelContext& context, bool) {
  return Unary<Accept::kBool>(context, [](auto x) { return !x; });
}
Status IsNaNKernel(KernelContext& context, bool) {
  return Unary<Accept::kFloat>(context, [](auto x) { return x != x; });
}
Status IsInfKernel(KernelContext& context, bool) {
  const bool positive = context.node.GetInt("detect_positive", 1) != 0;
  const bool negative = context.node.GetInt("detect_negative", 1) != 0;
  return Unary<Accept::kFloat>(context, [=](auto x) {
    return std::isinf(x) && (x > 0 ? positive : negative);
  });
}

// ---- Activations ----------------------------------------------------------------------------

Status ReluKernel(KernelContext& context, bool) {
  return Unary<Accept::kSigned>(context, [](auto x) { return x < 0 ? decltype(x)(0) : x; });
}
Status LeakyReluKernel(KernelContext& context, bool) {
  const float alpha = context.node.GetFloat("alpha", 0.01f);
  return Unary<Accept::kFloat>(context, [=](auto x) {
    using T = decltype(x);
    return Select(x < 0, T(alpha) * x, x);
  });
}
Status HardSigmoidKernel(KernelContext& context, bool) {
  const float alpha = context.node.GetFloat("alpha", 0.2f);
  const float beta = context.node.GetFloat("beta", 0.5f);
  return Unary<Accept::kFloat>(context, [=](auto x) {
    using T = decltype(x);
    T y = T(alpha) * x + T(beta);
    y = y < 0 ? T(0) : y;
    return y > 1 ? T(1) : y;
  });
}
Status HardSwishKernel(KernelContext& context, bool) {
  return Unary<Accept::kFloat>(context, [](auto x) {
    using T = decltype(x);
    T y = x * T(1.0f / 6) + T(0.5f);
    y = Select(y < 0, T(0), y);
    return x * Select(y > 1, T(1), y);
  });
}
Status EluKernel(KernelContext& context, bool) {
  const float alpha = context.node.GetFloat("alpha", 1.0f);
  return Unary<Accept::kFloat>(
      context,
      [=](auto x) {
        using T = decltype(x);
        return x < 0 ? T(alpha) * std::expm1(x) : x;
      },
      kCostlyChunk);
}
Status SeluKernel(KernelContext& context, bool) {
  const float alpha = context.node.GetFloat("alpha", 1.67326319217681884765625f);
  const float gamma = context.node.GetFloat("gamma", 1.05070102214813232421875f);
  return Unary<Accept::kFloat>(
      context,
      [=](auto x) {
        using T = decltype(x);
        return x > 0 ? T(gamma) * x : T(gamma) * (T(alpha) * std::exp(x) - T(alpha));
      },
      kCostlyChunk);
}
Status CeluKernel(KernelContext& context, bool) {
  const float alpha = context.node.GetFloat("alpha", 1.0f);
  return Unary<Accept::kFloat>(
      context,
      [=](auto x) {
        using T = decltype(x);
        return x > 0 ? x : T(alpha) * std::expm1(x / T(alpha));
      },
      kCostlyChunk);
}
Status ThresholdedReluKernel(KernelContext& context, bool) {
  const float alpha = context.node.GetFloat("alpha", 1.0f);
  return Unary<Accept::kFloat>(context, [=](auto x) {
    using T = decltype(x);
    return x > T(alpha) ? x : T(0);
  });
}
Status ShrinkKernel(KernelContext& context, bool) {
  const float bias = context.node.GetFloat("bias", 0.0f);
  const float lambd = context.node.GetFloat("lambd", 0.5f);
  return Unary<Accept::kArith>(context, [=](auto x) {
    using T = decltype(x);
    using W = std::conditional_t<std::is_same_v<T, double>, double, float>;
    W v = W(x);
    W y = v < -W(lambd) ? v + W(bias) : (v > W(lambd) ? v - W(bias) : W(0));
    if constexpr (kIsFloat<T>) {
      return T(y);
    } else {
      return FloatToInt<T>(y);
    }
  });
}

// Clip-6: min/max attributes. Clip-11+: optional scalar min/max inputs of the input dtype.
Status ClipKernel(KernelContext& context, bool) {
  const bool from_inputs = context.opset >= 11;
  RETURN_IF_ERROR(ExpectInputs(context, 1, from_inputs ? 3 : 1));
  const DataType type = context.input(0).dtype();
  const Tensor x = WidenHalf(context.input(0));
  Tensor bounds[2];
  for (int i = 1; from_inputs && i <= 2; ++i) {
    if (!context.has_input(i)) continue;
    const Tensor& bound = context.input(i);
    if (bound.dtype() != type || bound.size() != 1) {
      return KernelError(context.node, std::string(i == 1 ? "min" : "max") +
                                           " must be a scalar of the input dtype, got " +
                                           DataTypeName(bound.dtype()) + " " +
                                           ShapeToString(bound.shape()));
    }
    bounds[i - 1] = WidenHalf(bound);
  }
  Tensor out;
  RETURN_IF_ERROR(DispatchArith(x.dtype(), [&](auto tag) -> Status {
    using T = decltype(tag);
    T lo = std::numeric_limits<T>::lowest();
    T hi = std::numeric_limits<T>::max();
    if (!from_inputs) {
      lo = T(context.node.GetFloat("min", std::numeric_limits<float>::lowest()));
      hi = T(context.node.GetFloat("max", std::numeric_limits<float>::max()));
    }
    if (bounds[0].defined()) lo = bounds[0].data<T>()[0];
    if (bounds[1].defined()) hi = bounds[1].data<T>()[0];
    ASSIGN_OR_RETURN(out, Tensor::AllocateUninitialized(x.dtype(), x.shape()));
    UnaryLoop(context.pool, x.data<T>(), out.data<T>(), x.size(),
              [lo, hi](T v) {
                T y = v < lo ? lo : v;
                return y > hi ? hi : y;  // min > max gives max, as the spec asks
              },
              kCheapChunk);
    return OkStatus();
  }));
  context.output(0) = IsHalf(type) ? FloatToHalfTensor(out, type) : out;
  return OkStatus();
}

// ---- Cast ---------------------------------------------------------------------------------

// Rounds to float with round-to-odd, so that rounding on to float16/bfloat16 is correct.
float DoubleToFloatOdd(double value) {
  float f = float(value);
  if (std::isfinite(f) && double(f) != value) {
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    if (std::fabs(double(f)) > std::fabs(value)) --bits;  // rounded away from zero: truncate
    bits |= 1;
    std::memcpy(&f, &bits, 4);
  }
  return f;
}

template <typename T>
auto WidenValue(T value) {
  if constexpr (std::is_same_v<T, Float16>) {
    return HalfToFloat(value.bits);
  } else if constexpr (std::is_same_v<T, BFloat16>) {
    return BFloat16ToFloat(value.bits);
  } else {
    return value;
  }
}

template <typename Dst, typename Src>
Dst ConvertValue(Src value) {
  constexpr bool kHalfDst = std::is_same_v<Dst, Float16> || std::is_same_v<Dst, BFloat16>;
  if constexpr (std::is_same_v<Src, Float16> || std::is_same_v<Src, BFloat16>) {
    return ConvertValue<Dst>(WidenValue(value));
  } else if constexpr (kHalfDst) {
    float f = std::is_same_v<Src, double> ? DoubleToFloatOdd(double(value)) : float(value);
    return Dst{std::is_same_v<Dst, Float16> ? FloatToHalf(f) : FloatToBFloat16(f)};
  } else if constexpr (std::is_same_v<Dst, bool>) {
    return value != 0;
  } else if constexpr (kIsInt<Dst> && kIsFloat<Src>) {
    return FloatToInt<Dst>(value);
  } else {
    return Dst(value);
  }
}

// Formats shortest round-trip scientific digits ("-1.25e-05") the way numpy's str() does:
// positional for 1e-4 <= |x| < 1e16 ("0.0001", "123.0"), else scientific ("1e-05").
std::string NumpyStyle(const std::string& scientific, double value) {
  const bool negative = scientific[0] == '-';
  const size_t e = scientific.find('e');
  std::string digits;
  for (size_t i = negative; i < e; ++i) {
    if (scientific[i] != '.') digits += scientific[i];
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  const int exponent = std::atoi(scientific.c_str() + e + 1);
  std::string out = negative ? "-" : "";
  const double magnitude = std::fabs(value);
  if (magnitude == 0 || (magnitude >= 1e-4 && magnitude < 1e16)) {
    if (exponent < 0) return out + "0." + std::string(size_t(-exponent - 1), '0') + digits;
    const size_t int_digits = size_t(exponent) + 1;
    if (digits.size() <= int_digits) {
      return out + digits + std::string(int_digits - digits.size(), '0') + ".0";
    }
    return out + digits.substr(0, int_digits) + "." + digits.substr(int_digits);
  }
  out += digits.substr(0, 1);
  if (digits.size() > 1) out += "." + digits.substr(1);
  char suffix[16];
  std::snprintf(suffix, sizeof(suffix), "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
  return out + suffix;
}

template <typename T>
std::string ValueToString(T value) {
  if constexpr (std::is_same_v<T, bool>) {
    return value ? "True" : "False";
  } else if constexpr (kIsInt<T>) {
    return std::to_string(value);
  } else {
    const auto wide = WidenValue(value);
    if (std::isnan(wide)) return "nan";
    if (std::isinf(wide)) return wide > 0 ? "inf" : "-inf";
    char buffer[64];
    if constexpr (kIsFloat<T>) {
      auto result = std::to_chars(buffer, buffer + sizeof(buffer), value,
                                  std::chars_format::scientific);
      return NumpyStyle(std::string(buffer, result.ptr), double(value));
    } else {
      // Shortest digits that round back to the same 16-bit value.
      for (int precision = 0;; ++precision) {
        std::snprintf(buffer, sizeof(buffer), "%.*e", precision, double(wide));
        float back = std::strtof(buffer, nullptr);
        if (ConvertValue<T>(back).bits == value.bits || precision >= 9) break;
      }
      return NumpyStyle(buffer, double(wide));
    }
  }
}

template <typename T>
bool ParseValue(const std::string& text, T* out) {
  size_t begin = text.find_first_not_of(" \t\n");
  size_t end = text.find_last_not_of(" \t\n");
  if (begin == std::string::npos) return false;
  const std::string trimmed = text.substr(begin, end - begin + 1);
  const char* start = trimmed.c_str();
  char* stop = nullptr;
  if constexpr (std::is_same_v<T, bool>) {
    std::string lower;
    for (char c : trimmed) lower += char(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "true" || lower == "false") {
      *out = lower == "true";
      return true;
    }
  } else if constexpr (kIsInt<T>) {
    errno = 0;
    if constexpr (std::is_signed_v<T>) {
      long long value = std::strtoll(start, &stop, 10);
      *out = T(value);
    } else {
      unsigned long long value = std::strtoull(start, &stop, 10);
      *out = T(value);
    }
    if (errno == 0 && *stop == '\0') return true;
  } else if constexpr (std::is_same_v<T, float>) {
    *out = std::strtof(start, &stop);
    return *stop == '\0';
  } else if constexpr (!std::is_same_v<T, double>) {  // float16, bfloat16
    float value = std::strtof(start, &stop);
    *out = ConvertValue<T>(value);
    return *stop == '\0';
  }
  double value = std::strtod(start, &stop);
  *out = ConvertValue<T>(value);
  return *stop == '\0';
}

Status CastTo(KernelContext& context, const Tensor& x, DataType to) {
  const DataType from = x.dtype();
  for (DataType type : {from, to}) {
    if (!IsKnownDataType(int32_t(type)) || type == DataType::kComplex64 ||
        type == DataType::kComplex128) {
      return UnsupportedType(context.node, type, type == to ? "target" : "input");
    }
  }
  ASSIGN_OR_RETURN(Tensor out, Tensor::AllocateUninitialized(to, x.shape()));
  const int64_t n = x.size();
  if (from == to) {
    out = x.Clone();
  } else if (from == DataType::kString) {
    RETURN_IF_ERROR(DispatchNumeric(to, [&](auto tag) -> Status {
      using D = decltype(tag);
      D* dst = static_cast<D*>(out.raw_data());
      for (int64_t i = 0; i < n; ++i) {
        if (!ParseValue(x.strings()[size_t(i)], &dst[i])) {
          return KernelError(context.node, "cannot parse '" + x.strings()[size_t(i)] + "' as " +
                                               DataTypeName(to));
        }
      }
      return OkStatus();
    }));
  } else if (to == DataType::kString) {
    RETURN_IF_ERROR(DispatchNumeric(from, [&](auto tag) -> Status {
      using S = decltype(tag);
      const S* src = static_cast<const S*>(x.raw_data());
      for (int64_t i = 0; i < n; ++i) out.strings()[size_t(i)] = ValueToString(src[i]);
      return OkStatus();
    }));
  } else {
    RETURN_IF_ERROR(DispatchNumeric(from, [&](auto src_tag) -> Status {
      using S = decltype(src_tag);
      return DispatchNumeric(to, [&](auto dst_tag) -> Status {
        using D = decltype(dst_tag);
        const S* src = static_cast<const S*>(x.raw_data());
        D* dst = static_cast<D*>(out.raw_data());
        context.pool.ParallelFor(n, kCheapChunk, [&](int64_t begin, int64_t end) {
          for (int64_t i = begin; i < end; ++i) dst[i] = ConvertValue<D>(src[i]);
        });
        return OkStatus();
      });
    }));
  }
  context.output(0) = std::move(out);
  return OkStatus();
}

Status CastKernel(KernelContext& context, bool) {
  RETURN_IF_ERROR(ExpectInputs(context, 1, 1));
  const Attribute* to = context.node.FindAttribute("to");
  if (to == nullptr) return KernelError(context.node, "missing attribute 'to'");
  if (to->i < 0 || to->i > 16) {
    return KernelError(context.node, "unknown target dtype " + std::to_string(to->i));
  }
  return CastTo(context, context.input(0), DataType(to->i));
}

Status CastLikeKernel(KernelContext& context, bool) {
  RETURN_IF_ERROR(ExpectInputs(context, 2, 2));
  return CastTo(context, context.input(0), context.input(1).dtype());
}

}  // namespace

void RegisterElementwiseMathKernels(KernelRegistry* registry) {
  struct Entry {
    OpType op;
    EwFunction function;
  };
  static const Entry kEntries[] = {
      {OpType::kAbs, &AbsKernel},
      {OpType::kNeg, &NegKernel},
      {OpType::kReciprocal, &ReciprocalKernel},
      {OpType::kSqrt, &SqrtKernel},
      {OpType::kExp, &ExpKernel},
      {OpType::kLog, &LogKernel},
      {OpType::kErf, &ErfKernel},
      {OpType::kCeil, &CeilKernel},
      {OpType::kFloor, &FloorKernel},
      {OpType::kRound, &RoundKernel},
      {OpType::kSign, &SignKernel},
      {OpType::kSin, &SinKernel},
      {OpType::kCos, &CosKernel},
      {OpType::kTan, &TanKernel},
      {OpType::kAsin, &AsinKernel},
      {OpType::kAcos, &AcosKernel},
      {OpType::kAtan, &AtanKernel},
      {OpType::kSinh, &SinhKernel},
      {OpType::kCosh, &CoshKernel},
      {OpType::kAsinh, &AsinhKernel},
      {OpType::kAcosh, &AcoshKernel},
      {OpType::kAtanh, &AtanhKernel},
      {OpType::kIsNaN, &IsNaNKernel},
      {OpType::kIsInf, &IsInfKernel},
      {OpType::kNot, &NotKernel},
      {OpType::kRelu, &ReluKernel},
      {OpType::kLeakyRelu, &LeakyReluKernel},
      {OpType::kSigmoid, &SigmoidKernel},
      {OpType::kHardSigmoid, &HardSigmoidKernel},
      {OpType::kHardSwish, &HardSwishKernel},
      {OpType::kTanh, &TanhKernel},
      {OpType::kElu, &EluKernel},
      {OpType::kSelu, &SeluKernel},
      {OpType::kCelu, &CeluKernel},
      {OpType::kSoftplus, &SoftplusKernel},
      {OpType::kSoftsign, &SoftsignKernel},
      {OpType::kThresholdedRelu, &ThresholdedReluKernel},
      {OpType::kShrink, &ShrinkKernel},
      {OpType::kMish, &MishKernel},
      {OpType::kClip, &ClipKernel},
      {OpType::kCast, &CastKernel},
      {OpType::kCastLike, &CastLikeKernel},
  };
  for (const Entry& entry : kEntries) RegisterEw(registry, entry.op, entry.function);
}

}  // namespace shrink::engine::elementwise
