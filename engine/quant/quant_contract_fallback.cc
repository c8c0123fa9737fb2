// TEMPORARY: minimal implementations of quant_types.h / quant_params.h so that branch k/qdq
// links and tests on its own. The real ones (quant_types.cc, quant_params.cc) come from branch
// k/calib; at merge, delete this file and its line in engine/CMakeLists.txt.
#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/quant/quant_params.h"
#include "engine/quant/quant_types.h"

namespace shrink::engine::quant {

DataType ToDataType(QuantType type) {
  switch (type) {
    case QuantType::kUint8:
      return DataType::kUint8;
    case QuantType::kInt8:
      return DataType::kInt8;
    case QuantType::kUint16:
      return DataType::kUint16;
    case QuantType::kInt16:
      return DataType::kInt16;
  }
  return DataType::kUndefined;
}

const char* QuantTypeName(QuantType type) { return DataTypeName(ToDataType(type)); }

int QuantBits(QuantType type) {
  return type == QuantType::kUint8 || type == QuantType::kInt8 ? 8 : 16;
}

int32_t QuantMin(QuantType type, bool reduce_range) {
  bool is_signed = type == QuantType::kInt8 || type == QuantType::kInt16;
  if (!is_signed) return 0;
  int bits = QuantBits(type) - (reduce_range ? 1 : 0);
  return -(1 << (bits - 1));
}

int32_t QuantMax(QuantType type, bool reduce_range) {
  bool is_signed = type == QuantType::kInt8 || type == QuantType::kInt16;
  int bits = QuantBits(type) - (reduce_range ? 1 : 0);
  return is_signed ? (1 << (bits - 1)) - 1 : (1 << bits) - 1;
}

const char* ActionName(NodeDecision::Action action) {
  switch (action) {
    case NodeDecision::Action::kQuantized:
      return "quantized";
    case NodeDecision::Action::kConverted:
      return "converted";
    case NodeDecision::Action::kFloat:
      return "float";
    case NodeDecision::Action::kExcluded:
      return "excluded";
  }
  return "?";
}

namespace {
float ClampScale(float scale) { return std::max(scale, std::numeric_limits<float>::min()); }
bool IsSigned(QuantType type) { return type == QuantType::kInt8 || type == QuantType::kInt16; }
}  // namespace

AffineParams ComputeParams(TensorRange range, QuantType type, bool symmetric, bool reduce_range) {
  float lo = std::min(range.min, 0.0f), hi = std::max(range.max, 0.0f);
  int32_t qmin = QuantMin(type, reduce_range), qmax = QuantMax(type, reduce_range);
  AffineParams params;
  if (lo == 0 && hi == 0) return params;
  if (symmetric) {
    int32_t zp = IsSigned(type) ? 0 : (qmax + 1) / 2;
    params.zero_point = zp;
    params.scale = ClampScale(std::max(-lo, hi) / float(qmax - zp));
    return params;
  }
  params.scale = ClampScale((hi - lo) / float(qmax - qmin));
  double zp = std::nearbyint(double(qmin) - double(lo) / double(params.scale));
  params.zero_point = int32_t(std::clamp<double>(zp, qmin, qmax));
  return params;
}

StatusOr<QuantizedWeight> QuantizeWeight(const Tensor& weight,
                                         const QuantizeWeightOptions& options) {
  if (weight.dtype() != DataType::kFloat32) return InvalidArgument("weight is not float32");
  if (options.axis >= weight.rank()) return InvalidArgument("weight axis out of range");
  int64_t outer = 1, channels = 1, inner = weight.size();
  if (options.axis >= 0) {
    channels = weight.dim(options.axis);
    outer = 1;
    for (int i = 0; i < options.axis; ++i) outer *= weight.dim(i);
    inner = channels == 0 ? 0 : weight.size() / outer / channels;
  }
  QuantizedWeight out;
  out.axis = options.axis;
  DataType qtype = ToDataType(options.type);
  out.values = Tensor(qtype, weight.shape());
  Shape scale_shape = options.axis >= 0 ? Shape{channels} : Shape{};
  out.scale = Tensor(DataType::kFloat32, scale_shape);
  out.zero_point = Tensor(qtype, scale_shape);
  int32_t qmin = QuantMin(options.type, options.reduce_range);
  int32_t qmax = QuantMax(options.type, options.reduce_range);
  const float* w = weight.data<float>();
  for (int64_t c = 0; c < channels; ++c) {
    TensorRange range{0, 0};
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < inner; ++i) {
        float v = w[(o * channels + c) * inner + i];
        range.min = std::min(range.min, v);
        range.max = std::max(range.max, v);
      }
    }
    AffineParams p = ComputeParams(range, options.type, options.symmetric, options.reduce_range);
    out.scale.data<float>()[c] = p.scale;
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < inner; ++i) {
        int64_t idx = (o * channels + c) * inner + i;
        double q = std::nearbyint(double(w[idx]) / p.scale) + p.zero_point;
        if (q < qmin || q > qmax) ++out.saturated;
        int32_t qi = int32_t(std::clamp<double>(q, qmin, qmax));
        out.max_abs_error = std::max(
            out.max_abs_error, std::fabs(double(w[idx]) - double(qi - p.zero_point) * p.scale));
        switch (qtype) {
          case DataType::kUint8:
            out.values.data<uint8_t>()[idx] = uint8_t(qi);
            break;
          case DataType::kInt8:
            out.values.data<int8_t>()[idx] = int8_t(qi);
            break;
          case DataType::kUint16:
            out.values.data<uint16_t>()[idx] = uint16_t(qi);
            break;
          default:
            out.values.data<int16_t>()[idx] = int16_t(qi);
            break;
        }
      }
    }
    switch (qtype) {
      case DataType::kUint8:
        out.zero_point.data<uint8_t>()[c] = uint8_t(p.zero_point);
        break;
      case DataType::kInt8:
        out.zero_point.data<int8_t>()[c] = int8_t(p.zero_point);
        break;
      case DataType::kUint16:
        out.zero_point.data<uint16_t>()[c] = uint16_t(p.zero_point);
        break;
      default:
        out.zero_point.data<int16_t>()[c] = int16_t(p.zero_point);
        break;
    }
  }
  return out;
}

StatusOr<QuantizedWeight> QuantizeBias(const Tensor& bias, float input_scale,
                                       const std::vector<float>& weight_scales) {
  if (bias.dtype() != DataType::kFloat32 || bias.rank() != 1) {
    return InvalidArgument("bias must be 1-D float32");
  }
  bool per_channel = weight_scales.size() > 1;
  if (per_channel && int64_t(weight_scales.size()) != bias.size()) {
    return InvalidArgument("bias size does not match the weight scales");
  }
  QuantizedWeight out;
  out.values = Tensor(DataType::kInt32, bias.shape());
  out.axis = per_channel ? 0 : -1;
  Shape scale_shape = per_channel ? Shape{bias.size()} : Shape{};
  out.scale = Tensor(DataType::kFloat32, scale_shape);
  out.zero_point = Tensor(DataType::kInt32, scale_shape);
  for (int64_t c = 0; c < bias.size(); ++c) {
    float s = ClampScale(input_scale * weight_scales[per_channel ? size_t(c) : 0]);
    if (per_channel || c == 0) out.scale.data<float>()[per_channel ? c : 0] = s;
    double q = std::nearbyint(double(bias.data<float>()[c]) / s);
    double lim = std::numeric_limits<int32_t>::max();
    if (q > lim || q < -lim) ++out.saturated;
    out.values.data<int32_t>()[c] = int32_t(std::clamp(q, -lim, lim));
  }
  return out;
}

}  // namespace shrink::engine::quant
