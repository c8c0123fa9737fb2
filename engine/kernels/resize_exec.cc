// Runs Resize sampling tables over tensors: a gather for nearest, separable passes for
// linear/cubic (the reference), and a direct bilinear kernel for float32 over the last two axes.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "engine/kernels/resize_internal.h"

namespace shrink::engine::tensor_internal {
namespace {

constexpr int64_t kMinChunkElements = 8192;

// Nearest: every output element copies one input element (bit-exact for every dtype).
Status NearestGather(const KernelContext& context, const ResizeAttrs& attrs,
                     const std::vector<AxisTable>& tables, Tensor* output) {
  const Tensor& input = context.input(0);
  ASSIGN_OR_RETURN(Tensor fill,
                   ScalarOfType(context.node, input.dtype(), double(attrs.extrapolation_value)));
  int r = input.rank();
  if (r == 0) {
    *output = input.Clone();
    return OkStatus();
  }
  std::vector<int64_t> strides = Strides(input.shape());
  const Shape& out_shape = output->shape();
  int64_t inner = out_shape[size_t(r - 1)];
  int64_t rows = DimProduct(out_shape, 0, r - 1);
  const AxisTable& last = tables[size_t(r - 1)];
  return DispatchByElement(context.node, input.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* in = Elements<T>(input);
    T* out = MutableElements<T>(*output);
    T value = Elements<T>(fill)[0];
    int64_t chunk = std::max<int64_t>(1, kMinChunkElements / std::max<int64_t>(inner, 1));
    bool last_outside =
        std::find(last.outside.begin(), last.outside.end(), 1) != last.outside.end();
    context.pool.ParallelFor(rows, chunk, [&](int64_t begin, int64_t end) {
      int64_t previous_offset = -1;
      bool previous_outside = false;
      for (int64_t row = begin; row < end; ++row) {
        int64_t offset = 0, rest = row;
        bool outside = false;
        for (int k = r - 2; k >= 0; --k) {
          int64_t pos = rest % out_shape[size_t(k)];
          rest /= out_shape[size_t(k)];
          offset += tables[size_t(k)].index[size_t(pos)] * strides[size_t(k)];
          outside = outside || tables[size_t(k)].outside[size_t(pos)];
        }
        T* dst = out + row * inner;
        const T* src = in + offset;
        if (row > begin && offset == previous_offset && outside == previous_outside) {
          CopyElements(dst - inner, inner, dst);  // upsampled rows repeat the row above
        } else if (outside) {
          std::fill(dst, dst + inner, value);
        } else if (!last_outside) {
          const int64_t* idx = last.index.data();
          for (int64_t j = 0; j < inner; ++j) dst[j] = src[idx[j]];
        } else {
          for (int64_t j = 0; j < inner; ++j) {
            dst[j] = last.outside[size_t(j)] ? value : src[last.index[size_t(j)]];
          }
        }
        previous_offset = offset;
        previous_outside = outside;
      }
    });
    return OkStatus();
  });
}

// One separable pass: (outer, in_len, inner) -> (outer, out_len, inner) along a table.
template <typename Acc>
void ResizePass(const Acc* src, int64_t outer, int64_t inner, const AxisTable& table, Acc fill,
                Acc* dst, const ThreadPool& pool) {
  int64_t out_len = table.out_len, in_len = table.in_len;
  int taps = table.taps;
  int64_t chunk = std::max<int64_t>(1, kMinChunkElements / std::max<int64_t>(inner * taps, 1));
  pool.ParallelFor(outer * out_len, chunk, [&](int64_t begin, int64_t end) {
    for (int64_t item = begin; item < end; ++item) {
      int64_t o = item / out_len, x = item % out_len;
      Acc* out = dst + item * inner;
      if (table.outside[size_t(x)]) {
        std::fill(out, out + inner, fill);
        continue;
      }
      const Acc* base = src + o * in_len * inner;
      const int64_t* idx = &table.index[size_t(x * taps)];
      const float* w = &table.weight[size_t(x * taps)];
      if (inner == 1) {
        Acc sum = Acc(w[0]) * base[idx[0]];
        for (int t = 1; t < taps; ++t) sum += Acc(w[t]) * base[idx[t]];
        out[0] = sum;
        continue;
      }
      const Acc* row = base + idx[0] * inner;
      Acc w0 = Acc(w[0]);
      for (int64_t i = 0; i < inner; ++i) out[i] = w0 * row[i];
      for (int t = 1; t < taps; ++t) {
        row = base + idx[t] * inner;
        Acc wt = Acc(w[t]);
        for (int64_t i = 0; i < inner; ++i) out[i] += wt * row[i];
      }
    }
  });
}

// Converts the working buffer to the output dtype; integers truncate toward zero (as the ONNX
// reference's astype and ORT's static_cast do), saturated to the type's range.
template <typename Acc>
Status StoreResult(const Node& node, const std::vector<Acc>& values, Tensor* output) {
  return DispatchNumeric(output->dtype(), [&](auto tag) {
    using T = decltype(tag);
    T* out = output->data<T>();
    for (size_t i = 0; i < values.size(); ++i) {
      Acc v = values[i];
      if constexpr (std::is_same_v<T, Float16>) {
        out[i].bits = FloatToHalf(float(v));
      } else if constexpr (std::is_same_v<T, BFloat16>) {
        out[i].bits = FloatToBFloat16(float(v));
      } else if constexpr (std::is_same_v<T, bool>) {
        out[i] = v != Acc(0);
      } else if constexpr (std::is_floating_point_v<T>) {
        out[i] = static_cast<T>(v);
      } else {
        double d = std::trunc(double(v));
        double lo = double(std::numeric_limits<T>::lowest());
        double hi = double(std::numeric_limits<T>::max());
        out[i] = std::isnan(d) ? T(0)
                 : d <= lo     ? std::numeric_limits<T>::lowest()
                 : d >= hi     ? std::numeric_limits<T>::max()
                               : static_cast<T>(d);
      }
    }
    return OkStatus();
  });
}

template <typename Acc>
Status SeparableResize(const KernelContext& context, const ResizeAttrs& attrs,
                       const std::vector<AxisTable>& tables, Tensor* output) {
  const Tensor& input = context.input(0);
  std::vector<Acc> current(size_t(input.size()));
  if (input.dtype() == DataTypeOf<Acc>::value) {
    std::copy(input.data<Acc>(), input.data<Acc>() + input.size(), current.begin());
  } else {
    for (int64_t i = 0; i < input.size(); ++i) current[size_t(i)] = Acc(input.GetAsDouble(i));
  }
  // Shrinking axes first keeps every intermediate no larger than max(input, output).
  int r = input.rank();
  std::vector<int> order;
  for (int k = r - 1; k >= 0; --k) {
    if (!tables[size_t(k)].IsIdentity()) order.push_back(k);
  }
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    const AxisTable& x = tables[size_t(a)];
    const AxisTable& y = tables[size_t(b)];
    return double(x.out_len) / double(x.in_len) < double(y.out_len) / double(y.in_len);
  });
  Shape shape = input.shape();
  std::vector<Acc> next;
  for (int axis : order) {
    const AxisTable& table = tables[size_t(axis)];
    int64_t outer = DimProduct(shape, 0, axis), inner = DimProduct(shape, axis + 1, r);
    next.assign(size_t(outer * table.out_len * inner), Acc(0));
    ResizePass(current.data(), outer, inner, table, Acc(attrs.extrapolation_value), next.data(),
               context.pool);
    shape[size_t(axis)] = table.out_len;
    current.swap(next);
  }
  return StoreResult(context.node, current, output);
}

// Widens a 1-tap table to 2 taps (second weight 0) for the bilinear kernel.
void TwoTaps(const AxisTable& table, std::vector<int64_t>* index, std::vector<float>* weight) {
  index->resize(size_t(table.out_len * 2));
  weight->resize(size_t(table.out_len * 2));
  for (int64_t o = 0; o < table.out_len; ++o) {
    for (int t = 0; t < 2; ++t) {
      bool real = t < table.taps;
      (*index)[size_t(o * 2 + t)] = table.index[size_t(o * table.taps + (real ? t : 0))];
      (*weight)[size_t(o * 2 + t)] = real ? table.weight[size_t(o * table.taps + t)] : 0.0f;
    }
  }
}

// float32, only the last two axes resized with at most 2 taps and nothing outside the input.
bool CanUseBilinear(const Tensor& input, const std::vector<AxisTable>& tables) {
  int r = input.rank();
  if (input.dtype() != DataType::kFloat32 || r < 2) return false;
  for (int k = 0; k < r; ++k) {
    const AxisTable& t = tables[size_t(k)];
    if (k < r - 2 && !t.IsIdentity()) return false;
    if (k >= r - 2) {
      if (t.taps > 2) return false;
      for (uint8_t o : t.outside) {
        if (o) return false;
      }
    }
  }
  return true;
}

// Width-interpolated input rows, computed once and kept while consecutive output rows need them
// (upsampling reuses each row for several outputs).
class RowCache {
 public:
  RowCache(const float* in, int64_t in_w, const std::vector<int64_t>& xi,
           const std::vector<float>& xw)
      : in_(in),
        in_w_(in_w),
        out_w_(int64_t(xi.size() / 2)),
        x0_(size_t(out_w_)),
        x1_(size_t(out_w_)),
        w0_(size_t(out_w_)),
        w1_(size_t(out_w_)) {
    for (int64_t x = 0; x < out_w_; ++x) {
      x0_[size_t(x)] = xi[size_t(2 * x)];
      x1_[size_t(x)] = xi[size_t(2 * x + 1)];
      w0_[size_t(x)] = xw[size_t(2 * x)];
      w1_[size_t(x)] = xw[size_t(2 * x + 1)];
    }
    for (auto& row : rows_) row.assign(size_t(out_w_), 0.0f);
  }

  // Row `key` (plane * in_h + y) interpolated along the width; keeps the row `keep` cached.
  const float* Get(int64_t key, int64_t keep) {
    for (int s = 0; s < 2; ++s) {
      if (keys_[s] == key) return rows_[s].data();
    }
    int slot = keys_[0] == keep ? 1 : 0;
    keys_[slot] = key;
    const float* src = in_ + key * in_w_;
    float* h = rows_[slot].data();
    for (int64_t x = 0; x < out_w_; ++x) {
      h[x] = w0_[size_t(x)] * src[x0_[size_t(x)]] + w1_[size_t(x)] * src[x1_[size_t(x)]];
    }
    return h;
  }

 private:
  const float* in_;
  int64_t in_w_, out_w_;
  std::vector<int64_t> x0_, x1_;
  std::vector<float> w0_, w1_;
  std::vector<float> rows_[2];
  int64_t keys_[2] = {-1, -1};
};

// out = wy0 * (wx0 * a + wx1 * b) + wy1 * (wx0 * c + wx1 * d): the operations of the separable
// passes in the same order (width first), so both paths agree bit for bit on finite data.
void Bilinear(const KernelContext& context, const std::vector<AxisTable>& tables, Tensor* output) {
  const Tensor& input = context.input(0);
  int r = input.rank();
  const AxisTable& ty = tables[size_t(r - 2)];
  const AxisTable& tx = tables[size_t(r - 1)];
  std::vector<int64_t> yi, xi;
  std::vector<float> yw, xw;
  TwoTaps(ty, &yi, &yw);
  TwoTaps(tx, &xi, &xw);
  int64_t in_h = ty.in_len, out_h = ty.out_len, out_w = tx.out_len;
  int64_t planes = DimProduct(input.shape(), 0, r - 2);
  float* out = output->data<float>();
  int64_t chunk = std::max<int64_t>(1, kMinChunkElements / std::max<int64_t>(out_w, 1));
  context.pool.ParallelFor(planes * out_h, chunk, [&](int64_t begin, int64_t end) {
    RowCache cache(input.data<float>(), tx.in_len, xi, xw);
    for (int64_t item = begin; item < end; ++item) {
      int64_t p = item / out_h, y = item % out_h;
      int64_t k0 = p * in_h + yi[size_t(2 * y)], k1 = p * in_h + yi[size_t(2 * y + 1)];
      const float* top = cache.Get(k0, k1);
      const float* bottom = cache.Get(k1, k0);
      float wy0 = yw[size_t(2 * y)], wy1 = yw[size_t(2 * y + 1)];
      float* dst = out + item * out_w;
      for (int64_t x = 0; x < out_w; ++x) dst[x] = wy0 * top[x] + wy1 * bottom[x];
    }
  });
}

}  // namespace

Status RunResize(const KernelContext& context, const ResizeAttrs& attrs,
                 const std::vector<AxisTable>& tables, bool reference, Tensor* output) {
  const Tensor& input = context.input(0);
  if (attrs.mode == ResizeMode::kNearest) return NearestGather(context, attrs, tables, output);
  if (!reference && CanUseBilinear(input, tables)) {
    Bilinear(context, tables, output);
    return OkStatus();
  }
  if (input.dtype() == DataType::kFloat64) {
    return SeparableResize<double>(context, attrs, tables, output);
  }
  return SeparableResize<float>(context, attrs, tables, output);
}

}  // namespace shrink::engine::tensor_internal
