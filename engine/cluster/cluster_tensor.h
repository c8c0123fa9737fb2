// Clustering of one float32 weight tensor, per tensor or per channel, into both export forms
// (dense values and indices + centroid table). No graph knowledge: ClusterWeights applies the
// result to a model, and a training loop can re-cluster a tensor the same way.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "engine/cluster/kmeans.h"
#include "engine/ir/tensor.h"

namespace shrink::engine::cluster {

struct TensorClusterOptions {
  KMeansOptions kmeans;  // clusters per group; seed mixed with the channel index per channel
  int axis = -1;         // channel axis; -1 = one group for the whole tensor
  bool preserve_sparsity = true;
  // Also build `indices` and `table`. A zero slot then takes one of the 256 uint8 slots, so 256
  // clusters become 255 (`capped`).
  bool compact = false;
};

struct TensorClustering {
  Tensor dense;    // float32, the weight's shape, every value a centroid (or an exact zero)
  Tensor indices;  // compact only: uint8, the weight's shape: slot in the channel's table
  Tensor table;    // compact only: float32 [K] per tensor, [C, K] per channel
  int64_t table_width = 0;            // K: zero slot (if any) + the most clusters of any group
  bool zero_slot = false;             // slot 0 of every table is 0.0 (preserved zeros)
  int clusters = 0;                   // most clusters of any group, zero slot not counted
  int64_t min_group_distinct = 0;     // fewest distinct (clustered) values of a group
  int64_t groups_below_clusters = 0;  // groups with fewer distinct values than clusters
  int64_t distinct_before = 0;
  int64_t distinct_after = 0;
  double rmse = 0;
  bool capped = false;  // compact: 256 clusters lowered to 255 for the zero slot
};

// Fails on a non-float32 tensor, an axis out of range or clusters outside [1, 256].
StatusOr<TensorClustering> ClusterTensor(const Tensor& weight, const TensorClusterOptions& options);

// Distinct values of a float32 tensor (+0 and -0 count as one).
int64_t CountDistinct(const Tensor& tensor);

}  // namespace shrink::engine::cluster
