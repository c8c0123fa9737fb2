// Shared by resize.cc (attribute parsing, output shape, per-axis sampling tables) and
// resize_exec.cc (running the tables over the data).
#pragma once

#include <cstdint>
#include <vector>

#include "engine/kernels/tensor_internal.h"

namespace shrink::engine::tensor_internal {

enum class ResizeMode { kNearest, kLinear, kCubic };
enum class CoordMode {
  kHalfPixel,
  kHalfPixelSymmetric,
  kPytorchHalfPixel,
  kAlignCorners,
  kAsymmetric,
  kTfHalfPixelForNn,
  kTfCropAndResize,
};
// kSimple is Upsample / Resize-10 nearest as ORT does it: floor, or ceil when downsampling.
enum class NearestMode { kRoundPreferFloor, kRoundPreferCeil, kFloor, kCeil, kSimple };
enum class AspectPolicy { kStretch, kNotLarger, kNotSmaller };

struct ResizeAttrs {
  ResizeMode mode = ResizeMode::kNearest;
  CoordMode coord = CoordMode::kHalfPixel;
  NearestMode nearest = NearestMode::kRoundPreferFloor;
  double cubic_a = -0.75;
  bool exclude_outside = false;
  float extrapolation_value = 0.0f;
  bool antialias = false;
  AspectPolicy policy = AspectPolicy::kStretch;
};

// One axis of the resize. out_width is the real-valued output length the ONNX reference uses in
// its coordinate formulas (in_len * scale; equal to out_len when sizes are given).
struct AxisParams {
  int64_t in_len = 0;
  int64_t out_len = 0;
  double scale = 1.0;
  double out_width = 0.0;
  double roi_start = 0.0;
  double roi_end = 1.0;
};

// For each output position o: taps source indices (clamped into the input) and weights, and
// whether o falls outside the input (tf_crop_and_resize: the output is extrapolation_value).
struct AxisTable {
  int64_t in_len = 0;
  int64_t out_len = 0;
  int taps = 1;
  std::vector<int64_t> index;  // out_len * taps
  std::vector<float> weight;   // out_len * taps
  std::vector<uint8_t> outside;
  bool IsIdentity() const;
};

AxisTable BuildAxisTable(const ResizeAttrs& attrs, const AxisParams& params);

// Fills `output` (allocated, non-empty) from input 0 of `context` using one table per axis.
// `reference` disables the float32 bilinear fast path.
Status RunResize(const KernelContext& context, const ResizeAttrs& attrs,
                 const std::vector<AxisTable>& tables, bool reference, Tensor* output);

}  // namespace shrink::engine::tensor_internal
