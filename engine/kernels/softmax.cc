// Softmax, LogSoftmax, Hardmax, LayerNormalization and LpNormalization: ops that normalize
// along one axis (or, for softmax before opset 13, along the input flattened to 2-D at `axis`).
// Each input is seen as [outer, n, inner] around the axis: inner == 1 is the contiguous fast
// path (softmax over the last axis); otherwise columns of `inner` values are processed side by
// side so the loops stay contiguous. float16/bfloat16 compute in float.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "engine/kernels/kernel_util.h"
#include "engine/kernels/reduction_internal.h"

namespace shrink::engine::reduction_internal {
namespace {

// ---------------------------------------------------------------------------------------------
// Float fast paths on the SIMD helpers of reduction_internal.h, compiled three times: SSE2 (the
// portable baseline), AVX2+FMA and AVX-512F, picked at run time.

template <typename S>
__attribute__((always_inline)) inline float MaxF32(const float* x, int64_t n) {
  using F = typename S::F;
  constexpr int L = S::kLanes;
  const float neg_inf = -std::numeric_limits<float>::infinity();
  F m0 = F{} + neg_inf, m1 = m0;
  int64_t i = 0;
  for (; i + 2 * L <= n; i += 2 * L) {
    F a = Load<S>(x + i), b = Load<S>(x + i + L);
    m0 = m0 < a ? a : m0;
    m1 = m1 < b ? b : m1;
  }
  float m = HorizontalMax<S>(m0 < m1 ? m1 : m0);
  for (; i < n; ++i) m = m < x[i] ? x[i] : m;
  return m;
}

// Sum of exp(x[i] - shift), also stored to y when kStore. Float lanes sum blocks of 16
// vectors (each lane 8 terms, then a 4-level tree: relative error ~12 eps); the blocks add up
// in double.
template <typename S, bool kStore>
__attribute__((always_inline)) inline double ExpShiftSum(const float* x, float shift, float* y,
                                                         int64_t n) {
  using F = typename S::F;
  constexpr int L = S::kLanes;
  double total = 0;
  int64_t i = 0;
  while (i + 2 * L <= n) {
    F s0 = {}, s1 = {};
    const int64_t block_end = std::min<int64_t>(n, i + 16 * L);
    for (; i + 2 * L <= block_end; i += 2 * L) {
      F e0 = Exp<S>(Load<S>(x + i) - shift);
      F e1 = Exp<S>(Load<S>(x + i + L) - shift);
      if constexpr (kStore) {
        Store<S>(y + i, e0);
        Store<S>(y + i + L, e1);
      }
      s0 += e0;
      s1 += e1;
    }
    total += HorizontalSum<S>(s0 + s1);
  }
  for (; i < n; i += L) {  // padding with -inf adds exp(-inf) = 0
    const int64_t m = std::min<int64_t>(L, n - i);
    F e = Exp<S>(LoadPartial<S>(x + i, m, -std::numeric_limits<float>::infinity()) - shift);
    if constexpr (kStore) std::memcpy(y + i, &e, size_t(m) * sizeof(float));
    total += HorizontalSum<S>(e);
  }
  return total;
}

// Softmax (or LogSoftmax) of `rows` contiguous rows of n floats: a pass for the max, one for
// exp and its sum, one to scale (or shift).
template <typename S, bool kLog>
__attribute__((always_inline)) inline void SoftmaxRowsF32(const float* x, float* y, int64_t rows,
                                                          int64_t n) {
  constexpr int L = S::kLanes;
  for (int64_t r = 0; r < rows; ++r, x += n, y += n) {
    const float max = MaxF32<S>(x, n);
    int64_t i = 0;
    if constexpr (!kLog) {
      const float inv = float(1.0 / ExpShiftSum<S, true>(x, max, y, n));
      for (; i + L <= n; i += L) Store<S>(y + i, Load<S>(y + i) * inv);
      for (; i < n; ++i) y[i] *= inv;
    } else {
      const float log_sum = float(std::log(ExpShiftSum<S, false>(x, max, nullptr, n)));
      for (; i + L <= n; i += L) Store<S>(y + i, (Load<S>(x + i) - max) - log_sum);
      for (; i < n; ++i) y[i] = (x[i] - max) - log_sum;
    }
  }
}

// One entry point per ISA for each kernel above.
#define SHRINK_SIMD_VARIANTS(S, suffix, target)                                        \
  target void ExpArray##suffix(float* y, int64_t n) { ExpArray<S>(y, n); }             \
  template <bool kLog>                                                                 \
  target void SoftmaxRows##suffix(const float* x, float* y, int64_t rows, int64_t n) { \
    SoftmaxRowsF32<S, kLog>(x, y, rows, n);                                            \
  }
SHRINK_SIMD_VARIANTS(Sse2, Sse2, )
SHRINK_SIMD_VARIANTS(Avx2, Avx2, __attribute__((target("avx2,fma"))))
SHRINK_SIMD_VARIANTS(Avx512, Avx512, __attribute__((target("avx512f"))))
#undef SHRINK_SIMD_VARIANTS

enum class Isa { kSse2, kAvx2, kAvx512 };
std::atomic<bool> baseline_isa_for_testing{false};

Isa ActiveIsa() {
  static const Isa detected = __builtin_cpu_supports("avx512f") ? Isa::kAvx512
                              : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")
                                  ? Isa::kAvx2
                                  : Isa::kSse2;
  return baseline_isa_for_testing.load(std::memory_order_relaxed) ? Isa::kSse2 : detected;
}

void ExpInPlace(float* y, int64_t n) {
  switch (ActiveIsa()) {
    case Isa::kAvx512:
      return ExpArrayAvx512(y, n);
    case Isa::kAvx2:
      return ExpArrayAvx2(y, n);
    case Isa::kSse2:
      return ExpArraySse2(y, n);
  }
}
void ExpInPlace(double* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::exp(y[i]);
}

template <bool kLog>
void SoftmaxRows(const float* x, float* y, int64_t rows, int64_t n) {
  switch (ActiveIsa()) {
    case Isa::kAvx512:
      return SoftmaxRowsAvx512<kLog>(x, y, rows, n);
    case Isa::kAvx2:
      return SoftmaxRowsAvx2<kLog>(x, y, rows, n);
    case Isa::kSse2:
      return SoftmaxRowsSse2<kLog>(x, y, rows, n);
  }
}

// Row maximum and sum with independent lanes (vectorizable); sums accumulate in double.
template <typename F>
F RowMax(const F* x, int64_t n) {
  constexpr int kLanes = 8;
  F lanes[kLanes];
  for (F& lane : lanes) lane = -std::numeric_limits<F>::infinity();
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int j = 0; j < kLanes; ++j) lanes[j] = lanes[j] < x[i + j] ? x[i + j] : lanes[j];
  }
  for (; i < n; ++i) lanes[0] = lanes[0] < x[i] ? x[i] : lanes[0];
  for (int j = 1; j < kLanes; ++j) lanes[0] = lanes[0] < lanes[j] ? lanes[j] : lanes[0];
  return lanes[0];
}

#if defined(__clang__)  // clang 14 cannot clone templates; only the fuzz build uses clang
#define SHRINK_SOFTMAX_CLONES
#else
#define SHRINK_SOFTMAX_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif

// Sum of (x[i] - center)^power for power 1 or 2 (power 0 means |x[i]|).
template <int kPower, typename F>
SHRINK_SOFTMAX_CLONES double RowSum(const F* x, int64_t n, double center = 0) {
  constexpr int kLanes = 8;
  double lanes[kLanes] = {};
  auto term = [center](F v) {
    double d = double(v) - center;
    if constexpr (kPower == 0)
      return std::abs(d);
    else if constexpr (kPower == 1)
      return d;
    else
      return d * d;
  };
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int j = 0; j < kLanes; ++j) lanes[j] += term(x[i + j]);
  }
  for (; i < n; ++i) lanes[0] += term(x[i]);
  double sum = 0;
  for (double lane : lanes) sum += lane;
  return sum;
}

// ---------------------------------------------------------------------------------------------
// Widening of half types: the float-only ops compute in float and round once at the end.

Tensor Widen(const Tensor& t) {
  if (t.dtype() != DataType::kFloat16 && t.dtype() != DataType::kBFloat16) return t;
  Tensor wide(DataType::kFloat32, t.shape());
  float* out = wide.data<float>();
  const uint16_t* in = static_cast<const uint16_t*>(t.raw_data());
  bool half = t.dtype() == DataType::kFloat16;
  for (int64_t i = 0; i < t.size(); ++i)
    out[i] = half ? HalfToFloat(in[i]) : BFloat16ToFloat(in[i]);
  return wide;
}

Tensor Narrow(const Tensor& wide, DataType type) {
  if (type != DataType::kFloat16 && type != DataType::kBFloat16) return wide;
  Tensor t(type, wide.shape());
  const float* in = wide.data<float>();
  uint16_t* out = static_cast<uint16_t*>(t.raw_data());
  bool half = type == DataType::kFloat16;
  for (int64_t i = 0; i < t.size(); ++i)
    out[i] = half ? FloatToHalf(in[i]) : FloatToBFloat16(in[i]);
  return t;
}

bool IsFloatType(DataType type) { return IsFloatingPoint(type); }

// Runs fn(F{}) with F = float or double: the element type of `wide` (a widened tensor).
template <typename Fn>
void DispatchFloat(const Tensor& wide, Fn&& fn) {
  if (wide.dtype() == DataType::kFloat64)
    fn(double{});
  else
    fn(float{});
}

// ---------------------------------------------------------------------------------------------
// Softmax family

enum class SoftmaxKind { kSoftmax, kLogSoftmax, kHardmax };

template <SoftmaxKind kKind, typename F>
void SoftmaxRow(const F* x, F* y, int64_t n) {
  F max = RowMax(x, n);
  if constexpr (kKind == SoftmaxKind::kHardmax) {
    std::fill(y, y + n, F(0));
    for (int64_t i = 0; i < n; ++i) {
      if (x[i] == max) {
        y[i] = F(1);
        return;
      }
    }
    if (n > 0) y[0] = F(1);  // all NaN: any index is as good
  } else {
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] - max;
    ExpInPlace(y, n);
    double sum = RowSum<1>(y, n);
    if constexpr (kKind == SoftmaxKind::kSoftmax) {
      F inv = F(1.0 / sum);
      for (int64_t i = 0; i < n; ++i) y[i] *= inv;
    } else {
      F log_sum = F(std::log(sum));
      for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - max) - log_sum;
    }
  }
}

// Softmax along the middle axis of [n, inner] for columns [0, width) of rows `stride` apart.
// max, sum and scale are scratch for `width` columns.
template <SoftmaxKind kKind, typename F>
void SoftmaxColumns(const F* x, F* y, int64_t n, int64_t stride, int64_t width, F* max, double* sum,
                    F* scale) {
  std::fill(max, max + width, -std::numeric_limits<F>::infinity());
  for (int64_t i = 0; i < n; ++i) {
    const F* row = x + i * stride;
    for (int64_t k = 0; k < width; ++k) max[k] = max[k] < row[k] ? row[k] : max[k];
  }
  if constexpr (kKind == SoftmaxKind::kHardmax) {
    std::fill(sum, sum + width, 0.0);  // sum[k] = 1 once column k has its one
    for (int64_t i = 0; i < n; ++i) {
      const F* row = x + i * stride;
      F* out = y + i * stride;
      for (int64_t k = 0; k < width; ++k) {
        bool hit = sum[k] == 0 && row[k] == max[k];
        out[k] = hit ? F(1) : F(0);
        if (hit) sum[k] = 1;
      }
    }
    for (int64_t k = 0; n > 0 && k < width; ++k) {
      if (sum[k] == 0) y[k] = F(1);  // all NaN: any index is as good
    }
    return;
  }
  std::fill(sum, sum + width, 0.0);
  for (int64_t i = 0; i < n; ++i) {
    const F* row = x + i * stride;
    F* out = y + i * stride;
    for (int64_t k = 0; k < width; ++k) out[k] = row[k] - max[k];
    ExpInPlace(out, width);
    for (int64_t k = 0; k < width; ++k) sum[k] += double(out[k]);
  }
  for (int64_t k = 0; k < width; ++k) {
    scale[k] = F(kKind == SoftmaxKind::kSoftmax ? 1 / sum[k] : std::log(sum[k]));
  }
  for (int64_t i = 0; i < n; ++i) {
    const F* row = x + i * stride;
    F* out = y + i * stride;
    if constexpr (kKind == SoftmaxKind::kSoftmax) {
      for (int64_t k = 0; k < width; ++k) out[k] *= scale[k];
    } else {
      for (int64_t k = 0; k < width; ++k) out[k] = (row[k] - max[k]) - scale[k];
    }
  }
}

template <SoftmaxKind kKind, typename F>
void RunSoftmax(const F* x, F* y, const AxisSplit& s, const ThreadPool& pool) {
  if (s.inner == 1) {
    pool.ParallelFor(s.outer, MinChunk(4 * s.n), [&](int64_t begin, int64_t end) {
      if constexpr (std::is_same_v<F, float> && kKind != SoftmaxKind::kHardmax) {
        SoftmaxRows<kKind == SoftmaxKind::kLogSoftmax>(x + begin * s.n, y + begin * s.n,
                                                       end - begin, s.n);
      } else {
        for (int64_t o = begin; o < end; ++o) SoftmaxRow<kKind>(x + o * s.n, y + o * s.n, s.n);
      }
    });
    return;
  }
  constexpr int64_t kWidth = 256;
  const int64_t chunks = (s.inner + kWidth - 1) / kWidth;
  pool.ParallelFor(s.outer * chunks, MinChunk(4 * s.n * std::min(kWidth, s.inner)),
                   [&](int64_t begin, int64_t end) {
                     F max[kWidth], scale[kWidth];
                     double sum[kWidth];
                     for (int64_t item = begin; item < end; ++item) {
                       int64_t o = item / chunks, k0 = item % chunks * kWidth;
                       int64_t offset = o * s.n * s.inner + k0;
                       SoftmaxColumns<kKind>(x + offset, y + offset, s.n, s.inner,
                                             std::min(kWidth, s.inner - k0), max, sum, scale);
                     }
                   });
}

template <SoftmaxKind kKind>
Status SoftmaxKernel(KernelContext& context) {
  RETURN_IF_ERROR(ExpectInputs(context, 1, 1));
  const Node& node = context.node;
  const Tensor& x = context.input(0);
  if (!IsFloatType(x.dtype())) return UnsupportedType(node, x.dtype());
  const int rank = x.rank();
  AxisSplit split;
  if (context.opset >= 13) {
    ASSIGN_OR_RETURN(int axis, NormalizeAxis(node.GetInt("axis", -1), rank, node));
    split = SplitAtAxis(x.shape(), axis);
  } else {
    // Before opset 13 the input is flattened to [prod(dims[:axis]), prod(dims[axis:])].
    int64_t axis = node.GetInt("axis", 1);
    if (axis < 0) axis += rank;
    if (axis < 0 || axis > rank) {
      return KernelError(node, "axis " + std::to_string(node.GetInt("axis", 1)) +
                                   " is out of range for rank " + std::to_string(rank));
    }
    for (int i = 0; i < rank; ++i) (i < axis ? split.outer : split.n) *= x.dim(i);
  }
  Tensor wide = Widen(x);
  Tensor out(wide.dtype(), x.shape());
  DispatchFloat(wide, [&](auto tag) {
    using F = decltype(tag);
    RunSoftmax<kKind, F>(wide.data<F>(), out.data<F>(), split, context.pool);
  });
  context.output(0) = Narrow(out, x.dtype());
  return OkStatus();
}

// ---------------------------------------------------------------------------------------------
// LayerNormalization (opset 17)

// Expands `t` (unidirectionally broadcastable to `shape`) to shape.size() values of type F.
template <typename F>
StatusOr<std::vector<F>> ExpandTo(const Tensor& t, const Shape& shape, const Node& node,
                                  const char* what) {
  bool ok = t.rank() <= int(shape.size());
  for (int i = 0; ok && i < t.rank(); ++i) {
    int64_t d = t.dim(t.rank() - 1 - i);
    ok = d == 1 || d == shape[shape.size() - 1 - size_t(i)];
  }
  if (!ok) {
    return KernelError(node, std::string(what) + " of shape " + ShapeToString(t.shape()) +
                                 " does not broadcast to the normalized shape " +
                                 ShapeToString(shape));
  }
  ASSIGN_OR_RETURN(int64_t count, ElementCount(shape));
  std::vector<int64_t> strides = BroadcastStrides(t.shape(), shape);
  std::vector<F> values(static_cast<size_t>(count));
  std::vector<int64_t> index(shape.size(), 0);
  for (int64_t i = 0; i < count; ++i) {
    int64_t offset = 0;
    for (size_t d = 0; d < shape.size(); ++d) offset += index[d] * strides[d];
    values[size_t(i)] = F(t.GetAsDouble(offset));
    for (int d = int(shape.size()) - 1; d >= 0 && ++index[size_t(d)] == shape[size_t(d)]; --d) {
      index[size_t(d)] = 0;
    }
  }
  return values;
}

// Normalizes each of `rows` rows of n values; writes per-row mean and 1/stddev.
template <typename F>
void LayerNormRows(const F* x, const F* scale, const F* bias, int64_t rows, int64_t n,
                   double epsilon, F* y, double* mean, double* inv_std, const ThreadPool& pool) {
  pool.ParallelFor(rows, MinChunk(3 * n), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const F* in = x + r * n;
      F* out = y + r * n;
      double m = n > 0 ? RowSum<1>(in, n) / double(n) : 0.0;
      double var = n > 0 ? RowSum<2>(in, n, m) / double(n) : 0.0;
      double inv = 1.0 / std::sqrt(var + epsilon);
      mean[r] = m;
      inv_std[r] = inv;
      const F fm = F(m), finv = F(inv);
      if (bias) {
        for (int64_t i = 0; i < n; ++i) out[i] = (in[i] - fm) * finv * scale[i] + bias[i];
      } else {
        for (int64_t i = 0; i < n; ++i) out[i] = (in[i] - fm) * finv * scale[i];
      }
    }
  });
}

Status LayerNormKernel(KernelContext& context) {
  RETURN_IF_ERROR(ExpectInputs(context, 2, 3));
  const Node& node = context.node;
  const Tensor& x = context.input(0);
  if (!IsFloatType(x.dtype())) return UnsupportedType(node, x.dtype());
  for (int i = 1; i < 3; ++i) {
    if (context.has_input(i) && context.input(i).dtype() != x.dtype()) {
      return KernelError(node, std::string(i == 1 ? "Scale" : "B") + " dtype " +
                                   DataTypeName(context.input(i).dtype()) +
                                   " differs from X dtype " + DataTypeName(x.dtype()));
    }
  }
  ASSIGN_OR_RETURN(int axis, NormalizeAxis(node.GetInt("axis", -1), x.rank(), node));
  const double epsilon = node.GetFloat("epsilon", 1e-5f);
  const DataType stash = DataType(node.GetInt("stash_type", 1));
  if (!IsFloatType(stash)) {
    return KernelError(node, "stash_type " + std::to_string(int(stash)) + " is not a float type");
  }
  Shape norm_shape(x.shape().begin() + axis, x.shape().end());
  Shape stat_shape(x.shape().begin(), x.shape().begin() + axis);
  stat_shape.resize(size_t(x.rank()), 1);
  AxisSplit split{1, 1, 1};
  for (int i = 0; i < x.rank(); ++i) (i < axis ? split.outer : split.n) *= x.dim(i);
  Tensor wide = Widen(x);
  Tensor out(wide.dtype(), x.shape());
  std::vector<double> mean(size_t(split.outer)), inv_std(size_t(split.outer));
  Status status = OkStatus();
  DispatchFloat(wide, [&](auto tag) {
    using F = decltype(tag);
    auto scale = ExpandTo<F>(context.input(1), norm_shape, node, "Scale");
    if (!scale.ok()) {
      status = scale.status();
      return;
    }
    std::vector<F> bias;
    if (context.has_input(2)) {
      auto expanded = ExpandTo<F>(context.input(2), norm_shape, node, "B");
      if (!expanded.ok()) {
        status = expanded.status();
        return;
      }
      bias = std::move(expanded).value();
    }
    LayerNormRows<F>(wide.data<F>(), scale->data(), bias.empty() ? nullptr : bias.data(),
                     split.outer, split.n, epsilon, out.data<F>(), mean.data(), inv_std.data(),
                     context.pool);
  });
  RETURN_IF_ERROR(status);
  context.output(0) = Narrow(out, x.dtype());
  const std::vector<double>* stats[2] = {&mean, &inv_std};
  for (int i = 1; i < 3; ++i) {
    if (!context.wants_output(i) || i >= context.num_outputs()) continue;
    Tensor t(DataType::kFloat64, stat_shape);
    std::copy(stats[i - 1]->begin(), stats[i - 1]->end(), t.data<double>());
    if (stash == DataType::kFloat64) {
      context.output(i) = std::move(t);
      continue;
    }
    Tensor f(DataType::kFloat32, stat_shape);
    for (int64_t j = 0; j < t.size(); ++j) f.data<float>()[j] = float(t.data<double>()[j]);
    context.output(i) = Narrow(f, stash);
  }
  return OkStatus();
}

// ---------------------------------------------------------------------------------------------
// LpNormalization: x / ||x||_p along one axis (p = 1 or 2); a zero norm gives zeros.

template <typename F>
void RunLpNorm(const F* x, F* y, const AxisSplit& s, int p, const ThreadPool& pool) {
  auto inverse = [](double norm) { return norm == 0 ? F(0) : F(1 / norm); };
  if (s.inner == 1) {
    pool.ParallelFor(s.outer, MinChunk(2 * s.n), [&](int64_t begin, int64_t end) {
      for (int64_t o = begin; o < end; ++o) {
        const F* in = x + o * s.n;
        F* out = y + o * s.n;
        const F scale = inverse(p == 1 ? RowSum<0>(in, s.n) : std::sqrt(RowSum<2>(in, s.n)));
        for (int64_t i = 0; i < s.n; ++i) out[i] = in[i] * scale;
      }
    });
    return;
  }
  pool.ParallelFor(s.outer, MinChunk(2 * s.n * s.inner), [&](int64_t begin, int64_t end) {
    std::vector<double> norm(size_t(s.inner));
    std::vector<F> scale(size_t(s.inner));
    for (int64_t o = begin; o < end; ++o) {
      const F* in = x + o * s.n * s.inner;
      F* out = y + o * s.n * s.inner;
      std::fill(norm.begin(), norm.end(), 0.0);
      for (int64_t i = 0; i < s.n; ++i) {
        const F* row = in + i * s.inner;
        for (int64_t k = 0; k < s.inner; ++k) {
          double v = double(row[k]);
          norm[size_t(k)] += p == 1 ? std::abs(v) : v * v;
        }
      }
      for (int64_t k = 0; k < s.inner; ++k) {
        scale[size_t(k)] = inverse(p == 1 ? norm[size_t(k)] : std::sqrt(norm[size_t(k)]));
      }
      for (int64_t i = 0; i < s.n; ++i) {
        for (int64_t k = 0; k < s.inner; ++k) {
          out[i * s.inner + k] = in[i * s.inner + k] * scale[size_t(k)];
        }
      }
    }
  });
}

Status LpNormKernel(KernelContext& context) {
  RETURN_IF_ERROR(ExpectInputs(context, 1, 1));
  const Node& node = context.node;
  const Tensor& x = context.input(0);
  if (!IsFloatType(x.dtype())) return UnsupportedType(node, x.dtype());
  ASSIGN_OR_RETURN(int axis, NormalizeAxis(node.GetInt("axis", -1), x.rank(), node));
  const int64_t p = node.GetInt("p", 2);
  if (p != 1 && p != 2) return KernelError(node, "p must be 1 or 2, got " + std::to_string(p));
  AxisSplit split = SplitAtAxis(x.shape(), axis);
  Tensor wide = Widen(x);
  Tensor out(wide.dtype(), x.shape());
  DispatchFloat(wide, [&](auto tag) {
    using F = decltype(tag);
    RunLpNorm<F>(wide.data<F>(), out.data<F>(), split, int(p), context.pool);
  });
  context.output(0) = Narrow(out, x.dtype());
  return OkStatus();
}

}  // namespace

void UseBaselineIsaForTesting(bool baseline) { baseline_isa_for_testing = baseline; }

void RegisterSoftmaxKernels(KernelRegistry* registry) {
  registry->RegisterFunction(OpType::kSoftmax, &SoftmaxKernel<SoftmaxKind::kSoftmax>);
  registry->RegisterFunction(OpType::kLogSoftmax, &SoftmaxKernel<SoftmaxKind::kLogSoftmax>);
  registry->RegisterFunction(OpType::kHardmax, &SoftmaxKernel<SoftmaxKind::kHardmax>);
  registry->RegisterFunction(OpType::kLayerNormalization, &LayerNormKernel);
  registry->RegisterFunction(OpType::kLpNormalization, &LpNormKernel);
}

}  // namespace shrink::engine::reduction_internal
