// Conv (opsets 1..18): shape validation shared with ConvTranspose, the direct reference
// convolution (the test oracle) and the kernel that dispatches to the float32 fast paths in
// conv_fast.cc. Also registers the whole nn group.
#include <cmath>
#include <string>

#include "engine/kernels/kernel_util.h"
#include "engine/kernels/kernels.h"
#include "engine/kernels/nn_internal.h"

namespace shrink::engine {
namespace {

bool IsConvType(DataType t) {
  return t == DataType::kFloat32 || t == DataType::kFloat64 || t == DataType::kFloat16 ||
         t == DataType::kBFloat16;
}

// Direct convolution over any spatial rank, accumulating in double.
template <typename T>
void ConvReference(const ConvShape& s, const T* x, const T* w, const T* bias, T* y) {
  const ConvGeometry& g = s.geo;
  const size_t rank = size_t(g.spatial_rank);
  std::vector<int64_t> o_index(rank), k_index(rank);
  for (int64_t n = 0; n < s.batch; ++n) {
    for (int64_t m = 0; m < s.out_channels; ++m) {
      const int64_t group = m / s.out_per_group;
      T* out = y + (n * s.out_channels + m) * s.out_size;
      for (int64_t op = 0; op < s.out_size; ++op) {
        UnravelIndex(op, g.output_spatial, o_index.data());
        double acc = bias ? double(bias[m]) : 0.0;
        for (int64_t c = 0; c < s.in_per_group; ++c) {
          const T* plane = x + (n * s.in_channels + group * s.in_per_group + c) * s.in_size;
          const T* kernel = w + (m * s.in_per_group + c) * s.kernel_size;
          for (int64_t kp = 0; kp < s.kernel_size; ++kp) {
            UnravelIndex(kp, g.kernel, k_index.data());
            int64_t offset = 0;
            bool inside = true;
            for (size_t a = 0; a < rank; ++a) {
              int64_t i = o_index[a] * g.strides[a] - g.pads_begin[a] + k_index[a] * g.dilations[a];
              inside = inside && i >= 0 && i < g.input_spatial[a];
              offset = offset * g.input_spatial[a] + i;
            }
            if (inside) acc += double(plane[offset]) * double(kernel[kp]);
          }
        }
        out[op] = T(acc);
      }
    }
  }
}

class ConvKernel : public OpKernel {
 public:
  explicit ConvKernel(const KernelConfig& config)
      : reference_(config.reference),
        constant_weights_(config.constant_inputs.size() > 1 && config.constant_inputs[1]) {}

  Status Compute(KernelContext& context) override {
    RETURN_IF_ERROR(ExpectInputs(context, 2, 3));
    const Node& node = context.node;
    const Tensor& x = context.input(0);
    const Tensor& w = context.input(1);
    const Tensor* bias = context.has_input(2) ? &context.input(2) : nullptr;
    if (!IsConvType(x.dtype())) return UnsupportedType(node, x.dtype(), "input X");
    if (w.dtype() != x.dtype() || (bias && bias->dtype() != x.dtype())) {
      return KernelError(node, std::string("X, W and B must share one dtype, got ") +
                                   DataTypeName(x.dtype()) + " and " + DataTypeName(w.dtype()));
    }
    if (!cached_ || x.shape() != cached_x_ || w.shape() != cached_w_) {
      ASSIGN_OR_RETURN(shape_, ResolveConvShape(node, x.shape(), w.shape(), bias, false));
      cached_x_ = x.shape();
      cached_w_ = w.shape();
      cached_ = true;
    }
    ASSIGN_OR_RETURN(Tensor y, Tensor::Allocate(x.dtype(), shape_.output_shape));
    if (x.dtype() == DataType::kFloat64) {
      ConvReference(shape_, x.data<double>(), w.data<double>(),
                    bias ? bias->data<double>() : nullptr, y.data<double>());
    } else if (x.dtype() == DataType::kFloat32) {
      Run(x.data<float>(), w.data<float>(), bias ? bias->data<float>() : nullptr, y.data<float>(),
          context.pool);
    } else {  // float16 / bfloat16 compute in float
      Tensor xf = ToFloat32(x), wf = ToFloat32(w), bf = bias ? ToFloat32(*bias) : Tensor();
      Tensor yf(DataType::kFloat32, shape_.output_shape);
      Run(xf.data<float>(), wf.data<float>(), bias ? bf.data<float>() : nullptr, yf.data<float>(),
          context.pool);
      ASSIGN_OR_RETURN(y, FromFloat32(yf, x.dtype()));
    }
    context.output(0) = std::move(y);
    return OkStatus();
  }

 private:
  void Run(const float* x, const float* w, const float* bias, float* y, const ThreadPool& pool) {
    if (reference_) {
      ConvReference(shape_, x, w, bias, y);
    } else {
      ConvForwardFast(shape_, x, w, TapMajorWeights(w), bias, y, pool);
    }
  }

  // The shifted-GEMM path wants tap-major weights; constant weights are packed only once.
  const float* TapMajorWeights(const float* w) {
    if (SelectConvPath(shape_) != ConvPath::kShifted) return nullptr;
    if (!constant_weights_ || packed_from_ != w || packed_shape_ != cached_w_) {
      packed_.resize(size_t(shape_.out_channels * shape_.in_per_group * shape_.kernel_size));
      PackTapMajorWeights(shape_, w, packed_.data());
      packed_from_ = w;
      packed_shape_ = cached_w_;
    }
    return packed_.data();
  }

  bool reference_;
  bool constant_weights_;
  bool cached_ = false;
  Shape cached_x_, cached_w_;
  ConvShape shape_;
  std::vector<float> packed_;
  const float* packed_from_ = nullptr;
  Shape packed_shape_;
};

}  // namespace

StatusOr<ConvShape> ResolveConvShape(const Node& node, const Shape& x, const Shape& w,
                                     const Tensor* bias, bool transposed) {
  if (x.size() < 3) {
    return KernelError(
        node, "input X must have rank >= 3 (N, C, spatial...), got shape " + ShapeToString(x));
  }
  if (w.size() != x.size()) {
    return KernelError(node, "weight W shape " + ShapeToString(w) +
                                 " must have the rank of X shape " + ShapeToString(x));
  }
  std::vector<int64_t> kernel(w.begin() + 2, w.end());
  std::vector<int64_t> kernel_attr = node.GetInts("kernel_shape");
  if (!kernel_attr.empty() && kernel_attr != kernel) {
    return KernelError(node, "kernel_shape " + ShapeToString(kernel_attr) +
                                 " does not match weight W shape " + ShapeToString(w));
  }
  ConvShape s;
  ConvGeometryOptions options;
  options.transposed = transposed;
  ASSIGN_OR_RETURN(s.geo, ResolveConvGeometry(node, x, kernel, options));
  s.group = s.geo.group;
  s.batch = x[0];
  s.in_channels = x[1];
  if (!transposed) {
    if (s.in_channels != w[1] * s.group) {
      return KernelError(node, "input X shape " + ShapeToString(x) + " has " +
                                   std::to_string(s.in_channels) + " channels but weight W shape " +
                                   ShapeToString(w) + " with group " + std::to_string(s.group) +
                                   " expects " + std::to_string(w[1] * s.group));
    }
    if (w[0] % s.group != 0) {
      return KernelError(
          node, "weight W shape " + ShapeToString(w) + " has " + std::to_string(w[0]) +
                    " output channels, not a multiple of group " + std::to_string(s.group));
    }
    s.out_channels = w[0];
  } else {
    if (w[0] != s.in_channels || s.in_channels % s.group != 0) {
      return KernelError(node, "input X shape " + ShapeToString(x) + " has " +
                                   std::to_string(s.in_channels) + " channels but weight W shape " +
                                   ShapeToString(w) + " with group " + std::to_string(s.group) +
                                   " expects W[0] = C divisible by group");
    }
    s.out_channels = w[1] * s.group;
  }
  s.in_per_group = s.in_channels / s.group;
  s.out_per_group = s.out_channels / s.group;
  if (bias && (bias->rank() != 1 || bias->dim(0) != s.out_channels)) {
    return KernelError(node, "bias B shape " + ShapeToString(bias->shape()) + " must be [" +
                                 std::to_string(s.out_channels) + "] for weight W shape " +
                                 ShapeToString(w));
  }
  for (int64_t d : s.geo.input_spatial) s.in_size *= d;
  for (int64_t d : s.geo.output_spatial) s.out_size *= d;
  for (int64_t d : kernel) s.kernel_size *= d;
  s.output_shape = {s.batch, s.out_channels};
  s.output_shape.insert(s.output_shape.end(), s.geo.output_spatial.begin(),
                        s.geo.output_spatial.end());
  return s;
}

Tensor ToFloat32(const Tensor& tensor) {
  if (tensor.dtype() == DataType::kFloat32) return tensor;
  Tensor out(DataType::kFloat32, tensor.shape());
  float* dst = out.data<float>();
  const int64_t n = tensor.size();
  switch (tensor.dtype()) {
    case DataType::kFloat16:
      for (int64_t i = 0; i < n; ++i) dst[i] = HalfToFloat(tensor.data<Float16>()[i].bits);
      break;
    case DataType::kBFloat16:
      for (int64_t i = 0; i < n; ++i) dst[i] = BFloat16ToFloat(tensor.data<BFloat16>()[i].bits);
      break;
    case DataType::kFloat64:
      for (int64_t i = 0; i < n; ++i) dst[i] = float(tensor.data<double>()[i]);
      break;
    default:
      for (int64_t i = 0; i < n; ++i) dst[i] = float(tensor.GetAsDouble(i));
      break;
  }
  return out;
}

StatusOr<Tensor> FromFloat32(const Tensor& tensor, DataType dtype) {
  if (dtype == DataType::kFloat32) return tensor;
  ASSIGN_OR_RETURN(Tensor out, Tensor::Allocate(dtype, tensor.shape()));
  const float* src = tensor.data<float>();
  const int64_t n = tensor.size();
  switch (dtype) {
    case DataType::kFloat16:
      for (int64_t i = 0; i < n; ++i) out.data<Float16>()[i].bits = FloatToHalf(src[i]);
      break;
    case DataType::kBFloat16:
      for (int64_t i = 0; i < n; ++i) out.data<BFloat16>()[i].bits = FloatToBFloat16(src[i]);
      break;
    case DataType::kFloat64:
      for (int64_t i = 0; i < n; ++i) out.data<double>()[i] = src[i];
      break;
    default:
      return Unimplemented(std::string("conversion from float32 to ") + DataTypeName(dtype));
  }
  return out;
}

void RegisterConvKernels(KernelRegistry* registry) {
  registry->Register(OpType::kConv,
                     [](const KernelConfig& config) -> StatusOr<std::unique_ptr<OpKernel>> {
                       return std::unique_ptr<OpKernel>(new ConvKernel(config));
                     });
}

void RegisterNnKernels(KernelRegistry* registry) {
  RegisterConvKernels(registry);
  RegisterConvTransposeKernels(registry);
  RegisterPoolKernels(registry);
  RegisterNormalizationKernels(registry);
}

}  // namespace shrink::engine
