// BatchNormalization (inference form), InstanceNormalization and LRN over NC... tensors.
// Parameters are read into double, per-channel affine factors are computed once, and the
// per-element work happens in the input's own precision (float16/bfloat16 in float).
#include <cmath>
#include <string>

#include "engine/kernels/kernel_util.h"
#include "engine/kernels/nn_internal.h"

namespace shrink::engine {
namespace {

bool IsFloatType(DataType t) {
  return t == DataType::kFloat32 || t == DataType::kFloat64 || t == DataType::kFloat16 ||
         t == DataType::kBFloat16;
}

std::vector<double> ToDoubles(const Tensor& t) {
  std::vector<double> out(size_t(t.size()));
  for (int64_t i = 0; i < t.size(); ++i) out[size_t(i)] = t.GetAsDouble(i);
  return out;
}

// y[n, c, i] = x[n, c, i] * a[c * per + i % per] + b[...] where per is 1 (per-channel factors)
// or the spatial size (per-activation factors, BatchNormalization-7 with spatial = 0).
template <typename T>
void ApplyAffine(const T* x, T* y, int64_t batch, int64_t channels, int64_t spatial,
                 const std::vector<double>& a, const std::vector<double>& b, bool per_activation,
                 const ThreadPool& pool) {
  pool.ParallelFor(batch * channels, std::max<int64_t>(1, 32768 / std::max<int64_t>(1, spatial)),
                   [&](int64_t begin, int64_t end) {
    for (int64_t plane = begin; plane < end; ++plane) {
      const int64_t c = plane % channels;
      const T* in = x + plane * spatial;
      T* out = y + plane * spatial;
      if (per_activation) {
        for (int64_t i = 0; i < spatial; ++i) {
          const size_t k = size_t(c * spatial + i);
          out[i] = T(double(in[i]) * a[k] + b[k]);
        }
      } else {
        const T scale = T(a[size_t(c)]), shift = T(b[size_t(c)]);
        for (int64_t i = 0; i < spatial; ++i) out[i] = in[i] * scale + shift;
      }
    }
  });
}

// Runs fn on float32/float64 data, converting float16/bfloat16 through float32.
template <typename Fn>
Status WithFloatData(const Tensor& x, Tensor* y, Fn&& fn) {
  switch (x.dtype()) {
    case DataType::kFloat32:
      fn(x.data<float>(), y->data<float>());
      return OkStatus();
    case DataType::kFloat64:
      fn(x.data<double>(), y->data<double>());
      return OkStatus();
    default: {
      Tensor xf = ToFloat32(x), yf(DataType::kFloat32, x.shape());
      fn(xf.data<float>(), yf.data<float>());
      ASSIGN_OR_RETURN(*y, FromFloat32(yf, x.dtype()));
      return OkStatus();
    }
  }
}

Status BatchNormalization(KernelContext& context) {
  RETURN_IF_ERROR(ExpectInputs(context, 5, 5));
  const Node& node = context.node;
  const Tensor& x = context.input(0);
  if (!IsFloatType(x.dtype())) return UnsupportedType(node, x.dtype(), "input X");
  if (node.GetInt("training_mode", 0) != 0) {
    return Unimplemented(node.Describe() +
                         ": training_mode=1 (batch statistics) is not supported; only inference");
  }
  if (x.rank() < 2) {
    return KernelError(node, "input X must have rank >= 2, got shape " + ShapeToString(x.shape()));
  }
  const int64_t batch = x.dim(0), channels = x.dim(1);
  const int64_t spatial = batch * channels == 0 ? 0 : x.size() / (batch * channels);
  // Opsets < 9: spatial = 0 gives per-activation parameters of shape [C, D1, ...].
  const bool per_activation = context.opset < 9 && node.GetInt("spatial", 1) == 0;
  const int64_t expected = per_activation ? channels * spatial : channels;
  const char* names[] = {"scale", "B", "input_mean", "input_var"};
  for (int i = 1; i <= 4; ++i) {
    const Tensor& t = context.input(i);
    if (!IsFloatType(t.dtype())) return UnsupportedType(node, t.dtype(), names[i - 1]);
    if (t.size() != expected || (!per_activation && t.rank() != 1)) {
      return KernelError(node, std::string(names[i - 1]) + " shape " + ShapeToString(t.shape()) +
                                   " does not match input X shape " + ShapeToString(x.shape()) +
                                   (per_activation ? " (spatial=0: expects C x D1 x ...)"
                                                   : " (expects [C])"));
    }
  }
  const double epsilon = node.GetFloat("epsilon", 1e-5f);
  std::vector<double> a = ToDoubles(context.input(1)), b = ToDoubles(context.input(2));
  const std::vector<double> mean = ToDoubles(context.input(3)), var = ToDoubles(context.input(4));
  for (size_t i = 0; i < a.size(); ++i) {
    a[i] = a[i] / std::sqrt(var[i] + epsilon);
    b[i] = b[i] - mean[i] * a[i];
  }
  ASSIGN_OR_RETURN(Tensor y, Tensor::Allocate(x.dtype(), x.shape()));
  RETURN_IF_ERROR(WithFloatData(x, &y, [&](const auto* in, auto* out) {
    ApplyAffine(in, out, batch, channels, spatial, a, b, per_activation, context.pool);
  }));
  context.output(0) = std::move(y);
  // Opsets < 14 list training outputs (running and saved statistics); in inference they are
  // the unchanged running statistics.
  for (int i = 1; i < context.num_outputs() && i <= 4; ++i) {
    if (context.wants_output(i)) context.output(i) = context.input(i <= 2 ? i + 2 : i).Clone();
  }
  return OkStatus();
}

template <typename T>
void InstanceNormPlanes(const T* x, T* y, int64_t channels, int64_t planes, int64_t spatial,
                        const std::vector<double>& scale, const std::vector<double>& bias,
                        double epsilon, const ThreadPool& pool) {
  pool.ParallelFor(planes, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, spatial)),
                   [&](int64_t begin, int64_t end) {
    for (int64_t plane = begin; plane < end; ++plane) {
      const T* in = x + plane * spatial;
      T* out = y + plane * spatial;
      double sum = 0;
      for (int64_t i = 0; i < spatial; ++i) sum += double(in[i]);
      const double mean = spatial > 0 ? sum / double(spatial) : 0.0;
      double sq = 0;
      for (int64_t i = 0; i < spatial; ++i) {
        const double d = double(in[i]) - mean;
        sq += d * d;
      }
      const double var = spatial > 0 ? sq / double(spatial) : 0.0;
      const int64_t c = plane % channels;
      const double a = scale[size_t(c)] / std::sqrt(var + epsilon);
      const T ta = T(a), tb = T(bias[size_t(c)] - mean * a);
      for (int64_t i = 0; i < spatial; ++i) out[i] = in[i] * ta + tb;
    }
  });
}

Status InstanceNormalization(KernelContext& context) {
  RETURN_IF_ERROR(ExpectInputs(context, 3, 3));
  const Node& node = context.node;
  const Tensor& x = context.input(0);
  if (!IsFloatType(x.dtype())) return UnsupportedType(node, x.dtype(), "input X");
  if (x.rank() < 3) {
    return KernelError(node, "input X must have rank >= 3 (N, C, spatial...), got shape " +
                                 ShapeToString(x.shape()));
  }
  const int64_t channels = x.dim(1), planes = x.dim(0) * channels;
  const int64_t spatial = planes == 0 ? 0 : x.size() / planes;
  for (int i = 1; i <= 2; ++i) {
    const Tensor& t = context.input(i);
    if (t.rank() != 1 || t.dim(0) != channels || !IsFloatType(t.dtype())) {
      return KernelError(node, std::string(i == 1 ? "scale" : "B") + " shape " +
                                   ShapeToString(t.shape()) + " must be [C] for input X shape " +
                                   ShapeToString(x.shape()));
    }
  }
  const std::vector<double> scale = ToDoubles(context.input(1)), bias = ToDoubles(context.input(2));
  const double epsilon = node.GetFloat("epsilon", 1e-5f);
  ASSIGN_OR_RETURN(Tensor y, Tensor::Allocate(x.dtype(), x.shape()));
  RETURN_IF_ERROR(WithFloatData(x, &y, [&](const auto* in, auto* out) {
    InstanceNormPlanes(in, out, channels, planes, spatial, scale, bias, epsilon, context.pool);
  }));
  context.output(0) = std::move(y);
  return OkStatus();
}

// y = x / (bias + alpha / size * sum of x^2 over the channel window) ^ beta.
template <typename T>
void LrnBatch(const T* x, T* y, int64_t batch, int64_t channels, int64_t spatial, int64_t size,
              double alpha, double beta, double bias, const ThreadPool& pool) {
  const int64_t before = (size - 1) / 2, after = size - 1 - before;
  pool.ParallelFor(batch * channels, std::max<int64_t>(1, 8192 / std::max<int64_t>(1, spatial * size)),
                   [&](int64_t begin, int64_t end) {
    std::vector<double> sum(static_cast<size_t>(spatial));
    for (int64_t plane = begin; plane < end; ++plane) {
      const int64_t n = plane / channels, c = plane % channels;
      std::fill(sum.begin(), sum.end(), 0.0);
      const int64_t lo = std::max<int64_t>(0, c - before);
      const int64_t hi = std::min(channels - 1, c + after);
      for (int64_t k = lo; k <= hi; ++k) {
        const T* in = x + (n * channels + k) * spatial;
        for (int64_t i = 0; i < spatial; ++i) sum[size_t(i)] += double(in[i]) * double(in[i]);
      }
      const T* in = x + plane * spatial;
      T* out = y + plane * spatial;
      for (int64_t i = 0; i < spatial; ++i) {
        out[i] = T(double(in[i]) / std::pow(bias + alpha / double(size) * sum[size_t(i)], beta));
      }
    }
  });
}

Status Lrn(KernelContext& context) {
  RETURN_IF_ERROR(ExpectInputs(context, 1, 1));
  const Node& node = context.node;
  const Tensor& x = context.input(0);
  if (!IsFloatType(x.dtype())) return UnsupportedType(node, x.dtype(), "input X");
  if (x.rank() < 3) {
    return KernelError(node, "input X must have rank >= 3 (N, C, spatial...), got shape " +
                                 ShapeToString(x.shape()));
  }
  const int64_t size = node.GetInt("size", 0);
  if (size <= 0) return KernelError(node, "the size attribute must be a positive integer");
  const double alpha = node.GetFloat("alpha", 1e-4f), beta = node.GetFloat("beta", 0.75f);
  const double bias = node.GetFloat("bias", 1.0f);
  const int64_t batch = x.dim(0), channels = x.dim(1);
  const int64_t spatial = batch * channels == 0 ? 0 : x.size() / (batch * channels);
  ASSIGN_OR_RETURN(Tensor y, Tensor::Allocate(x.dtype(), x.shape()));
  RETURN_IF_ERROR(WithFloatData(x, &y, [&](const auto* in, auto* out) {
    LrnBatch(in, out, batch, channels, spatial, size, alpha, beta, bias, context.pool);
  }));
  context.output(0) = std::move(y);
  return OkStatus();
}

}  // namespace

void RegisterNormalizationKernels(KernelRegistry* registry) {
  registry->RegisterFunction(OpType::kBatchNormalization, &BatchNormalization);
  registry->RegisterFunction(OpType::kInstanceNormalization, &InstanceNormalization);
  registry->RegisterFunction(OpType::kLRN, &Lrn);
}

}  // namespace shrink::engine
