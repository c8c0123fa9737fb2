#include "engine/quant/quant_params.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>

namespace shrink::engine::quant {
namespace {

// ORT rejects subnormal scales, and a zero scale would divide by zero in QuantizeLinear.
float NormalScale(double scale) {
  if (!(scale >= double(FLT_MIN))) return FLT_MIN;  // also catches NaN
  if (scale > double(FLT_MAX)) return FLT_MAX;
  return float(scale);
}

template <typename T>
void Store(Tensor* tensor, int64_t index, int32_t value) {
  tensor->data<T>()[index] = T(value);
}

void StoreQuantized(Tensor* tensor, int64_t index, int32_t value) {
  switch (tensor->dtype()) {
    case DataType::kUint8:
      return Store<uint8_t>(tensor, index, value);
    case DataType::kInt8:
      return Store<int8_t>(tensor, index, value);
    case DataType::kUint16:
      return Store<uint16_t>(tensor, index, value);
    case DataType::kInt16:
      return Store<int16_t>(tensor, index, value);
    default:
      return;
  }
}

// Elements of channel c are at (outer, c, inner) for the shape split around the axis.
struct ChannelLayout {
  int64_t outer = 1, channels = 1, inner = 1;
};

ChannelLayout LayoutOf(const Tensor& weight, int axis) {
  ChannelLayout layout;
  if (axis < 0) {
    layout.inner = weight.size();
    return layout;
  }
  for (int d = 0; d < axis; ++d) layout.outer *= weight.dim(d);
  layout.channels = weight.dim(axis);
  for (int d = axis + 1; d < weight.rank(); ++d) layout.inner *= weight.dim(d);
  return layout;
}

TensorRange ChannelRange(const float* w, const ChannelLayout& layout, int64_t c) {
  float lo = std::numeric_limits<float>::infinity(), hi = -lo;
  for (int64_t o = 0; o < layout.outer; ++o) {
    const float* row = w + (o * layout.channels + c) * layout.inner;
    for (int64_t i = 0; i < layout.inner; ++i) {
      lo = row[i] < lo ? row[i] : lo;
      hi = row[i] > hi ? row[i] : hi;
    }
  }
  if (!(lo <= hi)) return {0, 0};  // empty channel
  return {lo, hi};
}

}  // namespace

AffineParams ComputeParams(TensorRange range, QuantType type, bool symmetric, bool reduce_range) {
  double lo = std::min(double(range.min), 0.0);
  double hi = std::max(double(range.max), 0.0);
  int32_t qmin = QuantMin(type, reduce_range), qmax = QuantMax(type, reduce_range);
  AffineParams params;
  if (symmetric) {
    // Unsigned types put zero in the middle: 128 for uint8, 64 for 7-bit uint8, 32768 for uint16.
    params.zero_point = qmin < 0 ? 0 : (qmax + 1) / 2;
    double magnitude = std::max(-lo, hi);
    params.scale = magnitude > 0 ? NormalScale(magnitude / double(qmax - params.zero_point)) : 1;
    return params;
  }
  if (hi - lo <= 0) {
    params.zero_point = qmin;  // all-zero range: 0 maps to qmin exactly with any scale
    return params;
  }
  params.scale = NormalScale((hi - lo) / double(qmax - qmin));
  // In float, like ONNX Runtime's quantizer, so zero points match it on near-ties.
  double zp = std::nearbyint(float(qmin) - float(lo) / params.scale);
  params.zero_point = int32_t(std::clamp(zp, double(qmin), double(qmax)));
  return params;
}

StatusOr<QuantizedWeight> QuantizeWeight(const Tensor& weight,
                                         const QuantizeWeightOptions& options) {
  if (weight.dtype() != DataType::kFloat32) {
    return InvalidArgument(std::string("QuantizeWeight: expected a float32 weight, got ") +
                           DataTypeName(weight.dtype()));
  }
  if (options.axis < -1 || options.axis >= weight.rank()) {
    return InvalidArgument("QuantizeWeight: axis " + std::to_string(options.axis) +
                           " is out of range for a weight of shape " +
                           ShapeToString(weight.shape()));
  }
  DataType dtype = ToDataType(options.type);
  const int32_t qmin = QuantMin(options.type, options.reduce_range);
  const int32_t qmax = QuantMax(options.type, options.reduce_range);
  ChannelLayout layout = LayoutOf(weight, options.axis);
  Shape param_shape = options.axis < 0 ? Shape{} : Shape{layout.channels};

  QuantizedWeight result;
  result.axis = options.axis;
  ASSIGN_OR_RETURN(result.values, Tensor::Allocate(dtype, weight.shape()));
  ASSIGN_OR_RETURN(result.scale, Tensor::Allocate(DataType::kFloat32, param_shape));
  ASSIGN_OR_RETURN(result.zero_point, Tensor::Allocate(dtype, param_shape));
  const float* w = weight.data<float>();
  for (int64_t c = 0; c < layout.channels; ++c) {
    AffineParams params = ComputeParams(ChannelRange(w, layout, c), options.type, options.symmetric,
                                        options.reduce_range);
    result.scale.data<float>()[c] = params.scale;
    StoreQuantized(&result.zero_point, c, params.zero_point);
    const float lo = float(qmin - params.zero_point), hi = float(qmax - params.zero_point);
    for (int64_t o = 0; o < layout.outer; ++o) {
      int64_t base = (o * layout.channels + c) * layout.inner;
      for (int64_t i = base; i < base + layout.inner; ++i) {
        // Same steps as QuantizeLinear: divide in float, round half to even, clamp, add zp.
        float scaled = std::nearbyint(w[i] / params.scale);
        if (!(scaled >= lo && scaled <= hi)) {  // NaN maps to qmin, as in MLAS
          ++result.saturated;
          scaled = scaled > hi ? hi : lo;
        }
        int32_t q = int32_t(scaled) + params.zero_point;
        StoreQuantized(&result.values, i, q);
        float dequantized = float(q - params.zero_point) * params.scale;
        result.max_abs_error =
            std::max(result.max_abs_error, std::fabs(double(w[i]) - double(dequantized)));
      }
    }
  }
  return result;
}

StatusOr<QuantizedWeight> QuantizeBias(const Tensor& bias, float input_scale,
                                       const std::vector<float>& weight_scales) {
  if (bias.dtype() != DataType::kFloat32) {
    return InvalidArgument(std::string("QuantizeBias: expected a float32 bias, got ") +
                           DataTypeName(bias.dtype()));
  }
  bool per_channel = weight_scales.size() > 1;
  if (weight_scales.empty() || (per_channel && int64_t(weight_scales.size()) != bias.size())) {
    return InvalidArgument("QuantizeBias: " + std::to_string(weight_scales.size()) +
                           " weight scales for a bias of shape " + ShapeToString(bias.shape()));
  }
  Shape param_shape = per_channel ? Shape{int64_t(weight_scales.size())} : Shape{};
  QuantizedWeight result;
  result.axis = per_channel ? 0 : -1;
  ASSIGN_OR_RETURN(result.values, Tensor::Allocate(DataType::kInt32, bias.shape()));
  ASSIGN_OR_RETURN(result.scale, Tensor::Allocate(DataType::kFloat32, param_shape));
  ASSIGN_OR_RETURN(result.zero_point, Tensor::Allocate(DataType::kInt32, param_shape));
  constexpr double kMin = std::numeric_limits<int32_t>::min();
  constexpr double kMax = std::numeric_limits<int32_t>::max();
  for (size_t c = 0; c < weight_scales.size(); ++c) {
    result.scale.data<float>()[c] = NormalScale(double(input_scale * weight_scales[c]));
  }
  const float* b = bias.data<float>();
  for (int64_t i = 0; i < bias.size(); ++i) {
    float scale = result.scale.data<float>()[per_channel ? i : 0];
    double q = std::nearbyint(double(b[i]) / double(scale));
    if (q < kMin || q > kMax || std::isnan(q)) ++result.saturated;
    q = std::isnan(q) ? 0 : std::clamp(q, kMin, kMax);
    result.values.data<int32_t>()[i] = int32_t(q);
    result.max_abs_error = std::max(result.max_abs_error, std::fabs(double(b[i]) - q * scale));
  }
  return result;
}

void AddToScaleSummary(const QuantizedWeight& weight, ScaleSummary* summary) {
  summary->tensors += 1;
  summary->saturating_weights += weight.saturated;
  for (int64_t i = 0; i < weight.scale.size(); ++i)
    NoteScale(weight.scale.data<float>()[i], summary);
}

}  // namespace shrink::engine::quant
