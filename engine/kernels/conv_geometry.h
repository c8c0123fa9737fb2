// Spatial geometry shared by Conv, ConvTranspose, pooling and the integer convolutions:
// kernel_shape, strides, dilations, pads and auto_pad resolved against an input shape.
#pragma once

#include <cstdint>
#include <vector>

#include "common/status.h"
#include "engine/ir/graph.h"
#include "engine/ir/tensor.h"

namespace shrink::engine {

struct ConvGeometry {
  int spatial_rank = 0;
  std::vector<int64_t> input_spatial;   // H, W, ... of the input
  std::vector<int64_t> kernel;          // kernel extent per spatial dim
  std::vector<int64_t> strides;
  std::vector<int64_t> dilations;
  std::vector<int64_t> pads_begin;
  std::vector<int64_t> pads_end;
  std::vector<int64_t> output_spatial;
  int64_t group = 1;
};

struct ConvGeometryOptions {
  bool transposed = false;  // ConvTranspose: output_padding / output_shape apply
  bool ceil_mode = false;   // pooling
};

// Row-major coordinates of `flat` within `extents` (coords must hold extents.size() values).
inline void UnravelIndex(int64_t flat, const std::vector<int64_t>& extents, int64_t* coords) {
  for (size_t d = extents.size(); d-- > 0;) {
    coords[d] = flat % extents[d];
    flat /= extents[d];
  }
}

// input: [N, C, D1, ..., Dk]; kernel_spatial: the kernel extents (from the weight shape or the
// kernel_shape attribute). Reads strides, dilations, pads, auto_pad, group, output_padding and
// output_shape from the node. Errors name the node and the inconsistent attribute.
StatusOr<ConvGeometry> ResolveConvGeometry(const Node& node, const Shape& input,
                                           const std::vector<int64_t>& kernel_spatial,
                                           const ConvGeometryOptions& options);

}  // namespace shrink::engine
