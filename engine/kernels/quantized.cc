// QuantizeLinear, DequantizeLinear (default and com.microsoft domains), DynamicQuantizeLinear,
// the scale / zero-point readers shared by all quantized kernels, and the group registration.
#include <algorithm>
#include <string>
#include <vector>

#include "engine/kernels/kernel_util.h"
#include "engine/kernels/kernels.h"
#include "engine/kernels/quantized_internal.h"

namespace shrink::engine {
namespace quant {

StatusOr<std::vector<float>> ReadScales(const Node& node, const Tensor& tensor, const char* what) {
  std::vector<float> values(static_cast<size_t>(tensor.size()));
  switch (tensor.dtype()) {
    case DataType::kFloat32:
      std::copy_n(tensor.data<float>(), values.size(), values.begin());
      break;
    case DataType::kFloat16:
      for (size_t i = 0; i < values.size(); ++i) {
        values[i] = HalfToFloat(tensor.data<Float16>()[i].bits);
      }
      break;
    case DataType::kBFloat16:
      for (size_t i = 0; i < values.size(); ++i) {
        values[i] = BFloat16ToFloat(tensor.data<BFloat16>()[i].bits);
      }
      break;
    default:
      return Unimplemented(node.Describe() + ": " + what + " dtype " +
                           DataTypeName(tensor.dtype()) +
                           " is not supported (expected float32, float16 or bfloat16)");
  }
  return values;
}

StatusOr<std::vector<int32_t>> ReadZeroPoints(const Node& node, const Tensor* zp,
                                              DataType data_type, const char* what,
                                              const char* data_name, int64_t count) {
  if (zp == nullptr) return std::vector<int32_t>(size_t(count), 0);
  if (zp->dtype() != data_type) {
    return KernelError(node, std::string(what) + " has dtype " + DataTypeName(zp->dtype()) +
                                 " but " + data_name + " has dtype " + DataTypeName(data_type) +
                                 "; they must match");
  }
  if (zp->size() != count) {
    return KernelError(node, std::string(what) + " has " + std::to_string(zp->size()) +
                                 " values (shape " + ShapeToString(zp->shape()) + "), expected " +
                                 std::to_string(count));
  }
  std::vector<int32_t> values(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) values[size_t(i)] = int32_t(zp->GetAsInt64(i));
  return values;
}

StatusOr<float> ReadScalarScale(const Node& node, const Tensor& tensor, const char* what) {
  if (tensor.size() != 1) {
    return KernelError(
        node, std::string(what) + " must be a scalar, got shape " + ShapeToString(tensor.shape()));
  }
  ASSIGN_OR_RETURN(std::vector<float> values, ReadScales(node, tensor, what));
  return values[0];
}

StatusOr<int32_t> ReadScalarZeroPoint(const Node& node, const Tensor* zp, DataType data_type,
                                      const char* what, const char* data_name) {
  ASSIGN_OR_RETURN(std::vector<int32_t> values,
                   ReadZeroPoints(node, zp, data_type, what, data_name, 1));
  return values[0];
}

namespace {

// x viewed as [outer, channels, inner] around the quantization axis; channels == 1 for
// per-tensor parameters.
struct AxisLayout {
  int64_t outer = 1;
  int64_t channels = 1;
  int64_t inner = 1;
};

// Per-tensor when the scale has one element (ORT treats a one-element 1-D scale the same
// way); per-axis when it is 1-D with one value per element of x along `axis`.
StatusOr<AxisLayout> ResolveLayout(const KernelContext& context, const Tensor& x,
                                   const Tensor& scale, const char* scale_name) {
  const Node& node = context.node;
  AxisLayout layout;
  if (scale.size() == 1 && scale.rank() <= 1) {
    layout.inner = x.size();
    return layout;
  }
  if (scale.rank() != 1) {
    return KernelError(node, std::string(scale_name) + " must be a scalar or 1-D, got shape " +
                                 ShapeToString(scale.shape()));
  }
  bool ms_domain = node.op == OpType::kMsQuantizeLinear || node.op == OpType::kMsDequantizeLinear;
  if (!ms_domain && context.opset < 13) {
    return KernelError(node, "per-axis " + std::string(scale_name) +
                                 " (1-D) needs opset 13; the model has opset " +
                                 std::to_string(context.opset));
  }
  ASSIGN_OR_RETURN(int axis, NormalizeAxis(node.GetInt("axis", 1), x.rank(), node));
  if (x.rank() == 0 || scale.size() != x.dim(axis)) {
    return KernelError(node, "per-axis " + std::string(scale_name) + " has " +
                                 std::to_string(scale.size()) + " values but axis " +
                                 std::to_string(axis) + " of input shape " +
                                 ShapeToString(x.shape()) + " has " +
                                 (x.rank() == 0 ? "no extent" : std::to_string(x.dim(axis))));
  }
  for (int i = 0; i < axis; ++i) layout.outer *= x.dim(i);
  layout.channels = x.dim(axis);
  for (int i = axis + 1; i < x.rank(); ++i) layout.inner *= x.dim(i);
  return layout;
}

// Runs fn(channel, begin, end, offset) over the [outer, channels, inner] layout in parallel
// pieces of at most kPiece elements; offset is the flat index of element `begin`.
template <typename Fn>
void ForEachPiece(const ThreadPool& pool, const AxisLayout& layout, Fn&& fn) {
  constexpr int64_t kPiece = 16384;
  const int64_t rows = layout.outer * layout.channels;
  const int64_t per_row = std::max<int64_t>(1, (layout.inner + kPiece - 1) / kPiece);
  const int64_t units = rows * per_row;
  const int64_t total = rows * layout.inner;
  pool.ParallelFor(units, total < 4 * kPiece ? units : 1, [&](int64_t begin, int64_t end) {
    for (int64_t u = begin; u < end; ++u) {
      int64_t row = u / per_row, piece = u % per_row;
      int64_t lo = piece * kPiece, hi = std::min(layout.inner, lo + kPiece);
      if (lo < hi) fn(row % layout.channels, lo, hi, row * layout.inner + lo);
    }
  });
}

// x as float32: the input itself when it is float32, else a converted copy in `storage`.
StatusOr<const float*> FloatView(const Node& node, const Tensor& x, std::vector<float>* storage) {
  if (x.dtype() == DataType::kFloat32) return x.data<float>();
  storage->resize(size_t(x.size()));
  switch (x.dtype()) {
    case DataType::kFloat16:
    case DataType::kBFloat16: {
      ASSIGN_OR_RETURN(*storage, ReadScales(node, x, "input x"));
      break;
    }
    case DataType::kInt32:
      for (int64_t i = 0; i < x.size(); ++i) (*storage)[size_t(i)] = float(x.data<int32_t>()[i]);
      break;
    default:
      return UnsupportedType(node, x.dtype(), "input x");
  }
  return static_cast<const float*>(storage->data());
}

Status QuantizeLinear(KernelContext& context) {
  const Node& node = context.node;
  RETURN_IF_ERROR(ExpectInputs(context, 2, 3));
  const Tensor& x = context.input(0);
  const Tensor& scale_tensor = context.input(1);
  const Tensor* zp_tensor = quant::OptionalInput(context, 2);
  std::vector<float> x_storage;
  ASSIGN_OR_RETURN(const float* xf, FloatView(node, x, &x_storage));
  ASSIGN_OR_RETURN(AxisLayout layout, ResolveLayout(context, x, scale_tensor, "y_scale"));
  ASSIGN_OR_RETURN(std::vector<float> scales, ReadScales(node, scale_tensor, "y_scale"));
  DataType out_type = DataType::kUint8;
  if (zp_tensor) {
    out_type = zp_tensor->dtype();
  } else if (node.GetInt("output_dtype", 0) != 0) {  // opset 21 form
    out_type = DataType(node.GetInt("output_dtype", 0));
  }
  return DispatchQuantType(node, out_type, "y_zero_point", [&](auto tag) -> Status {
    using T = decltype(tag);
    ASSIGN_OR_RETURN(std::vector<int32_t> zps,
                     ReadZeroPoints(node, zp_tensor, out_type, "y_zero_point", "y_zero_point",
                                    scale_tensor.size()));
    ASSIGN_OR_RETURN(Tensor y, Tensor::Allocate(out_type, x.shape()));
    T* out = y.data<T>();
    ForEachPiece(context.pool, layout, [&](int64_t c, int64_t lo, int64_t hi, int64_t offset) {
      QuantizeSpan<T>(xf + offset, hi - lo, scales[size_t(c)], zps[size_t(c)], out + offset);
    });
    context.output(0) = std::move(y);
    return OkStatus();
  });
}

Status DequantizeLinear(KernelContext& context) {
  const Node& node = context.node;
  RETURN_IF_ERROR(ExpectInputs(context, 2, 3));
  const Tensor& x = context.input(0);
  const Tensor& scale_tensor = context.input(1);
  const Tensor* zp_tensor = quant::OptionalInput(context, 2);
  ASSIGN_OR_RETURN(AxisLayout layout, ResolveLayout(context, x, scale_tensor, "x_scale"));
  ASSIGN_OR_RETURN(std::vector<float> scales, ReadScales(node, scale_tensor, "x_scale"));
  DataType out_type = scale_tensor.dtype();
  auto run = [&](auto tag) -> Status {
    using T = decltype(tag);
    ASSIGN_OR_RETURN(
        std::vector<int32_t> zps,
        ReadZeroPoints(node, zp_tensor, x.dtype(), "x_zero_point", "input x", scale_tensor.size()));
    ASSIGN_OR_RETURN(Tensor y, Tensor::Allocate(out_type, x.shape()));
    const T* in = x.data<T>();
    ForEachPiece(context.pool, layout, [&](int64_t c, int64_t lo, int64_t hi, int64_t offset) {
      const float s = scales[size_t(c)];
      const int64_t z = zps[size_t(c)];
      const int64_t n = hi - lo;
      if (out_type == DataType::kFloat32) {
        DequantizeSpan<T>(in + offset, n, s, int32_t(z), y.data<float>() + offset);
      } else {
        std::vector<float> values(static_cast<size_t>(n));
        DequantizeSpan<T>(in + offset, n, s, int32_t(z), values.data());
        uint16_t* out = static_cast<uint16_t*>(y.raw_data()) + offset;
        const bool half = out_type == DataType::kFloat16;
        for (int64_t i = 0; i < n; ++i) {
          out[i] = half ? FloatToHalf(values[size_t(i)]) : FloatToBFloat16(values[size_t(i)]);
        }
      }
    });
    context.output(0) = std::move(y);
    return OkStatus();
  };
  if (x.dtype() == DataType::kInt32) return run(int32_t{});
  return DispatchQuantType(node, x.dtype(), "input x", run);
}

// ONNX DynamicQuantizeLinear, following the ONNX reference implementation: the range is
// widened to include 0; an all-zero (or empty) input gets y_scale = 1 / 255 and zero point 0.
// (ORT's kernel uses y_scale = 1 there; y and y_zero_point agree either way.)
Status DynamicQuantizeLinear(KernelContext& context) {
  const Node& node = context.node;
  RETURN_IF_ERROR(ExpectInputs(context, 1, 1));
  const Tensor& x = context.input(0);
  std::vector<float> x_storage;
  if (x.dtype() == DataType::kInt32) return UnsupportedType(node, x.dtype(), "input x");
  ASSIGN_OR_RETURN(const float* xf, FloatView(node, x, &x_storage));
  float lo = 0.0f, hi = 0.0f;  // the range always includes 0; NaN never wins a comparison
  for (int64_t i = 0; i < x.size(); ++i) {
    lo = xf[i] < lo ? xf[i] : lo;
    hi = xf[i] > hi ? xf[i] : hi;
  }
  const float scale = (hi == lo ? 1.0f : hi - lo) / 255.0f;
  const float zp_float = 0.0f - lo / scale;
  const int32_t zp = ClampRound(zp_float, 0.0f, 255.0f, 0);
  ASSIGN_OR_RETURN(Tensor y, Tensor::Allocate(DataType::kUint8, x.shape()));
  AxisLayout layout;
  layout.inner = x.size();
  uint8_t* out = y.data<uint8_t>();
  ForEachPiece(context.pool, layout, [&](int64_t, int64_t lo_i, int64_t hi_i, int64_t offset) {
    QuantizeSpan<uint8_t>(xf + offset, hi_i - lo_i, scale, zp, out + offset);
  });
  context.output(0) = std::move(y);
  if (context.wants_output(1)) context.output(1) = Tensor::Scalar<float>(scale);
  if (context.wants_output(2)) context.output(2) = Tensor::Scalar<uint8_t>(uint8_t(zp));
  return OkStatus();
}

}  // namespace

void RegisterQuantizeKernels(KernelRegistry* registry) {
  registry->RegisterFunction(OpType::kQuantizeLinear, &QuantizeLinear);
  registry->RegisterFunction(OpType::kMsQuantizeLinear, &QuantizeLinear);
  registry->RegisterFunction(OpType::kDequantizeLinear, &DequantizeLinear);
  registry->RegisterFunction(OpType::kMsDequantizeLinear, &DequantizeLinear);
  registry->RegisterFunction(OpType::kDynamicQuantizeLinear, &DynamicQuantizeLinear);
}

}  // namespace quant

void RegisterQuantizedKernels(KernelRegistry* registry) {
  quant::RegisterQuantizeKernels(registry);
  quant::RegisterQuantizedMatMulKernels(registry);
  quant::RegisterQuantizedConvKernels(registry);
  quant::RegisterQLinearElementwiseKernels(registry);
  quant::RegisterQLinearPoolKernels(registry);
}

}  // namespace shrink::engine
