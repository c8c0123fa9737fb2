// MatMulInteger, QLinearMatMul and the com.microsoft MatMulIntegerToFloat and
// DynamicQuantizeMatMul: one batched integer matmul (exact int32) with an op-specific epilogue.
//
// Zero points and scales of A may be per tensor or per row (shape [M] or [..., M, 1]); those
// of B per tensor or per column ([N] or [..., 1, N]). Batch dims broadcast like MatMul.
#include "engine/kernels/quantized_matmul.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/kernels/kernel_util.h"

namespace shrink::engine::quant {
namespace {

enum class MatMulKind { kInteger, kQLinear, kIntegerToFloat, kDynamicQuantize };

// Input indices per kind: {a, b, a_scale, a_zp, b_scale, b_zp, y_scale, y_zp, bias}; -1 = none.
struct InputMap {
  int a, b, a_scale, a_zp, b_scale, b_zp, y_scale, y_zp, bias;
};
InputMap InputsOf(MatMulKind kind) {
  switch (kind) {
    case MatMulKind::kInteger:
      return {0, 1, -1, 2, -1, 3, -1, -1, -1};
    case MatMulKind::kQLinear:
      return {0, 3, 1, 2, 4, 5, 6, 7, -1};
    case MatMulKind::kIntegerToFloat:
      return {0, 1, 2, 4, 3, 5, -1, -1, 6};
    case MatMulKind::kDynamicQuantize:
      return {0, 1, -1, -1, 2, 3, -1, -1, 4};
  }
  return {};
}

StatusOr<MatMulPlan> MakeMatMulPlan(const Node& node, const Shape& a_in, const Shape& b_in) {
  if (a_in.empty() || b_in.empty()) return KernelError(node, "inputs must have rank >= 1");
  Shape a = a_in.size() == 1 ? Shape{1, a_in[0]} : a_in;
  Shape b = b_in.size() == 1 ? Shape{b_in[0], 1} : b_in;
  MatMulPlan p;
  p.m = a[a.size() - 2];
  p.k = a.back();
  p.n = b.back();
  if (b[b.size() - 2] != p.k) {
    return KernelError(node, "inner dimensions do not match: A " + ShapeToString(a_in) + ", B " +
                                 ShapeToString(b_in));
  }
  p.a_batch_shape.assign(a.begin(), a.end() - 2);
  p.b_batch_shape.assign(b.begin(), b.end() - 2);
  auto batch = BroadcastShapes({p.a_batch_shape, p.b_batch_shape});
  if (!batch.ok()) return KernelError(node, batch.status().message());
  p.out_shape = *batch;
  if (a_in.size() > 1) p.out_shape.push_back(p.m);
  if (b_in.size() > 1) p.out_shape.push_back(p.n);
  for (int64_t d : p.a_batch_shape) p.a_batches *= d;
  for (int64_t d : p.b_batch_shape) p.b_batches *= d;
  if (p.b_batches == 1 && p.b_batch_shape.size() <= batch->size()) {
    int64_t out_batches = 1;
    for (int64_t d : *batch) out_batches *= d;
    if (out_batches == p.a_batches) {  // B broadcasts over all of A: fold A's batches into M
      p.m *= p.a_batches;
      p.a_batch.assign(1, 0);
      p.b_batch.assign(1, 0);
      return p;
    }
  }
  const Shape& out_batch = *batch;
  std::vector<int64_t> sa = BroadcastStrides(p.a_batch_shape, out_batch);
  std::vector<int64_t> sb = BroadcastStrides(p.b_batch_shape, out_batch);
  for (int64_t d : out_batch) p.batches *= d;
  std::vector<int64_t> index(out_batch.size(), 0);
  for (int64_t i = 0; i < p.batches; ++i) {
    int64_t ia = 0, ib = 0;
    for (size_t d = 0; d < index.size(); ++d) {
      ia += index[d] * sa[d];
      ib += index[d] * sb[d];
    }
    p.a_batch.push_back(ia);
    p.b_batch.push_back(ib);
    for (int d = int(index.size()) - 1; d >= 0; --d) {
      if (++index[size_t(d)] < out_batch[size_t(d)]) break;
      index[size_t(d)] = 0;
    }
  }
  return p;
}

// Expands a parameter of shape `shape` to one value per element of `target` (numpy rules).
template <typename V>
StatusOr<std::vector<V>> Expand(const Node& node, const std::vector<V>& values, const Shape& shape,
                                const Shape& target, const char* what) {
  int64_t count = 1;
  for (int64_t d : target) count *= d;
  if (values.size() == 1) return std::vector<V>(size_t(count), values[0]);
  bool ok = shape.size() <= target.size();
  for (size_t i = 0; ok && i < shape.size(); ++i) {
    int64_t t = target[target.size() - shape.size() + i];
    ok = shape[i] == t || shape[i] == 1;
  }
  if (!ok) {
    return KernelError(node, std::string(what) + " of shape " + ShapeToString(shape) +
                                 " does not fit " + ShapeToString(target) +
                                 " (per tensor, per row of A or per column of B)");
  }
  std::vector<int64_t> strides = BroadcastStrides(shape, target);
  std::vector<V> out(static_cast<size_t>(count));
  std::vector<int64_t> index(target.size(), 0);
  for (int64_t i = 0; i < count; ++i) {
    int64_t src = 0;
    for (size_t d = 0; d < index.size(); ++d) src += index[d] * strides[d];
    out[size_t(i)] = values[size_t(src)];
    for (int d = int(index.size()) - 1; d >= 0; --d) {
      if (++index[size_t(d)] < target[size_t(d)]) break;
      index[size_t(d)] = 0;
    }
  }
  return out;
}

// Shape of an A-side (row) parameter as broadcast against [a_batch..., M, 1]; a 1-D [M] is
// read as per-row.
Shape RowTarget(const MatMulPlan& p, int64_t m_unfolded) {
  Shape t = p.a_batch_shape;
  t.push_back(m_unfolded);
  t.push_back(1);
  return t;
}
Shape RowParamShape(const Tensor& t, int64_t m_unfolded) {
  if (t.rank() == 1 && t.dim(0) == m_unfolded) return {m_unfolded, 1};
  return t.shape();
}
Shape ColTarget(const MatMulPlan& p) {
  Shape t = p.b_batch_shape;
  t.push_back(1);
  t.push_back(p.n);
  return t;
}

class IntegerMatMulKernel : public OpKernel {
 public:
  IntegerMatMulKernel(MatMulKind kind, const KernelConfig& config)
      : kind_(kind), reference_(config.reference) {
    // B (with its zero point) known before the run is packed once, on first use.
    const InputMap in = InputsOf(kind);
    auto constant = [&](int i) {
      return i >= 0 && i < int(config.constant_inputs.size()) && config.constant_inputs[size_t(i)];
    };
    constant_b_ = constant(in.b) && (!config.node.HasInput(in.b_zp) || constant(in.b_zp));
  }

  Status Compute(KernelContext& context) override;

 private:
  Status ReadMatMulOperands(KernelContext& context, const MatMulPlan& plan, Tensor* a_quantized,
                            MatMulOperands* ops) const;
  void Run(const ThreadPool& pool, const MatMulPlan& plan, const MatMulOperands& ops,
           const MatMulEpilogue& epilogue);
  void RunReference(const MatMulPlan& plan, const MatMulOperands& ops,
                    const MatMulEpilogue& epilogue) const;

  MatMulKind kind_;
  bool reference_;
  bool constant_b_ = false;
  PackedB packed_b_;
};

void IntegerMatMulKernel::Run(const ThreadPool& pool, const MatMulPlan& plan,
                              const MatMulOperands& ops, const MatMulEpilogue& epilogue) {
  const bool vnni = ActiveGemmIsa() == GemmIsa::kVnni;
  PackedB local;
  PackedB* packed = constant_b_ ? &packed_b_ : &local;
  if (!constant_b_ || !packed->Matches(plan, ops, vnni)) PackB(plan, ops, vnni, packed);
  if (vnni) {
    RunMatMulVnni(plan, ops, *packed, pool, epilogue);
  } else {
    RunMatMulS16(plan, ops, *packed, pool, epilogue);
  }
}

// A float tensor quantized to uint8 the way ORT's DynamicQuantizeMatMul does it (scale 1 for
// an all-zero input), so the integer product matches ORT exactly.
Tensor DynamicQuantize(const Tensor& a, float* scale, int32_t* zp) {
  const float* x = a.data<float>();
  float lo = 0.0f, hi = 0.0f;
  for (int64_t i = 0; i < a.size(); ++i) {
    lo = x[i] < lo ? x[i] : lo;
    hi = x[i] > hi ? x[i] : hi;
  }
  *scale = hi == lo ? 1.0f : (hi - lo) / 255.0f;
  *zp = ClampRound(0.0f - lo / *scale, 0.0f, 255.0f, 0);
  Tensor q(DataType::kUint8, a.shape());
  QuantizeSpan<uint8_t>(x, a.size(), *scale, *zp, q.data<uint8_t>());
  return q;
}

Status IntegerMatMulKernel::ReadMatMulOperands(KernelContext& context, const MatMulPlan& plan,
                                               Tensor* a_quantized, MatMulOperands* ops) const {
  const Node& node = context.node;
  const InputMap in = InputsOf(kind_);
  const Tensor& a = context.input(in.a);
  const Tensor& b = context.input(in.b);
  int64_t m_unfolded = a.rank() == 1 ? 1 : a.dim(a.rank() - 2);
  Shape row_target = RowTarget(plan, m_unfolded), col_target = ColTarget(plan);
  auto read_zp = [&](int index, DataType type, const char* what, const char* data_name, bool row,
                     std::vector<int32_t>* out) -> Status {
    const Tensor* t = index >= 0 ? OptionalInput(context, index) : nullptr;
    if (t == nullptr) {
      out->assign(1, 0);
    } else {
      ASSIGN_OR_RETURN(*out, ReadZeroPoints(node, t, type, what, data_name, t->size()));
    }
    Shape shape = t ? (row ? RowParamShape(*t, m_unfolded) : t->shape()) : Shape{};
    ASSIGN_OR_RETURN(*out, Expand(node, *out, shape, row ? row_target : col_target, what));
    return OkStatus();
  };
  auto read_scale = [&](int index, const char* what, bool row, std::vector<float>* out) {
    const Tensor& t = context.input(index);
    ASSIGN_OR_RETURN(*out, ReadScales(node, t, what));
    Shape shape = row ? RowParamShape(t, m_unfolded) : t.shape();
    ASSIGN_OR_RETURN(*out, Expand(node, *out, shape, row ? row_target : col_target, what));
    return OkStatus();
  };
  ops->b_type = b.dtype();
  ops->b = b.raw_data();
  RETURN_IF_ERROR(Dispatch8Bit(node, b.dtype(), "input B", [](auto) { return OkStatus(); }));
  if (kind_ == MatMulKind::kDynamicQuantize) {
    if (a.dtype() != DataType::kFloat32) return UnsupportedType(node, a.dtype(), "input A");
    float scale;
    int32_t zp;
    *a_quantized = DynamicQuantize(a, &scale, &zp);
    ops->a_type = DataType::kUint8;
    ops->a = a_quantized->raw_data();
    ops->a_zp.assign(size_t(plan.a_batches * m_unfolded), zp);
    ops->a_scale.assign(ops->a_zp.size(), scale);
  } else {
    RETURN_IF_ERROR(Dispatch8Bit(node, a.dtype(), "input A", [](auto) { return OkStatus(); }));
    ops->a_type = a.dtype();
    ops->a = a.raw_data();
    RETURN_IF_ERROR(read_zp(in.a_zp, a.dtype(), "a_zero_point", "input A", true, &ops->a_zp));
    if (in.a_scale >= 0) RETURN_IF_ERROR(read_scale(in.a_scale, "a_scale", true, &ops->a_scale));
  }
  RETURN_IF_ERROR(read_zp(in.b_zp, b.dtype(), "b_zero_point", "input B", false, &ops->b_zp));
  if (in.b_scale >= 0) RETURN_IF_ERROR(read_scale(in.b_scale, "b_scale", false, &ops->b_scale));
  if (in.y_scale >= 0) {
    ASSIGN_OR_RETURN(ops->y_scale, ReadScalarScale(node, context.input(in.y_scale), "y_scale"));
    const Tensor* y_zp = OptionalInput(context, in.y_zp);
    ops->y_type = y_zp ? y_zp->dtype() : a.dtype();
    RETURN_IF_ERROR(
        Dispatch8Bit(node, ops->y_type, "y_zero_point", [](auto) { return OkStatus(); }));
    ASSIGN_OR_RETURN(ops->y_zp,
                     ReadScalarZeroPoint(node, y_zp, ops->y_type, "y_zero_point", "y_zero_point"));
  }
  if (in.bias >= 0 && context.has_input(in.bias)) {
    const Tensor& bias = context.input(in.bias);
    if (bias.size() != plan.n) {
      return KernelError(node, "bias has shape " + ShapeToString(bias.shape()) + ", expected " +
                                   std::to_string(plan.n) + " values (one per column)");
    }
    ASSIGN_OR_RETURN(ops->bias, ReadScales(node, bias, "bias"));
  }
  return OkStatus();
}

// The oracle: sums straight from the inputs, no packing, tiling or threads.
void IntegerMatMulKernel::RunReference(const MatMulPlan& plan, const MatMulOperands& ops,
                                       const MatMulEpilogue& epilogue) const {
  const int64_t m = plan.m, n = plan.n, k = plan.k;
  std::vector<int32_t> c(static_cast<size_t>(n));
  for (int64_t batch = 0; batch < plan.batches; ++batch) {
    const int64_t ia = plan.a_batch[size_t(batch)], ib = plan.b_batch[size_t(batch)];
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        int64_t sum = 0;
        for (int64_t p = 0; p < k; ++p) {
          int64_t av =
              CodeAt(ops.a_type, ops.a, (ia * m + i) * k + p) - ops.a_zp[size_t(ia * m + i)];
          int64_t bv =
              CodeAt(ops.b_type, ops.b, (ib * k + p) * n + j) - ops.b_zp[size_t(ib * n + j)];
          sum += av * bv;
        }
        c[size_t(j)] = int32_t(uint32_t(uint64_t(sum)));
      }
      epilogue(batch, i, 1, 0, n, c.data());
    }
  }
}

// Requantizes int32 sums to T: y = sat(round(acc * (a_scale * b_scale) / y_scale) + y_zp).
template <typename T>
MatMulEpilogue QLinearEpilogue(const MatMulPlan& plan, const MatMulOperands& ops, Tensor* y) {
  const int64_t m = plan.m, n = plan.n;
  // With one A scale (the usual case) the multipliers depend on the column only.
  const bool a_uniform = std::all_of(ops.a_scale.begin(), ops.a_scale.end(),
                                     [&](float v) { return v == ops.a_scale[0]; });
  auto col_mult = std::make_shared<std::vector<float>>(ops.b_scale.size());
  for (size_t j = 0; a_uniform && j < ops.b_scale.size(); ++j) {
    // ORT's order: (a_scale * b_scale) / y_scale.
    (*col_mult)[j] = ops.a_scale[0] * ops.b_scale[j] / ops.y_scale;
  }
  T* out = y->data<T>();
  return [&plan, &ops, out, m, n, a_uniform, col_mult](int64_t batch, int64_t m0, int64_t rows,
                                                       int64_t n0, int64_t cols, const int32_t* c) {
    const int64_t ia = plan.a_batch[size_t(batch)], ib = plan.b_batch[size_t(batch)];
    std::vector<float> row_mult;
    for (int64_t i = 0; i < rows; ++i) {
      const float* mult = col_mult->data() + ib * n + n0;
      if (!a_uniform) {
        const float a_scale = ops.a_scale[size_t(ia * m + m0 + i)];
        row_mult.resize(size_t(cols));
        for (int64_t j = 0; j < cols; ++j) {
          row_mult[size_t(j)] = a_scale * ops.b_scale[size_t(ib * n + n0 + j)] / ops.y_scale;
        }
        mult = row_mult.data();
      }
      RequantizeSpanPerElement<T>(c + i * cols, mult, cols, ops.y_zp,
                                  out + (batch * m + m0 + i) * n + n0);
    }
  };
}

// y = float(acc) * (a_scale * b_scale) + bias, in ORT's order (no fused multiply-add).
MatMulEpilogue ToFloatEpilogue(const MatMulPlan& plan, const MatMulOperands& ops, Tensor* y) {
  const int64_t m = plan.m, n = plan.n;
  float* out = y->data<float>();
  return [&plan, &ops, out, m, n](int64_t batch, int64_t m0, int64_t rows, int64_t n0, int64_t cols,
                                  const int32_t* c) {
    const int64_t ia = plan.a_batch[size_t(batch)], ib = plan.b_batch[size_t(batch)];
    const float* b_scale = ops.b_scale.data() + ib * n + n0;
    for (int64_t i = 0; i < rows; ++i) {
      const float a_scale = ops.a_scale[size_t(ia * m + m0 + i)];
      float* row = out + (batch * m + m0 + i) * n + n0;
      const int32_t* acc = c + i * cols;
      for (int64_t j = 0; j < cols; ++j) row[j] = float(acc[j]) * (a_scale * b_scale[j]);
      if (!ops.bias.empty()) {
        for (int64_t j = 0; j < cols; ++j) row[j] += ops.bias[size_t(n0 + j)];
      }
    }
  };
}

MatMulEpilogue IntegerEpilogue(const MatMulPlan& plan, Tensor* y) {
  const int64_t m = plan.m, n = plan.n;
  int32_t* out = y->data<int32_t>();
  return [out, m, n](int64_t batch, int64_t m0, int64_t rows, int64_t n0, int64_t cols,
                     const int32_t* c) {
    for (int64_t i = 0; i < rows; ++i) {
      std::copy_n(c + i * cols, cols, out + (batch * m + m0 + i) * n + n0);
    }
  };
}

Status IntegerMatMulKernel::Compute(KernelContext& context) {
  const Node& node = context.node;
  const InputMap in = InputsOf(kind_);
  static constexpr int kMaxInputs[] = {4, 8, 7, 5};
  RETURN_IF_ERROR(ExpectInputs(context, 2, kMaxInputs[int(kind_)]));
  for (int required : {in.a, in.b, in.a_scale, in.b_scale, in.y_scale}) {
    if (required >= 0 && !context.has_input(required)) {
      return KernelError(node, "required input " + std::to_string(required) + " is missing");
    }
  }
  ASSIGN_OR_RETURN(MatMulPlan plan,
                   MakeMatMulPlan(node, context.input(in.a).shape(), context.input(in.b).shape()));
  Tensor a_quantized;
  MatMulOperands ops;
  RETURN_IF_ERROR(ReadMatMulOperands(context, plan, &a_quantized, &ops));
  DataType out_type = kind_ == MatMulKind::kInteger   ? DataType::kInt32
                      : kind_ == MatMulKind::kQLinear ? ops.y_type
                                                      : DataType::kFloat32;
  ASSIGN_OR_RETURN(Tensor y, Tensor::Allocate(out_type, plan.out_shape));
  MatMulEpilogue epilogue;
  if (kind_ == MatMulKind::kInteger) {
    epilogue = IntegerEpilogue(plan, &y);
  } else if (kind_ == MatMulKind::kQLinear) {
    epilogue = out_type == DataType::kUint8 ? QLinearEpilogue<uint8_t>(plan, ops, &y)
                                            : QLinearEpilogue<int8_t>(plan, ops, &y);
  } else {
    epilogue = ToFloatEpilogue(plan, ops, &y);
  }
  if (plan.m > 0 && plan.n > 0) {
    if (reference_) {
      RunReference(plan, ops, epilogue);
    } else {
      Run(context.pool, plan, ops, epilogue);
    }
  }
  context.output(0) = std::move(y);
  return OkStatus();
}

KernelFactory Factory(MatMulKind kind) {
  return [kind](const KernelConfig& config) -> StatusOr<std::unique_ptr<OpKernel>> {
    return std::unique_ptr<OpKernel>(new IntegerMatMulKernel(kind, config));
  };
}

}  // namespace

void RegisterQuantizedMatMulKernels(KernelRegistry* registry) {
  registry->Register(OpType::kMatMulInteger, Factory(MatMulKind::kInteger));
  registry->Register(OpType::kQLinearMatMul, Factory(MatMulKind::kQLinear));
  registry->Register(OpType::kMsMatMulIntegerToFloat, Factory(MatMulKind::kIntegerToFloat));
  registry->Register(OpType::kMsDynamicQuantizeMatMul, Factory(MatMulKind::kDynamicQuantize));
}

}  // namespace shrink::engine::quant
