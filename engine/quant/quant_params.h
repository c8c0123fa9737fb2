// Scale / zero-point arithmetic: from a real range to affine parameters, and quantized weight
// tensors (per-tensor or per-channel). Pure functions; no graph knowledge.
#pragma once

#include <cstdint>
#include <vector>

#include "common/status.h"
#include "engine/ir/tensor.h"
#include "engine/quant/quant_types.h"

namespace shrink::engine::quant {

struct AffineParams {
  float scale = 1;
  int32_t zero_point = 0;
};

// Parameters for an activation range. The range is first widened to include 0 (so that zero
// padding is exact). Symmetric: zero point 0 for signed types and the middle of the range
// (128 / 32768) for unsigned ones, scale = max(|min|, |max|) / (qmax - zp). Asymmetric: scale =
// (max - min) / (qmax - qmin) and a rounded, clamped zero point. A degenerate range (all zeros)
// gives scale 1. Scales are never below the smallest normal float (ORT rejects subnormals).
AffineParams ComputeParams(TensorRange range, QuantType type, bool symmetric,
                           bool reduce_range = false);

struct QuantizeWeightOptions {
  QuantType type = QuantType::kInt8;
  int axis = -1;          // per-channel axis; -1 = per-tensor
  bool symmetric = true;  // weights are symmetric by default (zero point 0 for int8)
  bool reduce_range = false;
};

struct QuantizedWeight {
  Tensor values;      // integer tensor, same shape as the float weight
  Tensor scale;       // float32: scalar (per-tensor) or 1-D [channels]
  Tensor zero_point;  // of `values`' dtype, shaped like `scale`
  int axis = -1;
  int64_t saturated = 0;     // values that hit the clamp (0 for min/max ranges, >0 only if clipped)
  double max_abs_error = 0;  // max |w - dequant(q(w))|
};

// Quantizes a float32 weight (round half to even, like QuantizeLinear). Fails on non-float
// input or an axis out of range.
StatusOr<QuantizedWeight> QuantizeWeight(const Tensor& weight,
                                         const QuantizeWeightOptions& options);

// Counts a quantized weight in a summary: one tensor, its saturated values and its scales.
void AddToScaleSummary(const QuantizedWeight& weight, ScaleSummary* summary);

// Bias for an integer op: int32 with scale input_scale * weight_scale[c] and zero point 0.
// `weight_scales` has 1 (per-tensor) or C entries.
StatusOr<QuantizedWeight> QuantizeBias(const Tensor& bias, float input_scale,
                                       const std::vector<float>& weight_scales);

}  // namespace shrink::engine::quant
