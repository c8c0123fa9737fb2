// com.microsoft QLinearAdd, QLinearMul, QLinearSigmoid, QLinearLeakyRelu and QLinearConcat.
//
// The float formulas follow ORT's x86 kernels operation for operation so that ties round the
// same way (checked against ORT 1.29 on random and tie-heavy inputs):
// - QLinearAdd (8-bit): zc - (ra*za + rb*zb) + a*ra + b*rb with the fused multiply-adds of
//   ORT's AVX2 kernel; std::fma is exactly rounded, so this is deterministic on any machine.
// - QLinearMul: float((a - za) * (b - zb)) * (sa*sb/sc) + zc. Both ops, unlike QuantizeLinear,
//   add the output zero point before rounding.
// - Lookup-table ops dequantize each of the 256 codes, apply the function in float and quantize
//   back. QLinearSigmoid evaluates the logistic in double (ORT uses MLAS's approximation; the two
//   can differ only when a value lands within an ulp of a rounding boundary).
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "engine/kernels/kernel_util.h"
#include "engine/kernels/quantized_internal.h"

namespace shrink::engine::quant {
namespace {

// Output shape and per-span iteration of a two-input broadcast: fn(a_offset, a_step, b_offset,
// b_step, out_offset, count) with steps 0 (input constant over the span) or 1.
template <typename Fn>
void ForEachBroadcastSpan(const Shape& a, const Shape& b, const Shape& out, Fn&& fn) {
  const std::vector<int64_t> sa = BroadcastStrides(a, out), sb = BroadcastStrides(b, out);
  const int rank = int(out.size());
  // Grow the span from the right while each input stays contiguous (or constant) over it.
  int64_t span = 1;
  int first = rank;
  int a_mode = -1, b_mode = -1;  // -1 undecided, 0 constant, 1 contiguous
  for (int d = rank - 1; d >= 0; --d) {
    const size_t i = size_t(d);
    if (out[i] == 1) {
      first = d;
      continue;
    }
    int am = sa[i] == 0 ? 0 : (sa[i] == span ? 1 : 2);
    int bm = sb[i] == 0 ? 0 : (sb[i] == span ? 1 : 2);
    if (am == 2 || bm == 2 || (a_mode >= 0 && am != a_mode) || (b_mode >= 0 && bm != b_mode)) {
      break;
    }
    a_mode = am;
    b_mode = bm;
    span *= out[i];
    first = d;
  }
  const int64_t a_step = a_mode == 0 ? 0 : 1, b_step = b_mode == 0 ? 0 : 1;
  int64_t outer = 1;
  for (int d = 0; d < first; ++d) outer *= out[size_t(d)];
  std::vector<int64_t> index(size_t(first), 0);
  for (int64_t o = 0; o < outer; ++o) {
    int64_t ao = 0, bo = 0;
    for (int d = 0; d < first; ++d) {
      ao += index[size_t(d)] * sa[size_t(d)];
      bo += index[size_t(d)] * sb[size_t(d)];
    }
    fn(ao, a_step, bo, b_step, o * span, span);
    for (int d = first - 1; d >= 0; --d) {
      if (++index[size_t(d)] < out[size_t(d)]) break;
      index[size_t(d)] = 0;
    }
  }
}

struct BinaryParams {
  float a_scale, b_scale, c_scale;
  int32_t a_zp, b_zp, c_zp;
};

// ORT's AVX2 QLinearAdd for 8-bit types. `x` is the non-scalar operand ("A" in ORT's kernel,
// which swaps the inputs when the first one is the scalar), `y` the other one; `fixed` is
// zc - (rx*zx + ry*zy), plus y*ry when y is a scalar (y_step 0), computed by the caller.
// [lo, hi] is the code range, passed in (not folded to constants) because gcc 12 stops
// vectorizing the clamp when its bounds are compile-time constants; hence also noipa.
template <typename T>
__attribute__((always_inline)) inline void AddSpan8Body(const T* __restrict x, float rx,
                                                        const T* __restrict y, int64_t y_step,
                                                        float ry, float fixed, float lo, float hi,
                                                        T* __restrict out, int64_t n) {
  if (y_step == 0) {
    for (int64_t i = 0; i < n; ++i) {
      out[i] = T(ClampRound(std::fma(float(int32_t(x[i])), rx, fixed), lo, hi, 0));
    }
  } else {
    for (int64_t i = 0; i < n; ++i) {
      float v = std::fma(float(int32_t(y[i])), ry, fixed);
      out[i] = T(ClampRound(std::fma(float(int32_t(x[i])), rx, v), lo, hi, 0));
    }
  }
}

template <typename T>
__attribute__((noipa)) void AddSpan8Portable(const T* x, float rx, const T* y, int64_t y_step,
                                             float ry, float fixed, float lo, float hi, T* out,
                                             int64_t n) {
  AddSpan8Body<T>(x, rx, y, y_step, ry, fixed, lo, hi, out, n);
}

// Same results (fma is exactly rounded); the hardware instruction is just faster.
template <typename T>
__attribute__((target("avx2,fma"), noipa)) void AddSpan8Fma(const T* x, float rx, const T* y,
                                                            int64_t y_step, float ry, float fixed,
                                                            float lo, float hi, T* out, int64_t n) {
  AddSpan8Body<T>(x, rx, y, y_step, ry, fixed, lo, hi, out, n);
}

template <typename T>
__attribute__((target("avx512f,avx512bw,prefer-vector-width=512"), noipa)) void AddSpan8Avx512(
    const T* x, float rx, const T* y, int64_t y_step, float ry, float fixed, float lo, float hi,
    T* out, int64_t n) {
  AddSpan8Body<T>(x, rx, y, y_step, ry, fixed, lo, hi, out, n);
}

// The constant part uses fused multiply-adds too: that is what ORT's AVX2 kernel computes once
// gcc contracts its scalar and intrinsic mul/add pairs (checked against ORT 1.29 on random
// and tie-heavy inputs).
template <typename T>
void AddSpan8(const T* x, float rx, int32_t zx, const T* y, int64_t y_step, float ry, int32_t zy,
              int32_t zc, T* out, int64_t n) {
  static const bool has_fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const GemmIsa isa = ActiveGemmIsa();
  const bool fma = has_fma && isa != GemmIsa::kPortable;
  float fixed = float(zc) - std::fma(rx, float(zx), ry * float(zy));
  if (y_step == 0) fixed = std::fma(float(int32_t(y[0])), ry, fixed);
  auto* run = isa == GemmIsa::kVnni ? AddSpan8Avx512<T>
              : fma                 ? AddSpan8Fma<T>
                                    : AddSpan8Portable<T>;
  run(x, rx, y, y_step, ry, fixed, float(kQMin<T>), float(kQMax<T>), out, n);
}

// ORT's portable formula (used by ORT for 16-bit types).
template <typename T, bool kMul>
void BinarySpanRaw(const T* a, int64_t a_step, const T* b, int64_t b_step, const BinaryParams& p,
                   T* out, int64_t n) {
  const float lo = float(kQMin<T> - p.c_zp), hi = float(kQMax<T> - p.c_zp);
  for (int64_t i = 0; i < n; ++i) {
    float va = p.a_scale * float(int32_t(a[i * a_step]) - p.a_zp);
    float vb = p.b_scale * float(int32_t(b[i * b_step]) - p.b_zp);
    float v = (kMul ? va * vb : va + vb) / p.c_scale;
    v = lo < v ? v : lo;
    v = v < hi ? v : hi;
    out[i] = T(int32_t(RoundHalfEven(v + float(p.c_zp))));
  }
}

// ORT's SSE2 QLinearMul: float((a - za) * (b - zb)) * ((sa * sb) / sc) + zc, then rounded.
// Bounds passed in for the same gcc reason as AddSpan8Body.
template <typename T>
__attribute__((noipa)) void MulSpan8Range(const T* __restrict a, int64_t a_step,
                                          const T* __restrict b, int64_t b_step,
                                          const BinaryParams& p, float lo, float hi,
                                          T* __restrict out, int64_t n) {
  const float ratio = p.a_scale * p.b_scale / p.c_scale;
  const float zc = float(p.c_zp);
  for (int64_t i = 0; i < n; ++i) {
    int32_t product = (int32_t(a[i * a_step]) - p.a_zp) * (int32_t(b[i * b_step]) - p.b_zp);
    out[i] = T(ClampRound(float(product) * ratio + zc, lo, hi, 0));
  }
}

template <typename T>
void MulSpan8(const T* a, int64_t a_step, const T* b, int64_t b_step, const BinaryParams& p, T* out,
              int64_t n) {
  MulSpan8Range<T>(a, a_step, b, b_step, p, float(kQMin<T>), float(kQMax<T>), out, n);
}

template <bool kMul>
Status QLinearBinary(KernelContext& context) {
  const Node& node = context.node;
  RETURN_IF_ERROR(ExpectInputs(context, 1, 8));
  for (int required : {0, 1, 3, 4, 6}) {
    if (!context.has_input(required)) {
      return KernelError(node, "required input " + std::to_string(required) + " is missing");
    }
  }
  const Tensor& a = context.input(0);
  const Tensor& b = context.input(3);
  if (a.dtype() != b.dtype()) {
    return KernelError(node, std::string("input A has dtype ") + DataTypeName(a.dtype()) +
                                 " but input B has dtype " + DataTypeName(b.dtype()));
  }
  auto shape = BroadcastShapes({a.shape(), b.shape()});
  if (!shape.ok()) return KernelError(node, shape.status().message());
  BinaryParams p;
  ASSIGN_OR_RETURN(p.a_scale, ReadScalarScale(node, context.input(1), "A_scale"));
  ASSIGN_OR_RETURN(p.b_scale, ReadScalarScale(node, context.input(4), "B_scale"));
  ASSIGN_OR_RETURN(p.c_scale, ReadScalarScale(node, context.input(6), "C_scale"));
  const DataType type = a.dtype();
  ASSIGN_OR_RETURN(p.a_zp, ReadScalarZeroPoint(node, OptionalInput(context, 2), type,
                                               "A_zero_point", "input A"));
  ASSIGN_OR_RETURN(p.b_zp, ReadScalarZeroPoint(node, OptionalInput(context, 5), type,
                                               "B_zero_point", "input B"));
  ASSIGN_OR_RETURN(p.c_zp, ReadScalarZeroPoint(node, OptionalInput(context, 7), type,
                                               "C_zero_point", "input A"));
  return DispatchQuantType(node, type, "input A", [&](auto tag) -> Status {
    using T = decltype(tag);
    ASSIGN_OR_RETURN(Tensor c, Tensor::Allocate(type, *shape));
    const T* av = a.data<T>();
    const T* bv = b.data<T>();
    T* out = c.data<T>();
    auto RunSpan = [&](int64_t ao, int64_t as, int64_t bo, int64_t bs, int64_t oo, int64_t n) {
      if constexpr (sizeof(T) != 1) {
        BinarySpanRaw<T, kMul>(av + ao, as, bv + bo, bs, p, out + oo, n);
      } else if (kMul) {
        MulSpan8<T>(av + ao, as, bv + bo, bs, p, out + oo, n);
      } else if (as == 0) {  // ORT swaps the operands when A is the scalar one
        AddSpan8<T>(bv + bo, p.b_scale / p.c_scale, p.b_zp, av + ao, 0, p.a_scale / p.c_scale,
                    p.a_zp, p.c_zp, out + oo, n);
      } else {
        AddSpan8<T>(av + ao, p.a_scale / p.c_scale, p.a_zp, bv + bo, bs, p.b_scale / p.c_scale,
                    p.b_zp, p.c_zp, out + oo, n);
      }
    };
    // Spans (split into pieces) first, then the pieces in parallel.
    struct Piece {
      int64_t ao, as, bo, bs, oo, n;
    };
    std::vector<Piece> pieces;
    constexpr int64_t kPiece = 16384;
    ForEachBroadcastSpan(
        a.shape(), b.shape(), *shape,
        [&](int64_t ao, int64_t as, int64_t bo, int64_t bs, int64_t oo, int64_t n) {
          for (int64_t i = 0; i < n; i += kPiece) {
            pieces.push_back({ao + i * as, as, bo + i * bs, bs, oo + i, std::min(kPiece, n - i)});
          }
        });
    const int64_t units = int64_t(pieces.size());
    context.pool.ParallelFor(units, c.size() < 4 * kPiece ? units : 1,
                             [&](int64_t begin, int64_t end) {
                               for (int64_t i = begin; i < end; ++i) {
                                 const Piece& piece = pieces[size_t(i)];
                                 RunSpan(piece.ao, piece.as, piece.bo, piece.bs, piece.oo, piece.n);
                               }
                             });
    context.output(0) = std::move(c);
    return OkStatus();
  });
}

// table[code] = Quantize(fn(x_scale * (code - x_zp))) for every 8-bit code (as a byte).
template <typename T, typename Fn>
std::vector<uint8_t> BuildTable(float x_scale, int32_t x_zp, float y_scale, int32_t y_zp, Fn&& fn) {
  std::vector<uint8_t> table(256);
  for (int i = 0; i < 256; ++i) {
    T code = T(uint8_t(i));
    float value = fn(x_scale * float(int32_t(code) - x_zp));
    T q = QuantizeValue<T>(value, y_scale, y_zp);
    table[size_t(i)] = uint8_t(q);
  }
  return table;
}

void ApplyTable(const uint8_t* table, const uint8_t* x, int64_t n, uint8_t* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = table[x[i]];
}

// QLinearSigmoid / QLinearLeakyRelu: X, X_scale, X_zero_point?, Y_scale, Y_zero_point?.
template <bool kSigmoid>
Status QLinearLookup(KernelContext& context) {
  const Node& node = context.node;
  RETURN_IF_ERROR(ExpectInputs(context, 1, 5));
  if (!context.has_input(1) || !context.has_input(3)) {
    return KernelError(node, "required inputs X_scale and Y_scale must be present");
  }
  const Tensor& x = context.input(0);
  const DataType type = x.dtype();
  const float alpha = node.GetFloat("alpha", 0.01f);
  return Dispatch8Bit(node, type, "input X", [&](auto tag) -> Status {
    using T = decltype(tag);
    ASSIGN_OR_RETURN(float x_scale, ReadScalarScale(node, context.input(1), "X_scale"));
    ASSIGN_OR_RETURN(float y_scale, ReadScalarScale(node, context.input(3), "Y_scale"));
    ASSIGN_OR_RETURN(int32_t x_zp, ReadScalarZeroPoint(node, OptionalInput(context, 2), type,
                                                       "X_zero_point", "input X"));
    ASSIGN_OR_RETURN(int32_t y_zp, ReadScalarZeroPoint(node, OptionalInput(context, 4), type,
                                                       "Y_zero_point", "input X"));
    std::vector<uint8_t> table = BuildTable<T>(x_scale, x_zp, y_scale, y_zp, [&](float v) {
      if (kSigmoid) return float(1.0 / (1.0 + std::exp(-double(v))));
      return v >= 0.0f ? v : alpha * v;
    });
    ASSIGN_OR_RETURN(Tensor y, Tensor::Allocate(type, x.shape()));
    const uint8_t* in = static_cast<const uint8_t*>(x.raw_data());
    uint8_t* out = static_cast<uint8_t*>(y.raw_data());
    context.pool.ParallelFor(x.size(), 1 << 16, [&](int64_t begin, int64_t end) {
      ApplyTable(table.data(), in + begin, end - begin, out + begin);
    });
    context.output(0) = std::move(y);
    return OkStatus();
  });
}

// QLinearConcat: Y_scale, Y_zero_point, then (X, X_scale, X_zero_point) per input.
Status QLinearConcat(KernelContext& context) {
  const Node& node = context.node;
  const int count = context.num_inputs();
  if (count < 5 || (count - 2) % 3 != 0) {
    return KernelError(node,
                       "expects Y_scale, Y_zero_point and (X, X_scale, X_zero_point) "
                       "triples, got " +
                           std::to_string(count) + " inputs");
  }
  for (int i = 0; i < count; ++i) {
    if (!context.has_input(i))
      return KernelError(node, "input " + std::to_string(i) + " is missing");
  }
  if (!node.HasAttribute("axis")) return KernelError(node, "attribute axis is required");
  const Tensor& y_zp_tensor = context.input(1);
  const DataType type = y_zp_tensor.dtype();
  ASSIGN_OR_RETURN(float y_scale, ReadScalarScale(node, context.input(0), "Y_scale"));
  const int inputs = (count - 2) / 3;
  const Tensor& first = context.input(2);
  ASSIGN_OR_RETURN(int axis, NormalizeAxis(node.GetInt("axis", 0), first.rank(), node));
  Shape out_shape = first.shape();
  out_shape[size_t(axis)] = 0;
  for (int i = 0; i < inputs; ++i) {
    const Tensor& x = context.input(2 + 3 * i);
    if (x.dtype() != type) {
      return KernelError(node, "input " + std::to_string(2 + 3 * i) + " has dtype " +
                                   DataTypeName(x.dtype()) + " but Y_zero_point has dtype " +
                                   DataTypeName(type));
    }
    bool same = x.rank() == first.rank();
    for (int d = 0; same && d < x.rank(); ++d) same = d == axis || x.dim(d) == first.dim(d);
    if (!same) {
      return KernelError(node, "input shapes " + ShapeToString(first.shape()) + " and " +
                                   ShapeToString(x.shape()) + " differ outside axis " +
                                   std::to_string(axis));
    }
    out_shape[size_t(axis)] += x.dim(axis);
  }
  return Dispatch8Bit(node, type, "Y_zero_point", [&](auto tag) -> Status {
    using T = decltype(tag);
    ASSIGN_OR_RETURN(int32_t y_zp,
                     ReadScalarZeroPoint(node, &y_zp_tensor, type, "Y_zero_point", "Y_zero_point"));
    ASSIGN_OR_RETURN(Tensor y, Tensor::Allocate(type, out_shape));
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < axis; ++d) outer *= out_shape[size_t(d)];
    for (int d = axis + 1; d < int(out_shape.size()); ++d) inner *= out_shape[size_t(d)];
    const int64_t out_row = out_shape[size_t(axis)] * inner;
    uint8_t* out = static_cast<uint8_t*>(y.raw_data());
    int64_t offset = 0;
    for (int i = 0; i < inputs; ++i) {
      const Tensor& x = context.input(2 + 3 * i);
      ASSIGN_OR_RETURN(float x_scale, ReadScalarScale(node, context.input(3 + 3 * i), "X_scale"));
      ASSIGN_OR_RETURN(int32_t x_zp, ReadScalarZeroPoint(node, &context.input(4 + 3 * i), type,
                                                         "X_zero_point", "Y_zero_point"));
      const bool copy = x_scale == y_scale && x_zp == y_zp;
      std::vector<uint8_t> table;
      if (!copy) table = BuildTable<T>(x_scale, x_zp, y_scale, y_zp, [](float v) { return v; });
      const int64_t row = x.dim(axis) * inner;
      const uint8_t* in = static_cast<const uint8_t*>(x.raw_data());
      for (int64_t o = 0; o < outer; ++o) {
        uint8_t* dst = out + o * out_row + offset;
        if (copy) {
          std::copy_n(in + o * row, row, dst);
        } else {
          ApplyTable(table.data(), in + o * row, row, dst);
        }
      }
      offset += row;
    }
    context.output(0) = std::move(y);
    return OkStatus();
  });
}

}  // namespace

void RegisterQLinearElementwiseKernels(KernelRegistry* registry) {
  registry->RegisterFunction(OpType::kMsQLinearAdd, &QLinearBinary<false>);
  registry->RegisterFunction(OpType::kMsQLinearMul, &QLinearBinary<true>);
  registry->RegisterFunction(OpType::kMsQLinearSigmoid, &QLinearLookup<true>);
  registry->RegisterFunction(OpType::kMsQLinearLeakyRelu, &QLinearLookup<false>);
  registry->RegisterFunction(OpType::kMsQLinearConcat, &QLinearConcat);
}

}  // namespace shrink::engine::quant
