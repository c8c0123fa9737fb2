// ConvInteger and QLinearConv: argument checking, the path choice (VNNI GEMM, int16 GEMM or
// depthwise loop, all in quantized_conv_paths.cc), the epilogues, and the reference path that
// sums straight from the inputs with bounds checks.
#include "engine/kernels/quantized_conv.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/kernels/conv_geometry.h"
#include "engine/kernels/kernel_util.h"

namespace shrink::engine::quant {
namespace {

enum class ConvKind { kInteger, kQLinear };

struct ConvInputs {
  int x, w, x_zp, w_zp, x_scale, w_scale, y_scale, y_zp, bias;
};
ConvInputs InputsOf(ConvKind kind) {
  if (kind == ConvKind::kInteger) return {0, 1, 2, 3, -1, -1, -1, -1, -1};
  return {0, 3, 2, 5, 1, 4, 6, 7, 8};
}

Status CheckShapes(const Node& node, const Tensor& x, const Tensor& w, ConvProblem* p) {
  if (x.rank() < 3) {
    return KernelError(node, "input x must have rank >= 3, got shape " + ShapeToString(x.shape()));
  }
  if (w.rank() != x.rank()) {
    return KernelError(node, "weight shape " + ShapeToString(w.shape()) +
                                 " does not match the rank of input shape " +
                                 ShapeToString(x.shape()));
  }
  std::vector<int64_t> kernel(w.shape().begin() + 2, w.shape().end());
  std::vector<int64_t> attr = node.GetInts("kernel_shape");
  if (!attr.empty() && attr != kernel) {
    return KernelError(
        node, "kernel_shape attribute does not match weight shape " + ShapeToString(w.shape()));
  }
  ASSIGN_OR_RETURN(p->geo, ResolveConvGeometry(node, x.shape(), kernel, {}));
  p->batch = x.dim(0);
  p->channels = x.dim(1);
  p->out_channels = w.dim(0);
  const int64_t g = p->geo.group;
  if (p->channels % g != 0 || p->out_channels % g != 0 || w.dim(1) * g != p->channels) {
    return KernelError(node, "group " + std::to_string(g) + " does not fit input shape " +
                                 ShapeToString(x.shape()) + " and weight shape " +
                                 ShapeToString(w.shape()));
  }
  p->group_in = p->channels / g;
  p->group_out = p->out_channels / g;
  for (int64_t e : kernel) p->kernel_size *= e;
  for (int64_t e : p->geo.input_spatial) p->in_image *= e;
  for (int64_t e : p->geo.output_spatial) p->out_image *= e;
  p->k = p->group_in * p->kernel_size;
  return OkStatus();
}

Status ReadParams(const KernelContext& context, ConvKind kind, ConvProblem* p) {
  const Node& node = context.node;
  const ConvInputs in = InputsOf(kind);
  const Tensor& x = context.input(in.x);
  const Tensor& w = context.input(in.w);
  RETURN_IF_ERROR(Dispatch8Bit(node, x.dtype(), "input x", [](auto) { return OkStatus(); }));
  RETURN_IF_ERROR(Dispatch8Bit(node, w.dtype(), "input w", [](auto) { return OkStatus(); }));
  p->x_type = x.dtype();
  p->w_type = w.dtype();
  ASSIGN_OR_RETURN(p->x_zp, ReadScalarZeroPoint(node, OptionalInput(context, in.x_zp), x.dtype(),
                                                "x_zero_point", "input x"));
  const Tensor* w_zp = OptionalInput(context, in.w_zp);
  int64_t w_zp_count = w_zp && w_zp->size() != 1 ? p->out_channels : 1;
  ASSIGN_OR_RETURN(p->w_zp,
                   ReadZeroPoints(node, w_zp, w.dtype(), "w_zero_point", "input w", w_zp_count));
  if (p->w_zp.size() == 1) p->w_zp.assign(size_t(p->out_channels), p->w_zp[0]);
  p->bias.assign(size_t(p->out_channels), 0);
  if (kind == ConvKind::kInteger) return OkStatus();

  ASSIGN_OR_RETURN(float x_scale, ReadScalarScale(node, context.input(in.x_scale), "x_scale"));
  ASSIGN_OR_RETURN(float y_scale, ReadScalarScale(node, context.input(in.y_scale), "y_scale"));
  const Tensor& w_scale_tensor = context.input(in.w_scale);
  ASSIGN_OR_RETURN(std::vector<float> w_scale, ReadScales(node, w_scale_tensor, "w_scale"));
  if (w_scale.size() != 1 && int64_t(w_scale.size()) != p->out_channels) {
    return KernelError(node, "w_scale has " + std::to_string(w_scale.size()) +
                                 " values, expected 1 or " + std::to_string(p->out_channels) +
                                 " (one per output channel)");
  }
  p->multiplier.resize(size_t(p->out_channels));
  for (int64_t m = 0; m < p->out_channels; ++m) {
    // ORT's order: (x_scale * w_scale) / y_scale.
    p->multiplier[size_t(m)] = x_scale * w_scale[w_scale.size() == 1 ? 0 : size_t(m)] / y_scale;
  }
  const Tensor* y_zp = OptionalInput(context, in.y_zp);
  p->y_type = y_zp ? y_zp->dtype() : x.dtype();
  RETURN_IF_ERROR(Dispatch8Bit(node, p->y_type, "y_zero_point", [](auto) { return OkStatus(); }));
  ASSIGN_OR_RETURN(p->y_zp,
                   ReadScalarZeroPoint(node, y_zp, p->y_type, "y_zero_point", "y_zero_point"));
  if (const Tensor* bias = OptionalInput(context, in.bias)) {
    if (bias->dtype() != DataType::kInt32) return UnsupportedType(node, bias->dtype(), "bias B");
    if (bias->size() != p->out_channels) {
      return KernelError(node, "bias B has shape " + ShapeToString(bias->shape()) + ", expected [" +
                                   std::to_string(p->out_channels) + "]");
    }
    std::copy_n(bias->data<int32_t>(), p->out_channels, p->bias.begin());
  }
  return OkStatus();
}

// The oracle: direct sums from x and w with bounds checks (padding contributes nothing).
void RunReferenceConv(const ConvProblem& p, const void* x, const void* w,
                      const ConvEpilogue& epilogue) {
  const ConvGeometry& g = p.geo;
  const int rank = g.spatial_rank;
  std::vector<int32_t> acc(static_cast<size_t>(p.out_image));
  std::vector<int64_t> out(static_cast<size_t>(rank)), tap(static_cast<size_t>(rank));
  for (int64_t n = 0; n < p.batch; ++n) {
    for (int64_t m = 0; m < p.out_channels; ++m) {
      const int64_t group = m / p.group_out;
      for (int64_t o = 0; o < p.out_image; ++o) {
        UnravelIndex(o, g.output_spatial, out.data());
        int64_t sum = 0;
        for (int64_t c = 0; c < p.group_in; ++c) {
          const int64_t channel = group * p.group_in + c;
          for (int64_t q = 0; q < p.kernel_size; ++q) {
            int64_t index = 0;
            bool inside = true;
            for (int64_t rest = q, d = rank - 1; d >= 0; --d) {
              size_t a = size_t(d);
              int64_t coord =
                  out[a] * g.strides[a] - g.pads_begin[a] + (rest % g.kernel[a]) * g.dilations[a];
              rest /= g.kernel[a];
              inside = inside && coord >= 0 && coord < g.input_spatial[a];
              tap[a] = coord;
            }
            if (!inside) continue;
            for (int d = 0; d < rank; ++d)
              index = index * g.input_spatial[size_t(d)] + tap[size_t(d)];
            int64_t xv = CodeAt(p.x_type, x, (n * p.channels + channel) * p.in_image + index);
            int64_t wv = CodeAt(p.w_type, w, (m * p.group_in + c) * p.kernel_size + q);
            sum += (xv - p.x_zp) * (wv - p.w_zp[size_t(m)]);
          }
        }
        acc[size_t(o)] = int32_t(uint32_t(uint64_t(sum)));
      }
      epilogue(n, m, 0, p.out_image, acc.data());
    }
  }
}

class IntegerConvKernel : public OpKernel {
 public:
  IntegerConvKernel(ConvKind kind, const KernelConfig& config)
      : kind_(kind), reference_(config.reference) {
    // Weights (and their zero points) that are constants are packed once, on first use.
    const ConvInputs in = InputsOf(kind);
    auto constant = [&](int i) {
      return i < int(config.constant_inputs.size()) && config.constant_inputs[size_t(i)];
    };
    constant_weights_ = constant(in.w) && (!config.node.HasInput(in.w_zp) || constant(in.w_zp));
  }

  Status Compute(KernelContext& context) override {
    const Node& node = context.node;
    const ConvInputs in = InputsOf(kind_);
    RETURN_IF_ERROR(ExpectInputs(context, 2, kind_ == ConvKind::kInteger ? 4 : 9));
    for (int required : {in.x, in.w, in.x_scale, in.w_scale, in.y_scale}) {
      if (required >= 0 && !context.has_input(required)) {
        return KernelError(node, "required input " + std::to_string(required) + " is missing");
      }
    }
    const Tensor& x = context.input(in.x);
    const Tensor& w = context.input(in.w);
    ConvProblem p;
    RETURN_IF_ERROR(CheckShapes(node, x, w, &p));
    RETURN_IF_ERROR(ReadParams(context, kind_, &p));
    Shape out_shape = {p.batch, p.out_channels};
    out_shape.insert(out_shape.end(), p.geo.output_spatial.begin(), p.geo.output_spatial.end());
    ASSIGN_OR_RETURN(Tensor y, Tensor::Allocate(p.y_type, out_shape));
    ConvEpilogue epilogue = MakeEpilogue(p, &y);
    if (y.size() == 0) {
      context.output(0) = std::move(y);
      return OkStatus();
    }
    if (reference_) {
      RunReferenceConv(p, x.raw_data(), w.raw_data(), epilogue);
    } else if (p.group_in == 1 && p.group_out == 1 && p.geo.spatial_rank <= 2 &&
               p.geo.strides.back() <= 8) {
      RunDepthwiseConv(p, x.raw_data(), Weights(p, w, false), context.pool, epilogue);
    } else if (ActiveGemmIsa() == GemmIsa::kVnni) {
      RunVnniConv(p, x.raw_data(), Weights(p, w, true), context.pool, epilogue);
    } else {
      RunGemmConv(p, x.raw_data(), Weights(p, w, false), context.pool, epilogue);
    }
    context.output(0) = std::move(y);
    return OkStatus();
  }

 private:
  // The packed weights for the chosen form, cached when they are constants.
  const ConvWeights& Weights(const ConvProblem& p, const Tensor& w, bool vnni) {
    ConvWeights& cache = vnni ? vnni_ : s16_;
    const bool valid = constant_weights_ && cache.m == p.out_channels && cache.k == p.k &&
                       cache.zero_points == p.w_zp;
    if (!valid) {
      cache = ConvWeights();
      if (vnni) {
        PackConvWeightsVnni(p, w.raw_data(), &cache);
      } else {
        PackConvWeightsS16(p, w.raw_data(), &cache);
      }
    }
    return cache;
  }

  static ConvEpilogue MakeEpilogue(const ConvProblem& p, Tensor* y) {
    const int64_t m_count = p.out_channels, image = p.out_image;
    if (p.y_type == DataType::kInt32) {
      int32_t* out = y->data<int32_t>();
      return [=](int64_t n, int64_t m, int64_t p0, int64_t count, const int32_t* acc) {
        std::copy_n(acc, count, out + (n * m_count + m) * image + p0);
      };
    }
    auto make = [&](auto tag) -> ConvEpilogue {
      using T = decltype(tag);
      T* out = y->data<T>();
      return [=, &p](int64_t n, int64_t m, int64_t p0, int64_t count, const int32_t* acc) {
        RequantizeSpan<T>(acc, count, p.bias[size_t(m)], p.multiplier[size_t(m)], p.y_zp,
                          out + (n * m_count + m) * image + p0);
      };
    };
    return p.y_type == DataType::kUint8 ? make(uint8_t{}) : make(int8_t{});
  }

  ConvKind kind_;
  bool reference_;
  bool constant_weights_ = false;
  ConvWeights s16_, vnni_;
};

KernelFactory Factory(ConvKind kind) {
  return [kind](const KernelConfig& config) -> StatusOr<std::unique_ptr<OpKernel>> {
    return std::unique_ptr<OpKernel>(new IntegerConvKernel(kind, config));
  };
}

}  // namespace

void RegisterQuantizedConvKernels(KernelRegistry* registry) {
  registry->Register(OpType::kConvInteger, Factory(ConvKind::kInteger));
  registry->Register(OpType::kQLinearConv, Factory(ConvKind::kQLinear));
}

}  // namespace shrink::engine::quant
