#include "engine/kernels/conv_geometry.h"

#include <string>

#include "engine/kernels/kernel_util.h"

namespace shrink::engine {
namespace {

Status ReadPerAxis(const Node& node, const char* name, int rank, int64_t fallback,
                   std::vector<int64_t>* out) {
  std::vector<int64_t> values = node.GetInts(name);
  if (values.empty()) {
    out->assign(size_t(rank), fallback);
    return OkStatus();
  }
  if (int(values.size()) != rank) {
    return KernelError(node, std::string(name) + " has " + std::to_string(values.size()) +
                                 " values, expected " + std::to_string(rank));
  }
  *out = std::move(values);
  return OkStatus();
}

// Forward output extent with explicit padding.
int64_t ForwardExtent(int64_t in, int64_t k, int64_t stride, int64_t dilation, int64_t pad_total,
                      bool ceil_mode) {
  int64_t effective = dilation * (k - 1) + 1;
  int64_t span = in + pad_total - effective;
  if (span < 0) return 0;
  return ceil_mode ? (span + stride - 1) / stride + 1 : span / stride + 1;
}

}  // namespace

StatusOr<ConvGeometry> ResolveConvGeometry(const Node& node, const Shape& input,
                                           const std::vector<int64_t>& kernel_spatial,
                                           const ConvGeometryOptions& options) {
  if (input.size() < 3) {
    return KernelError(node, "input must have rank >= 3 (N, C, spatial...), got shape " +
                                 ShapeToString(input));
  }
  ConvGeometry g;
  g.spatial_rank = int(input.size()) - 2;
  int rank = g.spatial_rank;
  g.input_spatial.assign(input.begin() + 2, input.end());
  if (int(kernel_spatial.size()) != rank) {
    return KernelError(node, "kernel has " + std::to_string(kernel_spatial.size()) +
                                 " spatial dims but the input has " + std::to_string(rank));
  }
  g.kernel = kernel_spatial;
  for (int64_t k : g.kernel) {
    if (k <= 0) return KernelError(node, "kernel extents must be positive");
  }
  RETURN_IF_ERROR(ReadPerAxis(node, "strides", rank, 1, &g.strides));
  RETURN_IF_ERROR(ReadPerAxis(node, "dilations", rank, 1, &g.dilations));
  for (int i = 0; i < rank; ++i) {
    if (g.strides[size_t(i)] <= 0 || g.dilations[size_t(i)] <= 0) {
      return KernelError(node, "strides and dilations must be positive");
    }
  }
  g.group = node.GetInt("group", 1);
  if (g.group <= 0) return KernelError(node, "group must be positive");

  std::vector<int64_t> pads = node.GetInts("pads");
  if (pads.empty()) pads.assign(size_t(2 * rank), 0);
  if (int(pads.size()) != 2 * rank) {
    return KernelError(node, "pads has " + std::to_string(pads.size()) + " values, expected " +
                                 std::to_string(2 * rank));
  }
  for (int64_t p : pads) {
    if (p < 0) return KernelError(node, "pads must be non-negative");
  }
  g.pads_begin.assign(pads.begin(), pads.begin() + rank);
  g.pads_end.assign(pads.begin() + rank, pads.end());
  std::string auto_pad = node.GetString("auto_pad", "NOTSET");

  std::vector<int64_t> output_padding;
  if (options.transposed) RETURN_IF_ERROR(ReadPerAxis(node, "output_padding", rank, 0, &output_padding));
  std::vector<int64_t> output_shape = node.GetInts("output_shape");
  if (options.transposed && !output_shape.empty() && int(output_shape.size()) != rank) {
    if (int(output_shape.size()) == rank + 2) {
      output_shape.erase(output_shape.begin(), output_shape.begin() + 2);
    } else {
      return KernelError(node, "output_shape must have one value per spatial dim");
    }
  }

  g.output_spatial.resize(size_t(rank));
  for (int i = 0; i < rank; ++i) {
    size_t a = size_t(i);
    int64_t in = g.input_spatial[a], k = g.kernel[a], s = g.strides[a], d = g.dilations[a];
    int64_t effective = d * (k - 1) + 1;
    if (!options.transposed) {
      if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
        int64_t out = (in + s - 1) / s;
        int64_t total = std::max<int64_t>(0, (out - 1) * s + effective - in);
        int64_t small = total / 2, large = total - small;
        g.pads_begin[a] = auto_pad == "SAME_UPPER" ? small : large;
        g.pads_end[a] = auto_pad == "SAME_UPPER" ? large : small;
        g.output_spatial[a] = out;
      } else if (auto_pad == "VALID") {
        g.pads_begin[a] = g.pads_end[a] = 0;
        g.output_spatial[a] = ForwardExtent(in, k, s, d, 0, options.ceil_mode);
      } else if (auto_pad == "NOTSET" || auto_pad.empty()) {
        g.output_spatial[a] = ForwardExtent(in, k, s, d, g.pads_begin[a] + g.pads_end[a],
                                            options.ceil_mode);
        if (options.ceil_mode) {
          // Recompute exactly per ONNX: the last window must start within input + left pad.
          int64_t span = in + g.pads_begin[a] + g.pads_end[a] - effective;
          int64_t out = span < 0 ? 0 : (span + s - 1) / s + 1;
          if (out > 0 && (out - 1) * s >= in + g.pads_begin[a]) --out;
          g.output_spatial[a] = out;
        }
      } else {
        return KernelError(node, "unknown auto_pad '" + auto_pad + "'");
      }
      if (g.output_spatial[a] <= 0) {
        return KernelError(node, "the kernel (extent " + std::to_string(effective) +
                                     ") is larger than the padded input (" +
                                     std::to_string(in + g.pads_begin[a] + g.pads_end[a]) + ")");
      }
    } else {
      int64_t out_pad = output_padding[a];
      if (!output_shape.empty()) {
        int64_t out = output_shape[a];
        int64_t total = s * (in - 1) + out_pad + effective - out;
        if (total < 0) total = 0;
        bool upper = auto_pad != "SAME_LOWER";
        int64_t small = total / 2, large = total - small;
        g.pads_begin[a] = upper ? small : large;
        g.pads_end[a] = upper ? large : small;
        g.output_spatial[a] = out;
      } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
        int64_t out = in * s;
        int64_t total = std::max<int64_t>(0, s * (in - 1) + out_pad + effective - out);
        int64_t small = total / 2, large = total - small;
        g.pads_begin[a] = auto_pad == "SAME_UPPER" ? small : large;
        g.pads_end[a] = auto_pad == "SAME_UPPER" ? large : small;
        g.output_spatial[a] = out;
      } else {
        if (auto_pad == "VALID") g.pads_begin[a] = g.pads_end[a] = 0;
        g.output_spatial[a] =
            s * (in - 1) + out_pad + effective - g.pads_begin[a] - g.pads_end[a];
      }
      if (g.output_spatial[a] <= 0) return KernelError(node, "output extent is not positive");
    }
  }
  return g;
}

}  // namespace shrink::engine
