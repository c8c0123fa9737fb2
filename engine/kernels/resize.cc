// Resize (opsets 10, 11, 13, 18) and Upsample (7, 9). Each resized axis gets a table of source
// indices and weights (the ONNX reference's 1-D interpolation, including antialias and
// exclude_outside); nearest mode is a gather, linear/cubic run one separable pass per axis, and
// float32 bilinear over the last two axes (NCHW feature maps) has a direct 2-D kernel.
#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/kernels/resize_internal.h"

namespace shrink::engine::tensor_internal {
namespace {

// ONNX coordinate transformation of output coordinate x to an input coordinate on one axis.
double SourceCoordinate(const ResizeAttrs& attrs, const AxisParams& p, double x) {
  double in = double(p.in_len);
  switch (attrs.coord) {
    case CoordMode::kHalfPixel:
      return (x + 0.5) / p.scale - 0.5;
    case CoordMode::kHalfPixelSymmetric: {
      double adjustment = double(p.out_len) / p.out_width;
      double offset = in / 2 * (1 - adjustment);
      return offset + (x + 0.5) / p.scale - 0.5;
    }
    case CoordMode::kPytorchHalfPixel:
      return p.out_width == 1 ? -0.5 : (x + 0.5) / p.scale - 0.5;
    case CoordMode::kAlignCorners:
      return p.out_width == 1 ? 0.0 : x * (in - 1) / (p.out_width - 1);
    case CoordMode::kAsymmetric:
      return x / p.scale;
    case CoordMode::kTfHalfPixelForNn:
      return (x + 0.5) / p.scale;
    case CoordMode::kTfCropAndResize: {
      double span = (p.roi_end - p.roi_start) * (in - 1);
      double base = p.roi_start * (in - 1);
      return p.out_width == 1 ? base + span / 2 : base + x * span / (p.out_width - 1);
    }
  }
  return x;
}

int64_t NearestIndex(NearestMode mode, double x, double scale) {
  double lower = std::floor(x);
  if (x == lower) return int64_t(x);
  double frac = x - lower;
  switch (mode) {
    case NearestMode::kRoundPreferFloor:
      return int64_t(frac <= 0.5 ? lower : lower + 1);
    case NearestMode::kRoundPreferCeil:
      return int64_t(frac < 0.5 ? lower : lower + 1);
    case NearestMode::kFloor:
      return int64_t(lower);
    case NearestMode::kCeil:
      return int64_t(lower + 1);
    case NearestMode::kSimple:
      return scale < 1 ? int64_t(std::ceil(x)) : int64_t(x);
  }
  return int64_t(lower);
}

// Interpolation kernel at distance t (linear tent or Keys cubic with parameter a).
double Kernel(ResizeMode mode, double a, double t) {
  t = std::abs(t);
  if (mode == ResizeMode::kLinear) return std::max(0.0, 1 - t);
  if (t <= 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a;
  return 0.0;
}

// Offset of the first neighbor (the kernel has 2 - 2 * start taps). Antialiasing widens the
// kernel by 1 / scale when downsampling.
double FirstTap(const ResizeAttrs& attrs, double scale) {
  if (attrs.mode == ResizeMode::kNearest) return 0;
  double support_scale = attrs.antialias ? std::min(scale, 1.0) : 1.0;
  double reach = attrs.mode == ResizeMode::kCubic ? 2.0 : 1.0;
  return std::floor(-reach / support_scale) + 1;
}

}  // namespace

AxisTable BuildAxisTable(const ResizeAttrs& attrs, const AxisParams& p) {
  AxisTable table;
  table.in_len = p.in_len;
  table.out_len = p.out_len;
  bool nearest = attrs.mode == ResizeMode::kNearest;
  double support_scale = attrs.antialias && !nearest ? std::min(p.scale, 1.0) : 1.0;
  int64_t start = int64_t(FirstTap(attrs, p.scale));
  table.taps = nearest ? 1 : int(2 - 2 * start);
  size_t n = size_t(p.out_len) * size_t(table.taps);
  table.index.assign(n, 0);
  table.weight.assign(n, 0.0f);
  table.outside.assign(size_t(p.out_len), 0);
  std::vector<double> w(size_t(table.taps));
  for (int64_t o = 0; o < p.out_len; ++o) {
    double x = SourceCoordinate(attrs, p, double(o));
    if (attrs.coord == CoordMode::kTfCropAndResize && (x < 0 || x > double(p.in_len - 1))) {
      table.outside[size_t(o)] = 1;
    }
    int64_t* idx = &table.index[size_t(o) * size_t(table.taps)];
    float* wt = &table.weight[size_t(o) * size_t(table.taps)];
    if (nearest) {
      idx[0] = std::clamp<int64_t>(NearestIndex(attrs.nearest, x, p.scale), 0, p.in_len - 1);
      wt[0] = 1.0f;
      continue;
    }
    // Neighbors x0 + i for i in [start, start + taps) with ratio = x - x0 in (0, 1].
    double x0 = std::ceil(x) - 1;
    double ratio = x - x0;
    double sum = 0;
    for (int i = 0; i < table.taps; ++i) {
      w[size_t(i)] = Kernel(attrs.mode, attrs.cubic_a, support_scale * (double(start + i) - ratio));
      sum += w[size_t(i)];
    }
    bool normalize = attrs.antialias;
    if (attrs.exclude_outside) {
      sum = 0;
      for (int i = 0; i < table.taps; ++i) {
        double src = x0 + double(start + i);
        if (src < 0 || src >= double(p.in_len)) w[size_t(i)] = 0;
        sum += w[size_t(i)];
      }
      normalize = true;
    }
    for (int i = 0; i < table.taps; ++i) {
      double src = std::clamp(x0 + double(start + i), 0.0, double(p.in_len - 1));
      idx[i] = int64_t(src);
      wt[i] = float(normalize && sum != 0 ? w[size_t(i)] / sum : w[size_t(i)]);
    }
  }
  // Collapse to one tap when every output takes exactly one input (identity axes, integral
  // coordinates).
  if (table.taps > 1) {
    std::vector<int64_t> single(size_t(p.out_len));
    bool collapsible = true;
    for (int64_t o = 0; o < p.out_len && collapsible; ++o) {
      int hits = 0;
      for (int i = 0; i < table.taps; ++i) {
        float v = table.weight[size_t(o * table.taps + i)];
        if (v == 0.0f) continue;
        if (v != 1.0f) collapsible = false;
        single[size_t(o)] = table.index[size_t(o * table.taps + i)];
        ++hits;
      }
      collapsible = collapsible && hits == 1;
    }
    if (collapsible) {
      table.taps = 1;
      table.index = std::move(single);
      table.weight.assign(size_t(p.out_len), 1.0f);
    }
  }
  return table;
}

bool AxisTable::IsIdentity() const {
  if (taps != 1 || in_len != out_len) return false;
  for (int64_t o = 0; o < out_len; ++o) {
    if (index[size_t(o)] != o || outside[size_t(o)]) return false;
  }
  return true;
}

namespace {

StatusOr<CoordMode> ParseCoordMode(const Node& node, const std::string& name) {
  if (name == "half_pixel") return CoordMode::kHalfPixel;
  if (name == "half_pixel_symmetric") return CoordMode::kHalfPixelSymmetric;
  if (name == "pytorch_half_pixel") return CoordMode::kPytorchHalfPixel;
  if (name == "align_corners") return CoordMode::kAlignCorners;
  if (name == "asymmetric") return CoordMode::kAsymmetric;
  if (name == "tf_half_pixel_for_nn") return CoordMode::kTfHalfPixelForNn;
  if (name == "tf_crop_and_resize") return CoordMode::kTfCropAndResize;
  return KernelError(node, "unknown coordinate_transformation_mode '" + name + "'");
}

StatusOr<NearestMode> ParseNearestMode(const Node& node, const std::string& name) {
  if (name == "round_prefer_floor") return NearestMode::kRoundPreferFloor;
  if (name == "round_prefer_ceil") return NearestMode::kRoundPreferCeil;
  if (name == "floor") return NearestMode::kFloor;
  if (name == "ceil") return NearestMode::kCeil;
  return KernelError(node, "unknown nearest_mode '" + name + "'");
}

StatusOr<ResizeAttrs> ReadAttrs(const KernelContext& context, bool upsample) {
  const Node& node = context.node;
  ResizeAttrs attrs;
  std::string mode = node.GetString("mode", "nearest");
  if (mode == "nearest") {
    attrs.mode = ResizeMode::kNearest;
  } else if (mode == "linear" || mode == "bilinear") {
    attrs.mode = ResizeMode::kLinear;
  } else if (mode == "cubic" && !upsample && context.opset >= 11) {
    attrs.mode = ResizeMode::kCubic;
  } else {
    return KernelError(node, "unsupported mode '" + mode + "'");
  }
  if (upsample || context.opset < 11) {
    // Upsample and Resize-10 sample at x / scale; nearest rounds as ORT does ("simple").
    attrs.coord = CoordMode::kAsymmetric;
    attrs.nearest = NearestMode::kSimple;
    return attrs;
  }
  ASSIGN_OR_RETURN(
      attrs.coord,
      ParseCoordMode(node, node.GetString("coordinate_transformation_mode", "half_pixel")));
  ASSIGN_OR_RETURN(attrs.nearest,
                   ParseNearestMode(node, node.GetString("nearest_mode", "round_prefer_floor")));
  attrs.cubic_a = node.GetFloat("cubic_coeff_a", -0.75f);
  attrs.exclude_outside = node.GetInt("exclude_outside", 0) != 0;
  attrs.extrapolation_value = node.GetFloat("extrapolation_value", 0.0f);
  if (context.opset >= 18) {
    attrs.antialias = node.GetInt("antialias", 0) != 0;
    std::string policy = node.GetString("keep_aspect_ratio_policy", "stretch");
    if (policy == "stretch")
      attrs.policy = AspectPolicy::kStretch;
    else if (policy == "not_larger")
      attrs.policy = AspectPolicy::kNotLarger;
    else if (policy == "not_smaller")
      attrs.policy = AspectPolicy::kNotSmaller;
    else
      return KernelError(node, "unknown keep_aspect_ratio_policy '" + policy + "'");
  }
  return attrs;
}

// A present, non-empty optional input.
bool HasValues(const KernelContext& context, int index) {
  return context.has_input(index) && context.input(index).size() > 0;
}

StatusOr<std::vector<double>> ReadFloats(const KernelContext& context, int index,
                                         const char* what) {
  const Tensor& t = context.input(index);
  if (!IsFloatingPoint(t.dtype()) || t.rank() > 1) {
    return KernelError(context.node, std::string(what) + " must be a 1-D float tensor");
  }
  std::vector<double> values(size_t(t.size()));
  for (int64_t i = 0; i < t.size(); ++i) values[size_t(i)] = t.GetAsDouble(i);
  return values;
}

// What to resize to: the resized axes (all unless opset 18 lists them) and, per listed axis,
// scales or sizes, plus roi for tf_crop_and_resize.
struct ResizeTargets {
  std::vector<int> axes;
  std::vector<double> scales, roi;
  std::vector<int64_t> sizes;
};

StatusOr<ResizeTargets> ReadTargets(const KernelContext& context, const ResizeAttrs& attrs,
                                    bool upsample) {
  const Node& node = context.node;
  int rank = context.input(0).rank();
  ResizeTargets t;
  for (int k = 0; k < rank; ++k) t.axes.push_back(k);
  if (!upsample && context.opset >= 18 && node.HasAttribute("axes")) {
    ASSIGN_OR_RETURN(t.axes, NormalizeAxes(node.GetInts("axes"), rank, node));
  }
  int scales_input = upsample || context.opset < 11 ? 1 : 2;
  if (upsample && context.opset < 9) {
    if (!node.HasAttribute("scales")) return KernelError(node, "attribute scales is required");
    for (float s : node.GetFloats("scales")) t.scales.push_back(double(s));
  } else if (HasValues(context, scales_input)) {
    ASSIGN_OR_RETURN(t.scales, ReadFloats(context, scales_input, "scales"));
  }
  if (!upsample && context.opset >= 11) {
    if (HasValues(context, 3)) {
      if (!t.scales.empty()) return KernelError(node, "only one of scales and sizes may be given");
      ASSIGN_OR_RETURN(t.sizes, ReadIntList(context, 3, "sizes"));
    }
    if (HasValues(context, 1)) {
      ASSIGN_OR_RETURN(t.roi, ReadFloats(context, 1, "roi"));
    }
  }
  size_t count = t.axes.size();
  if (t.scales.empty() && t.sizes.empty()) return KernelError(node, "needs scales or sizes");
  if ((!t.scales.empty() && t.scales.size() != count) ||
      (!t.sizes.empty() && t.sizes.size() != count)) {
    return KernelError(node, "scales/sizes must have " + std::to_string(count) + " entries");
  }
  if (attrs.coord == CoordMode::kTfCropAndResize && t.roi.size() != 2 * count) {
    return KernelError(
        node, "tf_crop_and_resize needs roi with " + std::to_string(2 * count) + " entries");
  }
  for (int64_t size : t.sizes) {
    if (size < 0) return KernelError(node, "sizes has a negative entry");
  }
  return t;
}

// Per-axis lengths, scales and roi; unlisted axes keep their length with scale 1.
StatusOr<std::vector<AxisParams>> PlanAxes(const KernelContext& context, const ResizeAttrs& attrs,
                                           const ResizeTargets& t) {
  const Node& node = context.node;
  const Tensor& input = context.input(0);
  std::vector<AxisParams> params(static_cast<size_t>(input.rank()));
  for (int k = 0; k < input.rank(); ++k) {
    AxisParams& p = params[size_t(k)];
    p.in_len = p.out_len = input.dim(k);
    p.out_width = double(p.in_len);
  }
  size_t count = t.axes.size();
  // With sizes, the aspect policy replaces the per-axis ratios by one common ratio.
  bool keep_aspect = !t.sizes.empty() && attrs.policy != AspectPolicy::kStretch;
  double common = 0;
  for (size_t i = 0; keep_aspect && i < count; ++i) {
    double r = double(t.sizes[i]) / double(input.dim(t.axes[i]));
    bool better = attrs.policy == AspectPolicy::kNotLarger ? r < common : r > common;
    if (i == 0 || better) common = r;
  }
  for (size_t i = 0; i < count; ++i) {
    AxisParams& p = params[size_t(t.axes[i])];
    if (t.roi.size() == 2 * count) {
      p.roi_start = t.roi[i];
      p.roi_end = t.roi[count + i];
    }
    if (!t.scales.empty() || keep_aspect) {
      p.scale = keep_aspect ? common : t.scales[i];
      // Reference rounding: floor for scales, round half up for the aspect policy.
      double out = std::floor(p.scale * double(p.in_len) + (keep_aspect ? 0.5 : 0.0));
      if (!(p.scale > 0) || !(out < 9e15)) {
        return KernelError(node, "scale " + std::to_string(p.scale) + " is invalid");
      }
      p.out_len = int64_t(out);
      p.out_width = p.scale * double(p.in_len);
    } else {
      p.out_len = t.sizes[i];
      p.scale = p.in_len == 0 ? 1.0 : double(t.sizes[i]) / double(p.in_len);
      p.out_width = double(t.sizes[i]);
    }
  }
  for (AxisParams& p : params) {
    if (!(p.scale > 0)) p.scale = 1.0;  // sizes of 0: nothing is sampled
  }
  return params;
}

Status ResizeCommon(KernelContext& context, bool upsample, bool reference) {
  if (!context.has_input(0)) return KernelError(context.node, "input X is missing");
  const Tensor& input = context.input(0);
  RETURN_IF_ERROR(RequireNumeric(context.node, input.dtype()));
  ASSIGN_OR_RETURN(ResizeAttrs attrs, ReadAttrs(context, upsample));
  ASSIGN_OR_RETURN(ResizeTargets targets, ReadTargets(context, attrs, upsample));
  ASSIGN_OR_RETURN(std::vector<AxisParams> params, PlanAxes(context, attrs, targets));
  Shape out_shape;
  std::vector<AxisTable> tables;
  for (const AxisParams& p : params) {
    out_shape.push_back(p.out_len);
  }
  ASSIGN_OR_RETURN(Tensor output, Tensor::Allocate(input.dtype(), out_shape));
  if (output.size() > 0) {
    if (input.size() == 0) return KernelError(context.node, "cannot resize an empty input");
    for (const AxisParams& p : params) {
      // Sampling tables hold out_len * taps entries; bound them (tiny antialias scales).
      double taps = attrs.mode == ResizeMode::kNearest ? 1 : 2 - 2 * FirstTap(attrs, p.scale);
      if (taps * double(p.out_len) > double(int64_t(1) << 28)) {
        return ResourceExhausted(context.node.Describe() + ": resize of an axis from " +
                                 std::to_string(p.in_len) + " to " + std::to_string(p.out_len) +
                                 " needs too large a sampling table");
      }
    }
    for (const AxisParams& p : params) tables.push_back(BuildAxisTable(attrs, p));
    RETURN_IF_ERROR(RunResize(context, attrs, tables, reference, &output));
  }
  context.output(0) = std::move(output);
  return OkStatus();
}

class ResizeKernel : public OpKernel {
 public:
  ResizeKernel(bool upsample, bool reference) : upsample_(upsample), reference_(reference) {}
  Status Compute(KernelContext& context) override {
    return ResizeCommon(context, upsample_, reference_);
  }

 private:
  bool upsample_;
  bool reference_;
};

}  // namespace

void RegisterResizeKernels(KernelRegistry* registry) {
  for (OpType op : {OpType::kResize, OpType::kUpsample}) {
    bool upsample = op == OpType::kUpsample;
    registry->Register(
        op, [upsample](const KernelConfig& config) -> StatusOr<std::unique_ptr<OpKernel>> {
          return std::unique_ptr<OpKernel>(new ResizeKernel(upsample, config.reference));
        });
  }
}

}  // namespace shrink::engine::tensor_internal
