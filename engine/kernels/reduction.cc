// Reduce* (ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd, ReduceL1, ReduceL2,
// ReduceLogSum, ReduceLogSumExp, ReduceSumSquare) and ArgMax/ArgMin.
//
// A reduction is planned once per call: size-1 dims are dropped and neighbouring dims of the
// same kind (reduced or kept) merged, so every case becomes one of two loops:
//  - the innermost merged dim is reduced: each output reduces contiguous runs (rows);
//  - the innermost merged dim is kept: each output row accumulates whole input rows into a
//    vector of accumulators (columns), which vectorizes across the kept dim.
// Float sums accumulate in double (ReduceMean over 1e8 floats stays exact to ~1e-9).
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "engine/kernels/kernel_util.h"
#include "engine/kernels/kernels.h"
#include "engine/kernels/reduction_internal.h"

namespace shrink::engine {
namespace {

using reduction_internal::AxisSplit;
using reduction_internal::Elem;
using reduction_internal::IsArithmetic;
using reduction_internal::MinChunk;
using reduction_internal::SplitAtAxis;
using reduction_internal::StoreAs;

enum class Reduce { kSum, kMean, kMax, kMin, kProd, kL1, kL2, kLogSum, kLogSumExp, kSumSquare };

// The accumulation rules of one reduction over element type T.
template <typename T, Reduce kOp>
struct Reducer {
  using C = typename Elem<T>::Compute;
  static constexpr bool kInt = std::is_integral_v<C>;
  static constexpr bool kExtreme = kOp == Reduce::kMax || kOp == Reduce::kMin;
  // Integers end in sqrt/log/exp in double; other integer reductions wrap in 64 bits.
  static constexpr bool kIntInDouble =
      kOp == Reduce::kL2 || kOp == Reduce::kLogSum || kOp == Reduce::kLogSumExp;
  using Acc = std::conditional_t<kExtreme || (kInt && !kIntInDouble), C, double>;
  // Whether the per-output shift (the max, for ReduceLogSumExp) is used.
  static constexpr bool kShifted = kOp == Reduce::kLogSumExp;

  static Acc Init() {
    if constexpr (kOp == Reduce::kMax) {
      if constexpr (kInt)
        return Acc(std::numeric_limits<T>::lowest());
      else
        return -std::numeric_limits<Acc>::infinity();
    } else if constexpr (kOp == Reduce::kMin) {
      if constexpr (kInt)
        return Acc(std::numeric_limits<T>::max());
      else
        return std::numeric_limits<Acc>::infinity();
    } else if constexpr (kOp == Reduce::kProd) {
      return Acc(1);
    } else {
      return Acc(0);
    }
  }
  static Acc Map(C v, Acc shift) {
    Acc a = Acc(v);
    if constexpr (kOp == Reduce::kL1) {
      if constexpr (std::is_floating_point_v<Acc>)
        return std::abs(a);
      else if constexpr (std::is_signed_v<Acc>)
        return a < 0 ? Acc(-uint64_t(a)) : a;
      else
        return a;
    } else if constexpr (kOp == Reduce::kL2 || kOp == Reduce::kSumSquare) {
      return Mul(a, a);
    } else if constexpr (kOp == Reduce::kLogSumExp) {
      return std::exp(a - shift);
    } else {
      return a;
    }
  }
  static Acc Combine(Acc a, Acc b) {
    if constexpr (kOp == Reduce::kMax)
      return a < b ? b : a;
    else if constexpr (kOp == Reduce::kMin)
      return b < a ? b : a;
    else if constexpr (kOp == Reduce::kProd)
      return Mul(a, b);
    else if constexpr (kInt && !kIntInDouble)
      return Acc(uint64_t(a) + uint64_t(b));
    else
      return a + b;
  }
  static T Finalize(Acc a, int64_t count, Acc shift) {
    if constexpr (kOp == Reduce::kMean) {
      if (count == 0) {
        if constexpr (kInt)
          return StoreAs<T>(Acc(0));
        else
          return StoreAs<T>(std::numeric_limits<Acc>::quiet_NaN());
      }
      return StoreAs<T>(a / Acc(count));
    } else if constexpr (kOp == Reduce::kL2) {
      return StoreAs<T>(std::sqrt(a));
    } else if constexpr (kOp == Reduce::kLogSum) {
      return StoreAs<T>(std::log(a));
    } else if constexpr (kOp == Reduce::kLogSumExp) {
      return StoreAs<T>(std::log(a) + shift);
    } else {
      return StoreAs<T>(a);
    }
  }

 private:
  static Acc Mul(Acc a, Acc b) {
    if constexpr (std::is_integral_v<Acc>)
      return Acc(uint64_t(a) * uint64_t(b));
    else
      return a * b;
  }
};

// The offsets of a box of (size, stride) dims, all sizes >= 2, in row-major order.
struct OffsetBox {
  std::vector<std::pair<int64_t, int64_t>> dims;
  int64_t count() const {
    int64_t n = 1;
    for (const auto& d : dims) n *= d.first;
    return n;
  }
};

// Walks an OffsetBox from any position; the plan never materializes its offsets (a reduction
// over [1e8, 2] would need more memory for them than for the input).
class OffsetWalker {
 public:
  explicit OffsetWalker(const OffsetBox& box) : dims_(box.dims), index_(box.dims.size(), 0) {}
  void Seek(int64_t position) {
    offset_ = 0;
    for (size_t d = dims_.size(); d-- > 0;) {
      index_[d] = position % dims_[d].first;
      position /= dims_[d].first;
      offset_ += index_[d] * dims_[d].second;
    }
  }
  int64_t offset() const { return offset_; }
  void Next() {
    for (size_t d = dims_.size(); d-- > 0;) {
      offset_ += dims_[d].second;
      if (++index_[d] < dims_[d].first) return;
      offset_ -= dims_[d].first * dims_[d].second;
      index_[d] = 0;
    }
  }

 private:
  const std::vector<std::pair<int64_t, int64_t>>& dims_;
  std::vector<int64_t> index_;
  int64_t offset_ = 0;
};

// The two inner loops. Written for gcc to vectorize; for float and double they are also built
// for AVX2 and AVX-512 (target_clones dispatches at load time), elsewhere only the baseline.
#if defined(__clang__)  // clang 14 cannot clone templates; only the fuzz build uses clang
#define SHRINK_WIDE_CLONES
#else
#define SHRINK_WIDE_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif
template <typename T>
constexpr bool kWideTargets = std::is_same_v<T, float> || std::is_same_v<T, double>;

// Reduces n contiguous elements. Independent lanes let gcc vectorize the loop and, for float
// sums, keep the double accumulation exact enough.
template <typename T, Reduce kOp>
__attribute__((always_inline)) inline typename Reducer<T, kOp>::Acc ReduceRunImpl(
    const T* x, int64_t n, typename Reducer<T, kOp>::Acc s) {
  using R = Reducer<T, kOp>;
  using Acc = typename R::Acc;
  constexpr int kLanes = 16;
  Acc lanes[kLanes];
  for (Acc& lane : lanes) lane = R::Init();
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int j = 0; j < kLanes; ++j) {
      lanes[j] = R::Combine(lanes[j], R::Map(Elem<T>::Load(x[i + j]), s));
    }
  }
  for (; i < n; ++i) lanes[0] = R::Combine(lanes[0], R::Map(Elem<T>::Load(x[i]), s));
  for (int j = 1; j < kLanes; ++j) lanes[0] = R::Combine(lanes[0], lanes[j]);
  return lanes[0];
}

// acc[k] (k < width) accumulates `count` rows at base + the offsets `blocks` walks (from its
// current position); shift (one per column) is read only by ReduceLogSumExp.
template <typename T, Reduce kOp>
__attribute__((always_inline)) inline void AccumulateColumnsImpl(
    const T* base, OffsetWalker* blocks, int64_t count, int64_t width, const double* shift,
    typename Reducer<T, kOp>::Acc* acc) {
  using R = Reducer<T, kOp>;
  using Acc = typename R::Acc;
  auto shift_at = [shift](int64_t k) {
    if constexpr (R::kShifted)
      return Acc(shift[k]);
    else
      return Acc(0);
  };
  for (int64_t k = 0; k < width; ++k) acc[k] = R::Init();
  for (int64_t b = 0; b < count; ++b, blocks->Next()) {
    const T* in = base + blocks->offset();
    for (int64_t k = 0; k < width; ++k) {
      acc[k] = R::Combine(acc[k], R::Map(Elem<T>::Load(in[k]), shift_at(k)));
    }
  }
}

template <typename T, Reduce kOp>
SHRINK_WIDE_CLONES typename Reducer<T, kOp>::Acc ReduceRunWide(const T* x, int64_t n,
                                                               typename Reducer<T, kOp>::Acc s) {
  return ReduceRunImpl<T, kOp>(x, n, s);
}
template <typename T, Reduce kOp>
SHRINK_WIDE_CLONES void AccumulateColumnsWide(const T* base, OffsetWalker* blocks, int64_t count,
                                              int64_t width, const double* shift,
                                              typename Reducer<T, kOp>::Acc* acc) {
  AccumulateColumnsImpl<T, kOp>(base, blocks, count, width, shift, acc);
}

template <typename T, Reduce kOp>
typename Reducer<T, kOp>::Acc ReduceRun(const T* x, int64_t n, typename Reducer<T, kOp>::Acc s) {
  if constexpr (kWideTargets<T>)
    return ReduceRunWide<T, kOp>(x, n, s);
  else
    return ReduceRunImpl<T, kOp>(x, n, s);
}
template <typename T, Reduce kOp>
void AccumulateColumns(const T* base, OffsetWalker* blocks, int64_t count, int64_t width,
                       const double* shift, typename Reducer<T, kOp>::Acc* acc) {
  if constexpr (kWideTargets<T>) {
    AccumulateColumnsWide<T, kOp>(base, blocks, count, width, shift, acc);
  } else {
    AccumulateColumnsImpl<T, kOp>(base, blocks, count, width, shift, acc);
  }
}

// A reduction reduced to offsets (see the file comment).
struct ReducePlan {
  int64_t reduced_count = 1;  // input elements per output
  bool inner_reduced = true;  // innermost merged dim reduced: contiguous runs
  int64_t inner = 1;          // run length (inner_reduced) or kept row width
  OffsetBox outer;            // input offset per output (inner_reduced) or per output row
  OffsetBox blocks;           // offsets of the runs / input rows, relative to `outer`
};

// Plans a reduction of a non-empty input of `shape` over the axes flagged in `reduced`.
ReducePlan MakePlan(const Shape& shape, const std::vector<bool>& reduced) {
  std::vector<std::pair<int64_t, bool>> dims;  // merged (size, reduced), size-1 dims dropped
  ReducePlan plan;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (reduced[i]) plan.reduced_count *= shape[i];
    if (shape[i] == 1) continue;
    if (!dims.empty() && dims.back().second == reduced[i]) {
      dims.back().first *= shape[i];
    } else {
      dims.push_back({shape[i], reduced[i]});
    }
  }
  if (dims.empty()) dims.push_back({1, true});
  plan.inner_reduced = dims.back().second;
  plan.inner = dims.back().first;
  int64_t stride = plan.inner;
  for (int i = int(dims.size()) - 2; i >= 0; --i) {
    OffsetBox& box = dims[size_t(i)].second ? plan.blocks : plan.outer;
    box.dims.insert(box.dims.begin(), {dims[size_t(i)].first, stride});
    stride *= dims[size_t(i)].first;
  }
  return plan;
}

template <typename T, Reduce kOp>
class ReduceRunner {
 public:
  using R = Reducer<T, kOp>;
  using Acc = typename R::Acc;
  // `shift` (one per output) is read only by ReduceLogSumExp.
  ReduceRunner(const ReducePlan& plan, const T* x, T* y, const double* shift)
      : p_(plan), x_(x), y_(y), shift_(shift) {}

  void Run(const ThreadPool& pool) {
    if (p_.inner_reduced)
      RunRows(pool);
    else
      RunColumns(pool);
  }

 private:
  static constexpr int64_t kColumnChunk = 1024;

  Acc Shift(int64_t o) const {
    if constexpr (R::kShifted)
      return Acc(shift_[o]);
    else
      return Acc(0);
  }

  // The output at input offset `base`, over [begin, end) of its flattened (blocks x inner)
  // elements; `blocks` is scratch.
  Acc AccumulateRuns(int64_t base, Acc shift, int64_t begin, int64_t end,
                     OffsetWalker* blocks) const {
    Acc acc = R::Init();
    const int64_t run = p_.inner;
    int64_t j = begin % run;
    for (blocks->Seek(begin / run); begin < end; blocks->Next()) {
      int64_t len = std::min(run - j, end - begin);
      acc = R::Combine(acc, ReduceRun<T, kOp>(x_ + base + blocks->offset() + j, len, shift));
      begin += len;
      j = 0;
    }
    return acc;
  }

  void RunRows(const ThreadPool& pool) {
    const int64_t outputs = p_.outer.count();
    const int64_t count = p_.reduced_count;
    const int threads = pool.num_threads();
    if (outputs >= threads || outputs * count < 2 * reduction_internal::kMinParallelWork) {
      pool.ParallelFor(outputs, MinChunk(count), [&](int64_t begin, int64_t end) {
        OffsetWalker outer(p_.outer), blocks(p_.blocks);
        outer.Seek(begin);
        for (int64_t o = begin; o < end; ++o, outer.Next()) {
          Acc acc = AccumulateRuns(outer.offset(), Shift(o), 0, count, &blocks);
          y_[o] = R::Finalize(acc, count, Shift(o));
        }
      });
      return;
    }
    // Few large outputs (e.g. reduce everything): split each one across threads.
    std::vector<Acc> partial(static_cast<size_t>(threads));
    OffsetWalker outer(p_.outer);
    outer.Seek(0);
    for (int64_t o = 0; o < outputs; ++o, outer.Next()) {
      std::fill(partial.begin(), partial.end(), R::Init());
      pool.ParallelFor(threads, 1, [&](int64_t begin, int64_t end) {
        OffsetWalker blocks(p_.blocks);
        for (int64_t t = begin; t < end; ++t) {
          partial[size_t(t)] = AccumulateRuns(outer.offset(), Shift(o), count * t / threads,
                                              count * (t + 1) / threads, &blocks);
        }
      });
      Acc acc = R::Init();
      for (Acc a : partial) acc = R::Combine(acc, a);
      y_[o] = R::Finalize(acc, count, Shift(o));
    }
  }

  // Accumulates input rows [begin, end) of output row `row`, columns [k0, k0 + width).
  void AccumulateRows(int64_t row, int64_t k0, int64_t width, int64_t begin, int64_t end,
                      Acc* acc) const {
    OffsetWalker outer(p_.outer), blocks(p_.blocks);
    outer.Seek(row);
    blocks.Seek(begin);
    const double* shift = R::kShifted ? shift_ + row * p_.inner + k0 : nullptr;
    AccumulateColumns<T, kOp>(x_ + outer.offset() + k0, &blocks, end - begin, width, shift, acc);
  }

  void RunColumns(const ThreadPool& pool) {
    const int64_t width = p_.inner;
    const int64_t chunks = (width + kColumnChunk - 1) / kColumnChunk;
    const int64_t items = p_.outer.count() * chunks;
    const int64_t rows = p_.blocks.count();
    const int threads = pool.num_threads();
    auto finish = [&](int64_t item, const Acc* acc) {
      int64_t row = item / chunks, k0 = item % chunks * kColumnChunk;
      int64_t o0 = row * width + k0, w = std::min(kColumnChunk, width - k0);
      for (int64_t k = 0; k < w; ++k) {
        y_[o0 + k] = R::Finalize(acc[k], p_.reduced_count, Shift(o0 + k));
      }
    };
    if (items >= threads ||
        items * rows * kColumnChunk < 2 * reduction_internal::kMinParallelWork) {
      pool.ParallelFor(
          items, MinChunk(rows * std::min(width, kColumnChunk)), [&](int64_t b, int64_t e) {
            Acc acc[kColumnChunk];
            for (int64_t item = b; item < e; ++item) {
              int64_t row = item / chunks, k0 = item % chunks * kColumnChunk;
              AccumulateRows(row, k0, std::min(kColumnChunk, width - k0), 0, rows, acc);
              finish(item, acc);
            }
          });
      return;
    }
    // Few output rows over many input rows (e.g. reduce axis 0 of [N, C]): split the rows.
    std::vector<Acc> partial(size_t(threads * kColumnChunk));
    for (int64_t item = 0; item < items; ++item) {
      int64_t row = item / chunks, k0 = item % chunks * kColumnChunk;
      int64_t w = std::min(kColumnChunk, width - k0);
      pool.ParallelFor(threads, 1, [&](int64_t begin, int64_t end) {
        for (int64_t t = begin; t < end; ++t) {
          AccumulateRows(row, k0, w, rows * t / threads, rows * (t + 1) / threads,
                         &partial[size_t(t * kColumnChunk)]);
        }
      });
      for (int t = 1; t < threads; ++t) {
        for (int64_t k = 0; k < w; ++k) {
          partial[size_t(k)] =
              R::Combine(partial[size_t(k)], partial[size_t(t * kColumnChunk + k)]);
        }
      }
      finish(item, partial.data());
    }
  }

  const ReducePlan& p_;
  const T* x_;
  T* y_;
  const double* shift_;
};

// What a Reduce* node asks for, after opset-dependent parsing.
struct ReduceRequest {
  std::vector<bool> reduced;  // per input axis
  bool noop = false;          // empty axes with noop_with_empty_axes: output = input
  Shape output_shape;
};

StatusOr<ReduceRequest> ParseReduce(const KernelContext& context, Reduce kind) {
  const Node& node = context.node;
  const int64_t axes_input_opset = kind == Reduce::kSum ? 13 : 18;
  const bool axes_as_input = context.opset >= axes_input_opset;
  std::vector<int64_t> axes;
  if (axes_as_input) {
    RETURN_IF_ERROR(ExpectInputs(context, 1, 2));
    if (node.HasAttribute("axes")) {
      return KernelError(node, "axes must be an input (not an attribute) at opset " +
                                   std::to_string(context.opset));
    }
    if (context.has_input(1)) {
      const Tensor& t = context.input(1);
      if (t.dtype() != DataType::kInt64 || t.rank() > 1) {
        return KernelError(node, "axes must be a 1-D int64 tensor, got " +
                                     std::string(DataTypeName(t.dtype())) + " " +
                                     ShapeToString(t.shape()));
      }
      axes = t.ToInt64Vector();
    }
  } else {
    RETURN_IF_ERROR(ExpectInputs(context, 1, 1));
    axes = node.GetInts("axes");
  }
  const Tensor& x = context.input(0);
  const int rank = x.rank();
  ReduceRequest request;
  request.noop = axes.empty() && axes_as_input && node.GetInt("noop_with_empty_axes", 0) != 0;
  request.reduced.assign(size_t(rank), axes.empty());
  for (int64_t axis : axes) {
    ASSIGN_OR_RETURN(int a, NormalizeAxis(axis, rank, node));
    if (rank == 0) continue;
    if (request.reduced[size_t(a)]) {
      return KernelError(node, "axes lists axis " + std::to_string(axis) + " twice");
    }
    request.reduced[size_t(a)] = true;
  }
  const bool keepdims = node.GetInt("keepdims", 1) != 0;
  for (int i = 0; i < rank; ++i) {
    if (!request.reduced[size_t(i)])
      request.output_shape.push_back(x.dim(i));
    else if (keepdims)
      request.output_shape.push_back(1);
  }
  return request;
}

template <typename T, Reduce kOp>
void RunReduce(const ReducePlan& plan, const T* x, T* y, const double* shift,
               const ThreadPool& pool) {
  ReduceRunner<T, kOp>(plan, x, y, shift).Run(pool);
}

template <typename T, Reduce kOp>
Status ComputeReduce(const Tensor& x, const ReduceRequest& request, const ThreadPool& pool,
                     Tensor* out) {
  ASSIGN_OR_RETURN(Tensor y, Tensor::Allocate(x.dtype(), request.output_shape));
  T* yd = y.data<T>();
  if (y.size() == 0) {
    *out = std::move(y);
    return OkStatus();
  }
  using R = Reducer<T, kOp>;
  if (x.size() == 0) {  // reductions over an empty set give the op's identity
    for (int64_t i = 0; i < y.size(); ++i) yd[i] = R::Finalize(R::Init(), 0, 0);
    *out = std::move(y);
    return OkStatus();
  }
  ReducePlan plan = MakePlan(x.shape(), request.reduced);
  std::vector<double> shift;
  if constexpr (R::kShifted) {
    // exp(x - max) cannot overflow; an infinite max shifts by 0 so that exp gives 0 or inf.
    std::vector<T> max(size_t(y.size()));
    RunReduce<T, Reduce::kMax>(plan, x.data<T>(), max.data(), nullptr, pool);
    shift.resize(max.size());
    for (size_t i = 0; i < max.size(); ++i) {
      double m = double(Elem<T>::Load(max[i]));
      shift[i] = std::isfinite(m) ? m : 0.0;
    }
  }
  RunReduce<T, kOp>(plan, x.data<T>(), yd, shift.data(), pool);
  *out = std::move(y);
  return OkStatus();
}

template <Reduce kOp>
Status ReduceKernel(KernelContext& context) {
  ASSIGN_OR_RETURN(ReduceRequest request, ParseReduce(context, kOp));
  const Tensor& x = context.input(0);
  if (request.noop) {
    context.output(0) = x.Clone();
    return OkStatus();
  }
  if (!IsArithmetic(x.dtype())) return UnsupportedType(context.node, x.dtype());
  return DispatchNumeric(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, bool>) {
      return Internal("unreachable");
    } else {
      return ComputeReduce<T, kOp>(x, request, context.pool, &context.output(0));
    }
  });
}

// ---------------------------------------------------------------------------------------------
// ArgMax / ArgMin

template <typename T, bool kMax>
void ArgReduce(const T* x, const AxisSplit& s, bool last, int64_t* y, const ThreadPool& pool) {
  using C = typename Elem<T>::Compute;
  // Whether v replaces the current best (ties go to the later index only with select_last).
  auto better = [last](C v, C best) {
    if constexpr (kMax)
      return last ? v >= best : v > best;
    else
      return last ? v <= best : v < best;
  };
  if (s.inner == 1) {  // contiguous rows: find the extreme, then its first (or last) index
    pool.ParallelFor(s.outer, MinChunk(s.n), [&](int64_t begin, int64_t end) {
      for (int64_t o = begin; o < end; ++o) {
        const T* row = x + o * s.n;
        const C best = ReduceRun < T, kMax ? Reduce::kMax : Reduce::kMin > (row, s.n, 0);
        int64_t found = 0;  // stays 0 when nothing equals the extreme (all NaN)
        if (last) {
          for (int64_t i = s.n - 1; i >= 0; --i) {
            if (Elem<T>::Load(row[i]) == best) {
              found = i;
              break;
            }
          }
        } else {
          for (int64_t i = 0; i < s.n; ++i) {
            if (Elem<T>::Load(row[i]) == best) {
              found = i;
              break;
            }
          }
        }
        y[o] = found;
      }
    });
    return;
  }
  pool.ParallelFor(s.outer, MinChunk(s.n * s.inner), [&](int64_t begin, int64_t end) {
    std::vector<C> best(size_t(s.inner));
    for (int64_t o = begin; o < end; ++o) {
      const T* in = x + o * s.n * s.inner;
      int64_t* idx = y + o * s.inner;
      for (int64_t k = 0; k < s.inner; ++k) {
        best[size_t(k)] = Elem<T>::Load(in[k]);
        idx[k] = 0;
      }
      for (int64_t i = 1; i < s.n; ++i) {
        const T* row = in + i * s.inner;
        for (int64_t k = 0; k < s.inner; ++k) {
          C v = Elem<T>::Load(row[k]);
          if (better(v, best[size_t(k)])) {
            best[size_t(k)] = v;
            idx[k] = i;
          }
        }
      }
    }
  });
}

template <bool kMax>
Status ArgKernel(KernelContext& context) {
  RETURN_IF_ERROR(ExpectInputs(context, 1, 1));
  const Node& node = context.node;
  const Tensor& x = context.input(0);
  ASSIGN_OR_RETURN(int axis, NormalizeAxis(node.GetInt("axis", 0), x.rank(), node));
  const bool keepdims = node.GetInt("keepdims", 1) != 0;
  const bool last = context.opset >= 12 && node.GetInt("select_last_index", 0) != 0;
  Shape out_shape;
  for (int i = 0; i < x.rank(); ++i) {
    if (i != axis)
      out_shape.push_back(x.dim(i));
    else if (keepdims)
      out_shape.push_back(1);
  }
  AxisSplit split = SplitAtAxis(x.shape(), axis);
  if (split.n == 0) {
    return KernelError(node, "cannot take the index of an extreme over empty axis " +
                                 std::to_string(axis) + " of shape " + ShapeToString(x.shape()));
  }
  if (!IsArithmetic(x.dtype())) return UnsupportedType(node, x.dtype());
  ASSIGN_OR_RETURN(Tensor y, Tensor::Allocate(DataType::kInt64, out_shape));
  RETURN_IF_ERROR(DispatchNumeric(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!std::is_same_v<T, bool>) {
      ArgReduce<T, kMax>(x.data<T>(), split, last, y.data<int64_t>(), context.pool);
    }
    return OkStatus();
  }));
  context.output(0) = std::move(y);
  return OkStatus();
}

}  // namespace

void RegisterReductionKernels(KernelRegistry* registry) {
  registry->RegisterFunction(OpType::kReduceSum, &ReduceKernel<Reduce::kSum>);
  registry->RegisterFunction(OpType::kReduceMean, &ReduceKernel<Reduce::kMean>);
  registry->RegisterFunction(OpType::kReduceMax, &ReduceKernel<Reduce::kMax>);
  registry->RegisterFunction(OpType::kReduceMin, &ReduceKernel<Reduce::kMin>);
  registry->RegisterFunction(OpType::kReduceProd, &ReduceKernel<Reduce::kProd>);
  registry->RegisterFunction(OpType::kReduceL1, &ReduceKernel<Reduce::kL1>);
  registry->RegisterFunction(OpType::kReduceL2, &ReduceKernel<Reduce::kL2>);
  registry->RegisterFunction(OpType::kReduceLogSum, &ReduceKernel<Reduce::kLogSum>);
  registry->RegisterFunction(OpType::kReduceLogSumExp, &ReduceKernel<Reduce::kLogSumExp>);
  registry->RegisterFunction(OpType::kReduceSumSquare, &ReduceKernel<Reduce::kSumSquare>);
  registry->RegisterFunction(OpType::kArgMax, &ArgKernel<true>);
  registry->RegisterFunction(OpType::kArgMin, &ArgKernel<false>);
  reduction_internal::RegisterSoftmaxKernels(registry);
}

}  // namespace shrink::engine
