// MatMul (numpy semantics: 1-D promotion, batch broadcasting) and Gemm. float32 runs on Sgemm
// (the reference path on SgemmReference); float16/bfloat16 are computed in float32; double and
// the integer types use a plain loop (integers wrap around like two's complement hardware).
#include <algorithm>
#include <limits>
#include <memory>
#include <optional>
#include <type_traits>

#include "engine/kernels/gemm.h"
#include "engine/kernels/kernel_util.h"
#include "engine/kernels/kernels.h"
#include "engine/kernels/linalg_internal.h"

namespace shrink::engine {
namespace {

// Shapes of a MatMul; batch entry i multiplies A matrix AOffset(i) by B matrix BOffset(i).
struct MatMulPlan {
  Shape out_shape;
  int64_t m = 0, k = 0, n = 0;
  Shape batch;                            // broadcast batch dims
  std::vector<int64_t> a_steps, b_steps;  // per batch dim, in elements (0 where broadcast)
  int64_t count = 1;                      // batch entries
  bool b_shared = false;                  // every batch entry uses the same B matrix
  bool a_dense = false;                   // A's matrices are consecutive, one per batch entry

  int64_t AOffset(int64_t i) const { return Offset(i, a_steps); }
  int64_t BOffset(int64_t i) const { return Offset(i, b_steps); }
  int64_t Offset(int64_t i, const std::vector<int64_t>& steps) const {
    int64_t offset = 0;
    for (size_t d = batch.size(); d-- > 0;) {
      offset += (i % batch[d]) * steps[d];
      i /= batch[d];
    }
    return offset;
  }
};

StatusOr<MatMulPlan> PlanMatMul(const Node& node, const Shape& a, const Shape& b) {
  if (a.empty() || b.empty()) {
    return KernelError(node, "inputs must have rank >= 1, got A " + ShapeToString(a) + " and B " +
                                 ShapeToString(b));
  }
  MatMulPlan plan;
  const bool a_vector = a.size() == 1, b_vector = b.size() == 1;
  plan.m = a_vector ? 1 : a[a.size() - 2];
  plan.k = a.back();
  int64_t b_rows = b_vector ? b[0] : b[b.size() - 2];
  plan.n = b_vector ? 1 : b.back();
  if (plan.k != b_rows) {
    return KernelError(node, "inner dimensions do not match: A " + ShapeToString(a) + " and B " +
                                 ShapeToString(b));
  }
  Shape a_batch(a.begin(), a.end() - (a_vector ? 1 : 2));
  Shape b_batch(b.begin(), b.end() - (b_vector ? 1 : 2));
  auto batch_or = BroadcastShapes({a_batch, b_batch});
  if (!batch_or.ok()) return KernelError(node, batch_or.status().message());
  plan.batch = *batch_or;
  plan.out_shape = plan.batch;
  if (!a_vector) plan.out_shape.push_back(plan.m);
  if (!b_vector) plan.out_shape.push_back(plan.n);
  ASSIGN_OR_RETURN(plan.count, ElementCount(plan.batch));
  plan.a_steps = BroadcastStrides(a_batch, plan.batch);
  plan.b_steps = BroadcastStrides(b_batch, plan.batch);
  for (int64_t& step : plan.a_steps) step *= plan.m * plan.k;
  for (int64_t& step : plan.b_steps) step *= plan.k * plan.n;
  ASSIGN_OR_RETURN(int64_t a_count, ElementCount(a_batch));
  ASSIGN_OR_RETURN(int64_t b_count, ElementCount(b_batch));
  plan.b_shared = b_count == 1;
  plan.a_dense = a_count == plan.count;
  return plan;
}

void MatMulFloat(const MatMulPlan& plan, const float* a, const float* b, float* y, bool reference,
                 const ThreadPool& pool) {
  const int64_t m = plan.m, n = plan.n, k = plan.k, batch = plan.count;
  if (batch == 0 || m == 0 || n == 0) return;
  if (reference) {
    for (int64_t i = 0; i < batch; ++i) {
      SgemmReference(DenseGemm(m, n, k), 1.0f, a + plan.AOffset(i), b + plan.BOffset(i), 0.0f,
                     y + i * m * n);
    }
    return;
  }
  std::optional<SingleThreadedGemm> single;
  if (batch * m * n * k < kParallelMacs) single.emplace();
  if (batch == 1 || (plan.b_shared && plan.a_dense)) {  // one GEMM: [batch*M, K] x [K, N]
    Sgemm(DenseGemm(batch * m, n, k), 1.0f, a + plan.AOffset(0), b + plan.BOffset(0), 0.0f, y);
    return;
  }
  // One parallel region over the batch; oneDNN runs single-threaded inside it.
  pool.ParallelFor(batch, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      Sgemm(DenseGemm(m, n, k), 1.0f, a + plan.AOffset(i), b + plan.BOffset(i), 0.0f,
            y + i * m * n);
    }
  });
}

// Accumulator of the plain loop: double for double, modular uint64 for integers.
template <typename T>
using LoopAcc = std::conditional_t<std::is_floating_point_v<T>, T, uint64_t>;

template <typename T>
void MatMulLoop(const T* a, const T* b, T* y, int64_t m, int64_t n, int64_t k, int64_t lda_row,
                int64_t lda_col, int64_t ldb_row, int64_t ldb_col, std::vector<LoopAcc<T>>* row) {
  using Acc = LoopAcc<T>;
  row->assign(size_t(n), Acc(0));
  Acc* acc = row->data();
  for (int64_t i = 0; i < m; ++i) {
    std::fill(acc, acc + n, Acc(0));
    for (int64_t p = 0; p < k; ++p) {
      const Acc av = Acc(a[i * lda_row + p * lda_col]);
      const T* brow = b + p * ldb_row;
      for (int64_t j = 0; j < n; ++j) acc[j] += av * Acc(brow[j * ldb_col]);
    }
    for (int64_t j = 0; j < n; ++j) y[i * n + j] = T(acc[j]);
  }
}

// Converts float16/bfloat16 tensors to float32 and back.
Tensor HalfToFloatTensor(const Tensor& t) {
  Tensor out(DataType::kFloat32, t.shape());
  const uint16_t* in = t.data<uint16_t>();
  float* dst = out.data<float>();
  bool bf16 = t.dtype() == DataType::kBFloat16;
  for (int64_t i = 0; i < t.size(); ++i)
    dst[i] = bf16 ? BFloat16ToFloat(in[i]) : HalfToFloat(in[i]);
  return out;
}

void FloatToHalfTensor(const Tensor& in, Tensor* out) {
  const float* src = in.data<float>();
  uint16_t* dst = out->data<uint16_t>();
  bool bf16 = out->dtype() == DataType::kBFloat16;
  for (int64_t i = 0; i < in.size(); ++i)
    dst[i] = bf16 ? FloatToBFloat16(src[i]) : FloatToHalf(src[i]);
}

bool IsHalf(DataType t) { return t == DataType::kFloat16 || t == DataType::kBFloat16; }

// Calls fn(T{}) for the dtypes handled by the plain loop.
template <typename Fn>
Status DispatchLoopType(const Node& node, DataType type, Fn&& fn) {
  switch (type) {
    case DataType::kFloat64:
      return fn(double{});
    case DataType::kInt32:
      return fn(int32_t{});
    case DataType::kInt64:
      return fn(int64_t{});
    case DataType::kUint32:
      return fn(uint32_t{});
    case DataType::kUint64:
      return fn(uint64_t{});
    default:
      return UnsupportedType(node, type);
  }
}

class MatMulKernel : public OpKernel {
 public:
  explicit MatMulKernel(bool reference) : reference_(reference) {}

  Status Compute(KernelContext& context) override {
    RETURN_IF_ERROR(ExpectInputs(context, 2, 2));
    const Node& node = context.node;
    const Tensor& a = context.input(0);
    const Tensor& b = context.input(1);
    if (a.dtype() != b.dtype()) {
      return KernelError(node, std::string("A and B dtypes differ: ") + DataTypeName(a.dtype()) +
                                   " and " + DataTypeName(b.dtype()));
    }
    ASSIGN_OR_RETURN(MatMulPlan plan, PlanMatMul(node, a.shape(), b.shape()));
    ASSIGN_OR_RETURN(Tensor y, Tensor::Allocate(a.dtype(), plan.out_shape));
    if (y.size() == 0) {  // also skips huge batches of empty matrices
      context.output(0) = std::move(y);
      return OkStatus();
    }
    if (a.dtype() == DataType::kFloat32) {
      MatMulFloat(plan, a.data<float>(), b.data<float>(), y.data<float>(), reference_,
                  context.pool);
    } else if (IsHalf(a.dtype())) {
      Tensor af = HalfToFloatTensor(a), bf = HalfToFloatTensor(b);
      Tensor yf(DataType::kFloat32, plan.out_shape);
      MatMulFloat(plan, af.data<float>(), bf.data<float>(), yf.data<float>(), reference_,
                  context.pool);
      FloatToHalfTensor(yf, &y);
    } else {
      RETURN_IF_ERROR(DispatchLoopType(node, a.dtype(), [&](auto tag) {
        using T = decltype(tag);
        std::vector<LoopAcc<T>> row;
        for (int64_t i = 0; i < plan.count; ++i) {
          MatMulLoop<T>(a.data<T>() + plan.AOffset(i), b.data<T>() + plan.BOffset(i),
                        y.data<T>() + i * plan.m * plan.n, plan.m, plan.n, plan.k, plan.k, 1,
                        plan.n, 1, &row);
        }
        return OkStatus();
      }));
    }
    context.output(0) = std::move(y);
    return OkStatus();
  }

 private:
  bool reference_;
};

// ---- Gemm: Y = alpha * op(A) * op(B) + beta * C ----

struct GemmAttrs {
  bool trans_a = false, trans_b = false;
  float alpha = 1, beta = 1;
};

// double -> T; integers saturate (NaN -> 0) instead of the undefined out-of-range conversion.
template <typename T>
T FromDouble(double v) {
  if constexpr (std::is_floating_point_v<T>) {
    return T(v);
  } else {
    if (!(v == v)) return T(0);
    if (v <= double(std::numeric_limits<T>::lowest())) return std::numeric_limits<T>::lowest();
    if (v >= double(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
    return T(v);
  }
}

// Fills y [M, N] with beta * C broadcast unidirectionally (C copied exactly when beta is 1).
template <typename T>
void FillBias(const Tensor& c, const Shape& out, float beta, T* y) {
  std::vector<int64_t> strides = BroadcastStrides(c.shape(), out);
  const T* cv = c.data<T>();
  for (int64_t i = 0; i < out[0]; ++i) {
    for (int64_t j = 0; j < out[1]; ++j) {
      T value = cv[i * strides[0] + j * strides[1]];
      y[i * out[1] + j] = beta == 1.0f ? value : FromDouble<T>(double(beta) * double(value));
    }
  }
}

class GemmKernel : public OpKernel {
 public:
  GemmKernel(GemmAttrs attrs, bool reference) : attrs_(attrs), reference_(reference) {}
  Status Compute(KernelContext& context) override;

 private:
  Status ComputeFloat(const Tensor& a, const Tensor& b, const Tensor* c, const GemmShape& s,
                      Tensor* y) const;
  template <typename T>
  void ComputeLoop(const Tensor& a, const Tensor& b, const Tensor* c, const GemmShape& s,
                   Tensor* y) const;

  GemmAttrs attrs_;
  bool reference_;
};

Status GemmKernel::ComputeFloat(const Tensor& a, const Tensor& b, const Tensor* c,
                                const GemmShape& s, Tensor* y) const {
  float beta = 0.0f;
  if (c) {
    FillBias<float>(*c, y->shape(), attrs_.beta, y->data<float>());
    beta = 1.0f;
  }
  if (reference_) {
    SgemmReference(s, attrs_.alpha, a.data<float>(), b.data<float>(), beta, y->data<float>());
  } else {
    std::optional<SingleThreadedGemm> single;
    if (s.m * s.n * s.k < kParallelMacs) single.emplace();
    Sgemm(s, attrs_.alpha, a.data<float>(), b.data<float>(), beta, y->data<float>());
  }
  return OkStatus();
}

template <typename T>
void GemmKernel::ComputeLoop(const Tensor& a, const Tensor& b, const Tensor* c, const GemmShape& s,
                             Tensor* y) const {
  std::vector<LoopAcc<T>> row;
  Tensor product(y->dtype(), y->shape());
  MatMulLoop<T>(a.data<T>(), b.data<T>(), product.data<T>(), s.m, s.n, s.k, s.trans_a ? 1 : s.k,
                s.trans_a ? s.m : 1, s.trans_b ? 1 : s.n, s.trans_b ? s.k : 1, &row);
  T* out = y->data<T>();
  if (c) FillBias<T>(*c, y->shape(), attrs_.beta, out);
  const T* prod = product.data<T>();
  using Acc = LoopAcc<T>;
  for (int64_t i = 0; i < y->size(); ++i) {
    T value =
        attrs_.alpha == 1.0f ? prod[i] : FromDouble<T>(double(attrs_.alpha) * double(prod[i]));
    out[i] = c ? T(Acc(value) + Acc(out[i])) : value;
  }
}

Status GemmKernel::Compute(KernelContext& context) {
  RETURN_IF_ERROR(ExpectInputs(context, 2, 3));
  const Node& node = context.node;
  const Tensor& a = context.input(0);
  const Tensor& b = context.input(1);
  const Tensor* c = context.has_input(2) ? &context.input(2) : nullptr;
  if (a.rank() != 2 || b.rank() != 2) {
    return KernelError(node, "A and B must be 2-D, got A " + ShapeToString(a.shape()) + " and B " +
                                 ShapeToString(b.shape()));
  }
  if (a.dtype() != b.dtype() || (c && c->dtype() != a.dtype())) {
    return KernelError(node, "A, B and C must have the same dtype");
  }
  GemmShape s;
  s.trans_a = attrs_.trans_a;
  s.trans_b = attrs_.trans_b;
  s.m = attrs_.trans_a ? a.dim(1) : a.dim(0);
  s.k = attrs_.trans_a ? a.dim(0) : a.dim(1);
  int64_t kb = attrs_.trans_b ? b.dim(1) : b.dim(0);
  s.n = attrs_.trans_b ? b.dim(0) : b.dim(1);
  if (s.k != kb) {
    return KernelError(node, "inner dimensions do not match: A " + ShapeToString(a.shape()) +
                                 (attrs_.trans_a ? " (transposed)" : "") + " and B " +
                                 ShapeToString(b.shape()) +
                                 (attrs_.trans_b ? " (transposed)" : ""));
  }
  s.lda = a.dim(1);
  s.ldb = b.dim(1);
  s.ldc = s.n;
  const Shape out_shape{s.m, s.n};
  if (c) {
    bool ok = c->rank() <= 2;
    for (int i = 0; ok && i < c->rank(); ++i) {
      int64_t dim = c->dim(i), want = out_shape[size_t(2 - c->rank() + i)];
      ok = dim == want || dim == 1;
    }
    if (!ok) {
      return KernelError(node, "C of shape " + ShapeToString(c->shape()) +
                                   " cannot be broadcast to " + ShapeToString(out_shape));
    }
    if (attrs_.beta == 0) c = nullptr;
  }
  ASSIGN_OR_RETURN(Tensor y, Tensor::Allocate(a.dtype(), out_shape));
  if (a.dtype() == DataType::kFloat32) {
    RETURN_IF_ERROR(ComputeFloat(a, b, c, s, &y));
  } else if (IsHalf(a.dtype())) {
    Tensor cf = c ? HalfToFloatTensor(*c) : Tensor();
    Tensor yf(DataType::kFloat32, out_shape);
    RETURN_IF_ERROR(
        ComputeFloat(HalfToFloatTensor(a), HalfToFloatTensor(b), c ? &cf : nullptr, s, &yf));
    FloatToHalfTensor(yf, &y);
  } else {
    RETURN_IF_ERROR(DispatchLoopType(node, a.dtype(), [&](auto tag) {
      ComputeLoop<decltype(tag)>(a, b, c, s, &y);
      return OkStatus();
    }));
  }
  context.output(0) = std::move(y);
  return OkStatus();
}

}  // namespace

void RegisterLinalgKernels(KernelRegistry* registry) {
  registry->Register(OpType::kMatMul,
                     [](const KernelConfig& config) -> StatusOr<std::unique_ptr<OpKernel>> {
                       return std::unique_ptr<OpKernel>(new MatMulKernel(config.reference));
                     });
  registry->Register(OpType::kGemm,
                     [](const KernelConfig& config) -> StatusOr<std::unique_ptr<OpKernel>> {
                       GemmAttrs attrs;
                       attrs.trans_a = config.node.GetInt("transA", 0) != 0;
                       attrs.trans_b = config.node.GetInt("transB", 0) != 0;
                       attrs.alpha = config.node.GetFloat("alpha", 1.0f);
                       attrs.beta = config.node.GetFloat("beta", 1.0f);
                       return std::unique_ptr<OpKernel>(new GemmKernel(attrs, config.reference));
                     });
  RegisterRecurrentKernels(registry);
  RegisterEinsumKernel(registry);
}

}  // namespace shrink::engine
