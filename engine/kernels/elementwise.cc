// Binary, variadic and selection elementwise kernels: Add Sub Mul Div Pow Mod BitShift, the
// comparisons, And Or Xor, Max Min Sum Mean, PRelu and Where, plus the machinery declared in
// elementwise_internal.h and the registration of the whole group (unary ops and Cast live in
// elementwise_math.cc).
#include <climits>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <string>

#include "engine/kernels/elementwise_internal.h"
#include "engine/kernels/kernels.h"

namespace shrink::engine {
namespace elementwise {
namespace {

class EwKernel : public OpKernel {
 public:
  EwKernel(EwFunction function, bool reference) : function_(function), reference_(reference) {}
  Status Compute(KernelContext& context) override { return function_(context, reference_); }

 private:
  EwFunction function_;
  bool reference_;
};

}  // namespace

void RegisterEw(KernelRegistry* registry, OpType op, EwFunction function) {
  registry->Register(op, [function](const KernelConfig& config) {
    return StatusOr<std::unique_ptr<OpKernel>>(
        std::make_unique<EwKernel>(function, config.reference));
  });
}

bool UseAvx2() {
  static const bool supported = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return supported;
}

Tensor HalfToFloatTensor(const Tensor& tensor) {
  Tensor out(DataType::kFloat32, tensor.shape());
  const uint16_t* in = static_cast<const uint16_t*>(tensor.raw_data());
  float* dst = out.data<float>();
  if (tensor.dtype() == DataType::kFloat16) {
    for (int64_t i = 0; i < tensor.size(); ++i) dst[i] = HalfToFloat(in[i]);
  } else {
    for (int64_t i = 0; i < tensor.size(); ++i) dst[i] = BFloat16ToFloat(in[i]);
  }
  return out;
}

Tensor FloatToHalfTensor(const Tensor& tensor, DataType half_type) {
  Tensor out(half_type, tensor.shape());
  const float* in = tensor.data<float>();
  uint16_t* dst = static_cast<uint16_t*>(out.raw_data());
  if (half_type == DataType::kFloat16) {
    for (int64_t i = 0; i < tensor.size(); ++i) dst[i] = FloatToHalf(in[i]);
  } else {
    for (int64_t i = 0; i < tensor.size(); ++i) dst[i] = FloatToBFloat16(in[i]);
  }
  return out;
}

Tensor WidenHalf(const Tensor& tensor) {
  return IsHalf(tensor.dtype()) ? HalfToFloatTensor(tensor) : tensor;
}

Status ExpectSameTypes(const KernelContext& context, int first, int last) {
  for (int i = first; i < last; ++i) {
    if (!context.has_input(i)) {
      return KernelError(context.node, "required input " + std::to_string(i) + " is missing");
    }
    DataType type = context.input(i).dtype();
    if (type != context.input(first).dtype()) {
      return KernelError(context.node, "input " + std::to_string(i) + " has dtype " +
                                           DataTypeName(type) + " but input " +
                                           std::to_string(first) + " has dtype " +
                                           DataTypeName(context.input(first).dtype()));
    }
  }
  return OkStatus();
}

StatusOr<BroadcastPlan> MakeBroadcastPlan(const Node& node, const Shape& output_shape,
                                          const std::vector<Shape>& inputs) {
  BroadcastPlan plan;
  plan.output_shape = output_shape;
  ASSIGN_OR_RETURN(plan.size, ElementCount(output_shape));
  const size_t rank = output_shape.size();
  for (const Shape& shape : inputs) {
    bool fits = shape.size() <= rank;
    for (size_t i = 0; fits && i < shape.size(); ++i) {
      int64_t dim = shape[i];
      fits = dim == 1 || dim == output_shape[rank - shape.size() + i];
    }
    if (!fits) {
      return KernelError(node, "shape " + ShapeToString(shape) + " cannot be broadcast to " +
                                   ShapeToString(output_shape));
    }
    plan.full_strides.push_back(BroadcastStrides(shape, output_shape));
  }
  plan.strides.resize(inputs.size());
  for (size_t d = 0; d < rank; ++d) {
    if (output_shape[d] == 1) continue;
    bool merge = !plan.dims.empty();
    for (size_t k = 0; k < inputs.size() && merge; ++k) {
      merge = plan.strides[k].back() == plan.full_strides[k][d] * output_shape[d];
    }
    if (merge) {
      plan.dims.back() *= output_shape[d];
      for (size_t k = 0; k < inputs.size(); ++k) plan.strides[k].back() = plan.full_strides[k][d];
    } else {
      plan.dims.push_back(output_shape[d]);
      for (size_t k = 0; k < inputs.size(); ++k) plan.strides[k].push_back(plan.full_strides[k][d]);
    }
  }
  if (plan.dims.empty()) {
    plan.dims.push_back(1);
    for (auto& strides : plan.strides) strides.push_back(0);
  }
  return plan;
}

StatusOr<BroadcastPlan> PlanFor(const Node& node, const std::vector<const Tensor*>& inputs) {
  std::vector<Shape> shapes;
  for (const Tensor* tensor : inputs) shapes.push_back(tensor->shape());
  StatusOr<Shape> output_shape = BroadcastShapes(shapes);
  if (!output_shape.ok()) return KernelError(node, output_shape.status().message());
  return MakeBroadcastPlan(node, *output_shape, shapes);
}

namespace {

// ---- Binary loops -------------------------------------------------------------------------

template <typename A, typename B, typename Out, typename Op>
SHRINK_INLINE void BinaryRunImpl(const A* a, bool a_vec, const B* b, bool b_vec, Out* out,
                                 int64_t n, const Op& op_ref) {
  const Op op = op_ref;  // a local copy: stores to out cannot alias its parameters
  if (a_vec && b_vec) {
    for (int64_t i = 0; i < n; ++i) out[i] = op(a[i], b[i]);
  } else if (a_vec) {
    const B bv = *b;
    for (int64_t i = 0; i < n; ++i) out[i] = op(a[i], bv);
  } else if (b_vec) {
    const A av = *a;
    for (int64_t i = 0; i < n; ++i) out[i] = op(av, b[i]);
  } else {
    const Out value = op(*a, *b);
    for (int64_t i = 0; i < n; ++i) out[i] = value;
  }
}

template <typename A, typename B, typename Out, typename Op>
void BinaryRun(const A* a, bool a_vec, const B* b, bool b_vec, Out* out, int64_t n,
               const Op& op) {
  BinaryRunImpl(a, a_vec, b, b_vec, out, n, op);
}

template <typename A, typename B, typename Out, typename Op>
SHRINK_AVX2 void BinaryRunAvx2(const A* a, bool a_vec, const B* b, bool b_vec, Out* out,
                               int64_t n, const Op& op) {
  BinaryRunImpl(a, a_vec, b, b_vec, out, n, op);
}

// out = op(a, b) over inputs 0 and 1 of `plan`.
template <typename A, typename B, typename Out, typename Op>
void BinaryLoop(const ThreadPool& pool, const BroadcastPlan& plan, const A* a, const B* b,
                Out* out, const Op& op, bool reference) {
  if (reference) {
    ForEachElementReference<2>(plan, [&](int64_t i, const std::array<int64_t, 2>& offsets) {
      out[i] = op(a[offsets[0]], b[offsets[1]]);
    });
    return;
  }
  const bool a_vec = plan.inner_contiguous(0);
  const bool b_vec = plan.inner_contiguous(1);
  constexpr bool kFloatLoop = std::is_same_v<A, float>;
  const bool avx2 = kFloatLoop && UseAvx2();
  pool.ParallelFor(plan.size, kCheapChunk, [&](int64_t begin, int64_t end) {
    ForEachRun<2>(plan, begin, end,
                  [&](int64_t o, const std::array<int64_t, 2>& offsets, int64_t n) {
                    const A* ap = a + offsets[0];
                    const B* bp = b + offsets[1];
                    if constexpr (kFloatLoop) {
                      if (avx2) return BinaryRunAvx2(ap, a_vec, bp, b_vec, out + o, n, op);
                    }
                    BinaryRun(ap, a_vec, bp, b_vec, out + o, n, op);
                  });
  });
}

// ---- Scalar operations ----------------------------------------------------------------------

// Integer arithmetic wraps (in unsigned types, avoiding signed-overflow UB and int promotion).
template <typename T, typename = void>
struct UnsignedOf {
  using type = T;
};
template <typename T>
struct UnsignedOf<T, std::enable_if_t<kIsInt<T>>> {
  using type = std::conditional_t<(sizeof(T) < 4), uint32_t, std::make_unsigned_t<T>>;
};
template <typename T>
using Unsigned = typename UnsignedOf<T>::type;

template <typename T>
using IfArith = std::enable_if_t<kIsArith<T>, int>;
template <typename T>
using IfArithOrBool = std::enable_if_t<kIsArith<T> || std::is_same_v<T, bool>, int>;

struct AddOp {
  template <typename T, IfArith<T> = 0>
  T operator()(T a, T b) const { return T(Unsigned<T>(a) + Unsigned<T>(b)); }
};
struct SubOp {
  template <typename T, IfArith<T> = 0>
  T operator()(T a, T b) const { return T(Unsigned<T>(a) - Unsigned<T>(b)); }
};
struct MulOp {
  template <typename T, IfArith<T> = 0>
  T operator()(T a, T b) const { return T(Unsigned<T>(a) * Unsigned<T>(b)); }
};
// Integer division truncates like C; x / 0 gives 0 rather than trapping (ONNX leaves it open).
struct DivOp {
  template <typename T, IfArith<T> = 0>
  T operator()(T a, T b) const {
    if constexpr (kIsFloat<T>) {
      return a / b;
    } else {
      if (b == 0) return 0;
      if constexpr (std::is_signed_v<T>) {
        if (b == -1) return T(Unsigned<T>(0) - Unsigned<T>(a));
      }
      return T(a / b);
    }
  }
};
// fmod=1: C fmod / % (sign of the dividend). fmod=0: the sign of the divisor (Python-style).
struct ModOp {
  bool fmod = false;
  template <typename T, IfArith<T> = 0>
  T operator()(T a, T b) const {
    T r;
    if constexpr (kIsFloat<T>) {
      r = std::fmod(a, b);
    } else {
      if (b == 0) return 0;
      if constexpr (std::is_signed_v<T>) {
        if (b == -1) return 0;
      }
      r = T(a % b);
    }
    if constexpr (std::is_signed_v<T>) {
      if (!fmod && r != 0 && ((r < 0) != (b < 0))) r = T(r + b);
    }
    return r;
  }
};
struct BitShiftOp {
  bool left = true;
  template <typename T, std::enable_if_t<kIsInt<T> && std::is_unsigned_v<T>, int> = 0>
  T operator()(T a, T b) const {
    if (b >= T(sizeof(T) * 8)) return 0;
    return left ? T(a << b) : T(a >> b);
  }
};
// Max and Min propagate NaN like numpy.maximum / numpy.minimum.
struct MaxOp {
  template <typename T, IfArith<T> = 0>
  T operator()(T a, T b) const {
    if constexpr (kIsFloat<T>) return a < b ? b : (b == b ? a : b);
    return a < b ? b : a;
  }
};
struct MinOp {
  template <typename T, IfArith<T> = 0>
  T operator()(T a, T b) const {
    if constexpr (kIsFloat<T>) return b < a ? b : (b == b ? a : b);
    return b < a ? b : a;
  }
};
struct PReluOp {
  template <typename T, IfArith<T> = 0>
  T operator()(T x, T slope) const {
    if constexpr (std::is_unsigned_v<T>) {
      return x;
    } else {
      return Select(x < 0, MulOp()(x, slope), x);
    }
  }
};
struct EqualOp {
  template <typename T, IfArithOrBool<T> = 0>
  bool operator()(T a, T b) const { return a == b; }
};
struct LessOp {
  template <typename T, IfArith<T> = 0>
  bool operator()(T a, T b) const { return a < b; }
};
struct LessOrEqualOp {
  template <typename T, IfArith<T> = 0>
  bool operator()(T a, T b) const { return a <= b; }
};
struct GreaterOp {
  template <typename T, IfArith<T> = 0>
  bool operator()(T a, T b) const { return a > b; }
};
struct GreaterOrEqualOp {
  template <typename T, IfArith<T> = 0>
  bool operator()(T a, T b) const { return a >= b; }
};
template <typename T>
using IfBool = std::enable_if_t<std::is_same_v<T, bool>, int>;
struct AndOp {
  template <typename T, IfBool<T> = 0>
  bool operator()(T a, T b) const { return a & b; }
};
struct OrOp {
  template <typename T, IfBool<T> = 0>
  bool operator()(T a, T b) const { return a | b; }
};
struct XorOp {
  template <typename T, IfBool<T> = 0>
  bool operator()(T a, T b) const { return a ^ b; }
};

// ---- Kernels ------------------------------------------------------------------------------

// A binary op over two inputs of one dtype, broadcast (or, for PRelu, the second input
// broadcast to the first). Float16/bfloat16 are computed in float32. The output has the input
// dtype, or bool when kBoolOut.
template <bool kBoolOut, typename Op>
Status SameTypeBinary(KernelContext& context, bool reference, const Op& op,
                      bool unidirectional = false) {
  RETURN_IF_ERROR(ExpectInputs(context, 2, 2));
  RETURN_IF_ERROR(ExpectSameTypes(context, 0, 2));
  const DataType type = context.input(0).dtype();
  const Tensor a = WidenHalf(context.input(0));
  const Tensor b = WidenHalf(context.input(1));
  ASSIGN_OR_RETURN(BroadcastPlan plan, PlanFor(context.node, {&a, &b}));
  if (unidirectional && plan.output_shape != a.shape()) {
    return KernelError(context.node, "shape " + ShapeToString(b.shape()) +
                                         " cannot be broadcast to " + ShapeToString(a.shape()));
  }
  Tensor out;
  RETURN_IF_ERROR(DispatchNumeric(a.dtype(), [&](auto tag) -> Status {
    using T = decltype(tag);
    if constexpr (!std::is_invocable_v<const Op&, T, T>) {
      return UnsupportedType(context.node, type);
    } else {
      using Out = std::conditional_t<kBoolOut, bool, T>;
      ASSIGN_OR_RETURN(out, Tensor::AllocateUninitialized(DataTypeOf<Out>::value, plan.output_shape));
      BinaryLoop(context.pool, plan, a.data<T>(), b.data<T>(), out.data<Out>(), op, reference);
      return OkStatus();
    }
  }));
  context.output(0) = (IsHalf(type) && !kBoolOut) ? FloatToHalfTensor(out, type) : out;
  return OkStatus();
}

template <typename Op, bool kBoolOut = false>
Status BinaryKernel(KernelContext& context, bool reference) {
  return SameTypeBinary<kBoolOut>(context, reference, Op());
}

Status PReluKernel(KernelContext& context, bool reference) {
  return SameTypeBinary<false>(context, reference, PReluOp(), /*unidirectional=*/true);
}

Status ModKernel(KernelContext& context, bool reference) {
  return SameTypeBinary<false>(context, reference, ModOp{context.node.GetInt("fmod", 0) != 0});
}

Status BitShiftKernel(KernelContext& context, bool reference) {
  std::string direction = context.node.GetString("direction", "");
  if (direction != "LEFT" && direction != "RIGHT") {
    return KernelError(context.node, "direction must be LEFT or RIGHT, got '" + direction + "'");
  }
  return SameTypeBinary<false>(context, reference, BitShiftOp{direction == "LEFT"});
}

// ---- Pow ----------------------------------------------------------------------------------

// Integer powers wrap like repeated multiplication; negative exponents truncate 1 / a^-b.
template <typename T, typename E>
T IntPow(T base, E exponent) {
  if (exponent < 0) {
    if (base == 1) return 1;
    if constexpr (std::is_signed_v<T>) {
      if (base == -1) return (exponent & 1) ? T(-1) : T(1);
    }
    return 0;
  }
  Unsigned<T> result = 1, factor = Unsigned<T>(base);
  for (uint64_t e = uint64_t(exponent); e != 0; e >>= 1) {
    if (e & 1) result = Unsigned<T>(result * factor);
    factor = Unsigned<T>(factor * factor);
  }
  return T(result);
}

struct PowOp {
  template <typename T, typename E>
  T operator()(T base, E exponent) const {
    if constexpr (std::is_same_v<T, float> && std::is_same_v<E, float>) {
      return std::pow(base, exponent);
    } else if constexpr (kIsFloat<T>) {
      return T(std::pow(double(base), double(exponent)));
    } else if constexpr (kIsInt<E>) {
      return IntPow(base, exponent);
    } else {
      return FloatToInt<T>(std::pow(double(base), double(exponent)));
    }
  }
};

// Pow(x, c) for a constant float32 exponent with an exact cheaper form.
template <typename E>
bool PowFloatShortcut(KernelContext& context, const BroadcastPlan& plan, const float* base,
                      const E* exponent, float* out) {
  const double e = double(exponent[0]);
  if (e == 2) {
    BinaryLoop(context.pool, plan, base, exponent, out, [](float x, E) { return x * x; }, false);
  } else if (e == 0.5) {
    BinaryLoop(context.pool, plan, base, exponent, out,
               [](float x, E) { return std::sqrt(x); }, false);
  } else if (e == 1) {
    BinaryLoop(context.pool, plan, base, exponent, out, [](float x, E) { return x; }, false);
  } else {
    return false;
  }
  return true;
}

Status PowKernel(KernelContext& context, bool reference) {
  RETURN_IF_ERROR(ExpectInputs(context, 2, 2));
  const DataType type = context.input(0).dtype();
  const Tensor base = WidenHalf(context.input(0));
  const Tensor exponent = WidenHalf(context.input(1));
  ASSIGN_OR_RETURN(BroadcastPlan plan, PlanFor(context.node, {&base, &exponent}));
  Tensor out;
  RETURN_IF_ERROR(DispatchArith(base.dtype(), [&](auto base_tag) -> Status {
    using T = decltype(base_tag);
    ASSIGN_OR_RETURN(out, Tensor::AllocateUninitialized(base.dtype(), plan.output_shape));
    return DispatchArith(exponent.dtype(), [&](auto exponent_tag) -> Status {
      using E = decltype(exponent_tag);
      const T* b = base.data<T>();
      const E* e = exponent.data<E>();
      if constexpr (std::is_same_v<T, float>) {
        if (!reference && exponent.size() == 1 &&
            PowFloatShortcut(context, plan, b, e, out.data<float>())) {
          return OkStatus();
        }
      }
      BinaryLoop(context.pool, plan, b, e, out.data<T>(), PowOp(), reference);
      return OkStatus();
    });
  }));
  context.output(0) = IsHalf(type) ? FloatToHalfTensor(out, type) : out;
  return OkStatus();
}

// ---- Variadic: Max Min Sum Mean -------------------------------------------------------------

// Folds the inputs left to right into buffers of the broadcast shape (ping-pong between two
// buffers, so no loop reads and writes the same memory).
template <typename T, typename Op>
StatusOr<Tensor> FoldInputs(KernelContext& context, const std::vector<Tensor>& inputs,
                            const Shape& shape, const Op& op, bool reference) {
  if (inputs.size() == 1) return inputs[0].Clone();
  const DataType type = DataTypeOf<T>::value;
  ASSIGN_OR_RETURN(Tensor acc, Tensor::Allocate(type, shape));
  Tensor spare;
  const Tensor* left = &inputs[0];
  for (size_t k = 1; k < inputs.size(); ++k) {
    Tensor* dst = &acc;
    if (left == &acc) {
      if (!spare.defined()) {
        ASSIGN_OR_RETURN(spare, Tensor::Allocate(type, shape));
      }
      dst = &spare;
    }
    ASSIGN_OR_RETURN(BroadcastPlan plan,
                     MakeBroadcastPlan(context.node, shape, {left->shape(), inputs[k].shape()}));
    BinaryLoop(context.pool, plan, left->data<T>(), inputs[k].data<T>(), dst->data<T>(), op,
               reference);
    if (dst == &spare) std::swap(acc, spare);
    left = &acc;
  }
  return acc;
}

// Max, Min, Sum and Mean over one or more inputs of one dtype, all broadcast together.
template <typename Op, bool kMean = false>
Status VariadicKernel(KernelContext& context, bool reference) {
  const int count = context.num_inputs();
  RETURN_IF_ERROR(ExpectInputs(context, 1, INT_MAX));
  RETURN_IF_ERROR(ExpectSameTypes(context, 0, count));
  const DataType type = context.input(0).dtype();
  std::vector<Tensor> inputs;
  std::vector<Shape> shapes;
  for (int i = 0; i < count; ++i) {
    inputs.push_back(WidenHalf(context.input(i)));
    shapes.push_back(inputs.back().shape());
  }
  StatusOr<Shape> shape = BroadcastShapes(shapes);
  if (!shape.ok()) return KernelError(context.node, shape.status().message());
  Tensor out;
  RETURN_IF_ERROR(DispatchArith(inputs[0].dtype(), [&](auto tag) -> Status {
    using T = decltype(tag);
    if constexpr (kMean) {
      ASSIGN_OR_RETURN(out, FoldInputs<T>(context, inputs, *shape, AddOp(), reference));
      T* data = out.data<T>();
      for (int64_t i = 0; i < out.size(); ++i) data[i] = DivOp()(data[i], T(count));
    } else {
      ASSIGN_OR_RETURN(out, FoldInputs<T>(context, inputs, *shape, Op(), reference));
    }
    return OkStatus();
  }));
  context.output(0) = IsHalf(type) ? FloatToHalfTensor(out, type) : out;
  return OkStatus();
}

// ---- Where --------------------------------------------------------------------------------

// One run of Where; kC/kX/kY say which operands advance (contiguous) within the run.
template <bool kC, bool kX, bool kY, typename T>
void WhereRun(const bool* c, const T* x, const T* y, T* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const T a = x[kX ? i : 0];  // both loaded unconditionally, so the select vectorizes
    const T b = y[kY ? i : 0];
    out[i] = c[kC ? i : 0] ? a : b;
  }
}

template <typename T>
void WhereLoop(const ThreadPool& pool, const BroadcastPlan& plan, const bool* c, const T* x,
               const T* y, T* out, bool reference) {
  if (reference) {
    ForEachElementReference<3>(plan, [&](int64_t i, const std::array<int64_t, 3>& offsets) {
      out[i] = c[offsets[0]] ? x[offsets[1]] : y[offsets[2]];
    });
    return;
  }
  using Run = void (*)(const bool*, const T*, const T*, T*, int64_t);
  static constexpr Run kRuns[8] = {
      WhereRun<false, false, false, T>, WhereRun<false, false, true, T>,
      WhereRun<false, true, false, T>,  WhereRun<false, true, true, T>,
      WhereRun<true, false, false, T>,  WhereRun<true, false, true, T>,
      WhereRun<true, true, false, T>,   WhereRun<true, true, true, T>};
  const Run run = kRuns[plan.inner_contiguous(0) * 4 + plan.inner_contiguous(1) * 2 +
                        plan.inner_contiguous(2)];
  pool.ParallelFor(plan.size, kCheapChunk, [&](int64_t begin, int64_t end) {
    ForEachRun<3>(plan, begin, end, [&](int64_t o, const std::array<int64_t, 3>& off, int64_t n) {
      run(c + off[0], x + off[1], y + off[2], out + o, n);
    });
  });
}

Status WhereKernel(KernelContext& context, bool reference) {
  RETURN_IF_ERROR(ExpectInputs(context, 3, 3));
  RETURN_IF_ERROR(ExpectSameTypes(context, 1, 3));
  const Tensor& cond = context.input(0);
  const Tensor& x = context.input(1);
  const Tensor& y = context.input(2);
  if (cond.dtype() != DataType::kBool) return UnsupportedType(context.node, cond.dtype(), "condition");
  ASSIGN_OR_RETURN(BroadcastPlan plan, PlanFor(context.node, {&cond, &x, &y}));
  ASSIGN_OR_RETURN(Tensor out, Tensor::AllocateUninitialized(x.dtype(), plan.output_shape));
  const bool* c = cond.data<bool>();
  auto run = [&](auto tag) {
    using T = decltype(tag);
    WhereLoop(context.pool, plan, c, static_cast<const T*>(x.raw_data()),
              static_cast<const T*>(y.raw_data()), static_cast<T*>(out.raw_data()), reference);
  };
  switch (x.dtype() == DataType::kString ? 0 : DataTypeSize(x.dtype())) {
    case 0: {
      if (x.dtype() != DataType::kString) return UnsupportedType(context.node, x.dtype());
      WhereLoop(context.pool, plan, c, x.strings().data(), y.strings().data(),
                out.strings().data(), /*reference=*/true);
      break;
    }
    case 1: run(uint8_t{}); break;
    case 2: run(uint16_t{}); break;
    case 4: run(uint32_t{}); break;
    case 8: run(uint64_t{}); break;
    default: return UnsupportedType(context.node, x.dtype());
  }
  context.output(0) = std::move(out);
  return OkStatus();
}

}  // namespace
}  // namespace elementwise

void RegisterElementwiseKernels(KernelRegistry* registry) {
  using namespace elementwise;  // NOLINT
  struct Entry {
    OpType op;
    EwFunction function;
  };
  static const Entry kEntries[] = {
      {OpType::kAdd, &BinaryKernel<AddOp>},
      {OpType::kSub, &BinaryKernel<SubOp>},
      {OpType::kMul, &BinaryKernel<MulOp>},
      {OpType::kDiv, &BinaryKernel<DivOp>},
      {OpType::kPow, &PowKernel},
      {OpType::kMod, &ModKernel},
      {OpType::kBitShift, &BitShiftKernel},
      {OpType::kPRelu, &PReluKernel},
      {OpType::kEqual, &BinaryKernel<EqualOp, true>},
      {OpType::kLess, &BinaryKernel<LessOp, true>},
      {OpType::kLessOrEqual, &BinaryKernel<LessOrEqualOp, true>},
      {OpType::kGreater, &BinaryKernel<GreaterOp, true>},
      {OpType::kGreaterOrEqual, &BinaryKernel<GreaterOrEqualOp, true>},
      {OpType::kAnd, &BinaryKernel<AndOp, true>},
      {OpType::kOr, &BinaryKernel<OrOp, true>},
      {OpType::kXor, &BinaryKernel<XorOp, true>},
      {OpType::kMax, &VariadicKernel<MaxOp>},
      {OpType::kMin, &VariadicKernel<MinOp>},
      {OpType::kSum, &VariadicKernel<AddOp>},
      {OpType::kMean, &VariadicKernel<AddOp, true>},
      {OpType::kWhere, &WhereKernel},
  };
  for (const Entry& entry : kEntries) RegisterEw(registry, entry.op, entry.function);
  RegisterElementwiseMathKernels(registry);
}

}  // namespace shrink::engine
