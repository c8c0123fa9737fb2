// ConvTranspose (opsets 1..18): the direct scatter reference (the test oracle) and the kernel
// that dispatches float32 to the GEMM + col2im fast path in conv_fast.cc.
#include <string>

#include "engine/kernels/kernel_util.h"
#include "engine/kernels/nn_internal.h"

namespace shrink::engine {
namespace {

// y[n, m, i*s - pad + k*d] += x[n, c, i] * w[c, m % out_per_group, k], accumulated in double.
template <typename T>
void ConvTransposeReference(const ConvShape& s, const T* x, const T* w, const T* bias, T* y) {
  const ConvGeometry& g = s.geo;
  const size_t rank = size_t(g.spatial_rank);
  std::vector<double> acc(size_t(s.out_size));
  std::vector<int64_t> i_index(rank), k_index(rank);
  for (int64_t n = 0; n < s.batch; ++n) {
    for (int64_t m = 0; m < s.out_channels; ++m) {
      const int64_t group = m / s.out_per_group, mg = m % s.out_per_group;
      std::fill(acc.begin(), acc.end(), bias ? double(bias[m]) : 0.0);
      for (int64_t c = 0; c < s.in_per_group; ++c) {
        const int64_t channel = group * s.in_per_group + c;
        const T* plane = x + (n * s.in_channels + channel) * s.in_size;
        const T* kernel = w + (channel * s.out_per_group + mg) * s.kernel_size;
        for (int64_t ip = 0; ip < s.in_size; ++ip) {
          UnravelIndex(ip, g.input_spatial, i_index.data());
          for (int64_t kp = 0; kp < s.kernel_size; ++kp) {
            UnravelIndex(kp, g.kernel, k_index.data());
            int64_t offset = 0;
            bool inside = true;
            for (size_t a = 0; a < rank; ++a) {
              int64_t o = i_index[a] * g.strides[a] - g.pads_begin[a] + k_index[a] * g.dilations[a];
              inside = inside && o >= 0 && o < g.output_spatial[a];
              offset = offset * g.output_spatial[a] + o;
            }
            if (inside) acc[size_t(offset)] += double(plane[ip]) * double(kernel[kp]);
          }
        }
      }
      T* out = y + (n * s.out_channels + m) * s.out_size;
      for (int64_t i = 0; i < s.out_size; ++i) out[i] = T(acc[size_t(i)]);
    }
  }
}

class ConvTransposeKernel : public OpKernel {
 public:
  explicit ConvTransposeKernel(const KernelConfig& config) : reference_(config.reference) {}

  Status Compute(KernelContext& context) override {
    RETURN_IF_ERROR(ExpectInputs(context, 2, 3));
    const Node& node = context.node;
    const Tensor& x = context.input(0);
    const Tensor& w = context.input(1);
    const Tensor* bias = context.has_input(2) ? &context.input(2) : nullptr;
    DataType type = x.dtype();
    if (type != DataType::kFloat32 && type != DataType::kFloat64 && type != DataType::kFloat16 &&
        type != DataType::kBFloat16) {
      return UnsupportedType(node, type, "input X");
    }
    if (w.dtype() != type || (bias && bias->dtype() != type)) {
      return KernelError(node, std::string("X, W and B must share one dtype, got ") +
                                   DataTypeName(type) + " and " + DataTypeName(w.dtype()));
    }
    if (!cached_ || x.shape() != cached_x_ || w.shape() != cached_w_) {
      ASSIGN_OR_RETURN(shape_, ResolveConvShape(node, x.shape(), w.shape(), bias, true));
      cached_x_ = x.shape();
      cached_w_ = w.shape();
      cached_ = true;
    }
    ASSIGN_OR_RETURN(Tensor y, Tensor::Allocate(type, shape_.output_shape));
    if (type == DataType::kFloat64) {
      ConvTransposeReference(shape_, x.data<double>(), w.data<double>(),
                             bias ? bias->data<double>() : nullptr, y.data<double>());
    } else if (type == DataType::kFloat32) {
      Run(x.data<float>(), w.data<float>(), bias ? bias->data<float>() : nullptr, y.data<float>(),
          context.pool);
    } else {
      Tensor xf = ToFloat32(x), wf = ToFloat32(w), bf = bias ? ToFloat32(*bias) : Tensor();
      Tensor yf(DataType::kFloat32, shape_.output_shape);
      Run(xf.data<float>(), wf.data<float>(), bias ? bf.data<float>() : nullptr, yf.data<float>(),
          context.pool);
      ASSIGN_OR_RETURN(y, FromFloat32(yf, type));
    }
    context.output(0) = std::move(y);
    return OkStatus();
  }

 private:
  void Run(const float* x, const float* w, const float* bias, float* y, const ThreadPool& pool) {
    if (reference_) {
      ConvTransposeReference(shape_, x, w, bias, y);
    } else {
      ConvTransposeForwardFast(shape_, x, w, bias, y, pool);
    }
  }

  bool reference_;
  bool cached_ = false;
  Shape cached_x_, cached_w_;
  ConvShape shape_;
};

}  // namespace

void RegisterConvTransposeKernels(KernelRegistry* registry) {
  registry->Register(OpType::kConvTranspose,
                     [](const KernelConfig& config) -> StatusOr<std::unique_ptr<OpKernel>> {
                       return std::unique_ptr<OpKernel>(new ConvTransposeKernel(config));
                     });
}

}  // namespace shrink::engine
