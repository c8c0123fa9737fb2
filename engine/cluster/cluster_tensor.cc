#include "engine/cluster/cluster_tensor.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

namespace shrink::engine::cluster {
namespace {

// Elements of group c are (o * groups + c) * inner + i for o < outer, i < inner.
struct Layout {
  int64_t outer = 1;
  int64_t groups = 1;
  int64_t inner = 1;
  int64_t Group(int64_t index) const { return (index / inner) % groups; }
};

StatusOr<Layout> MakeLayout(const Tensor& weight, int axis) {
  Layout layout;
  if (axis < 0) {
    layout.inner = weight.size();
    return layout;
  }
  if (axis >= weight.rank()) {
    return InvalidArgument("channel axis " + std::to_string(axis) + " out of range for shape " +
                           ShapeToString(weight.shape()));
  }
  for (int d = 0; d < axis; ++d) layout.outer *= weight.dim(d);
  layout.groups = weight.dim(axis);
  for (int d = axis + 1; d < weight.rank(); ++d) layout.inner *= weight.dim(d);
  return layout;
}

std::vector<float> GroupValues(const float* w, const Layout& layout, int64_t c, bool skip_zeros) {
  std::vector<float> values;
  values.reserve(size_t(layout.outer * layout.inner));
  for (int64_t o = 0; o < layout.outer; ++o) {
    const float* row = w + (o * layout.groups + c) * layout.inner;
    for (int64_t i = 0; i < layout.inner; ++i) {
      if (!(skip_zeros && row[i] == 0.0f)) values.push_back(row[i]);
    }
  }
  return values;
}

}  // namespace

int64_t CountDistinct(const Tensor& tensor) {
  const float* w = tensor.data<float>();
  std::vector<float> values(w, w + tensor.size());
  for (float& v : values) v = v == 0.0f ? 0.0f : v;  // -0 and +0 alike
  std::sort(values.begin(), values.end());
  return int64_t(std::unique(values.begin(), values.end()) - values.begin());
}

StatusOr<TensorClustering> ClusterTensor(const Tensor& weight,
                                         const TensorClusterOptions& options) {
  if (weight.dtype() != DataType::kFloat32) {
    return InvalidArgument("weight clustering needs float32 weights");
  }
  if (options.kmeans.clusters < 1 || options.kmeans.clusters > 256) {
    return InvalidArgument("clusters must be in [1, 256], got " +
                           std::to_string(options.kmeans.clusters));
  }
  ASSIGN_OR_RETURN(Layout layout, MakeLayout(weight, options.axis));
  const float* w = weight.data<float>();
  TensorClustering result;
  result.zero_slot = options.preserve_sparsity &&
                     std::any_of(w, w + weight.size(), [](float v) { return v == 0.0f; });
  KMeansOptions kmeans = options.kmeans;
  if (options.compact && result.zero_slot && kmeans.clusters == 256) {
    kmeans.clusters = 255;
    result.capped = true;
  }

  std::vector<std::vector<float>> centroids(size_t(layout.groups));
  result.min_group_distinct = -1;
  for (int64_t c = 0; c < layout.groups; ++c) {
    KMeansOptions group = kmeans;
    group.seed = kmeans.seed + uint64_t(c) * 0x9E3779B97F4A7C15ULL;
    KMeansResult r = KMeans1d(GroupValues(w, layout, c, options.preserve_sparsity), group);
    if (r.distinct < kmeans.clusters) ++result.groups_below_clusters;
    if (result.min_group_distinct < 0 || r.distinct < result.min_group_distinct) {
      result.min_group_distinct = r.distinct;
    }
    result.clusters = std::max(result.clusters, int(r.centroids.size()));
    centroids[size_t(c)] = std::move(r.centroids);
  }

  int64_t offset = result.zero_slot ? 1 : 0;
  result.table_width = std::max<int64_t>(1, offset + result.clusters);
  result.dense = Tensor(DataType::kFloat32, weight.shape());
  float* dense = result.dense.data<float>();
  std::vector<uint8_t> slots(options.compact ? size_t(weight.size()) : 0);
  double sum_sq = 0;
  for (int64_t i = 0; i < weight.size(); ++i) {
    const std::vector<float>& table = centroids[size_t(layout.Group(i))];
    int64_t slot = 0;
    float value = 0.0f;
    if (!(options.preserve_sparsity && w[i] == 0.0f)) {
      int j = NearestCentroid(table, w[i]);
      slot = offset + j;
      value = table[size_t(j)];
    }
    dense[i] = value;
    if (options.compact) slots[size_t(i)] = uint8_t(slot);
    sum_sq += (double(w[i]) - value) * (double(w[i]) - value);
  }
  result.rmse = weight.size() > 0 ? std::sqrt(sum_sq / double(weight.size())) : 0.0;
  result.distinct_before = CountDistinct(weight);
  result.distinct_after = CountDistinct(result.dense);
  if (!options.compact) return result;

  // Unused slots of narrower tables hold 0.0: no index points at them.
  std::vector<float> flat(size_t(layout.groups * result.table_width), 0.0f);
  for (int64_t c = 0; c < layout.groups; ++c) {
    const std::vector<float>& table = centroids[size_t(c)];
    std::copy(table.begin(), table.end(), flat.begin() + c * result.table_width + offset);
  }
  Shape table_shape =
      options.axis < 0 ? Shape{result.table_width} : Shape{layout.groups, result.table_width};
  result.table = Tensor::FromVector<float>(table_shape, flat);
  result.indices = Tensor::FromVector<uint8_t>(weight.shape(), slots);
  return result;
}

}  // namespace shrink::engine::cluster
