// Post-training weight clustering: the float32 weight of every Conv, ConvTranspose, Gemm (B) and
// MatMul (B) whose weight is an initializer, in the main graph and in subgraphs, is replaced by
// k-means centroids (engine/cluster/kmeans.h), per tensor or per output channel (the axis the
// quantizer uses). Recipe step: ClusterStep in proto/shrink/v1/recipe.proto; report:
// LayerClusters in report.proto.
//
// Two export forms:
//  - dense (compact = false): the initializer keeps its name, shape and dtype and holds only the
//    shared values, so zstd compresses it far better. A later quantizer sees a plain weight.
//  - compact (compact = true): the initializer `W` becomes `W_indices` (uint8, W's shape) and
//    `W_centroids` (float32 [K], or [C, K] per channel) and W is computed in the graph, still
//    under its own name so consumers and analysis tools find it where it was:
//        per tensor:  W = Gather(W_centroids, Cast<int32>(W_indices))
//        per channel: W = Gather(Reshape(W_centroids, [-1]), Cast<int32>(W_indices) + W_offsets)
//    where W_offsets (int32, C along the channel axis, 1 elsewhere) holds c * K. ORT rejects
//    uint8 Gather indices (hence the Cast) and uint8 cannot hold c * K (hence the Add after it).
//    With preserve_sparsity and zeros present, slot 0 of each table is 0.0 and the k clusters
//    follow, so K <= 256 caps the clusters at 255 there (stated in `adjustments`).
//    The file then holds about one byte per weight. Needs opset >= 7 (Add on int32); older
//    models are upgraded with UpgradeOpset.
//
// A weight read by several nodes is clustered once (axis from its first weight consumer) and is
// left alone when any of its readers is excluded. Weights that are not float32 are skipped.
// Adjustments are stated in ClusterSummary::adjustments, e.g. a layer with fewer distinct
// weights than clusters keeps its distinct values.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/cluster/kmeans.h"
#include "engine/ir/graph.h"
#include "shrink/v1/report.pb.h"

namespace shrink::engine::cluster {

struct ClusterOptions {
  int clusters = 16;  // 2..256, per layer or per channel
  Init init = Init::kLinear;
  bool per_channel = false;             // centroids per output channel (axis as for quantization)
  bool preserve_sparsity = true;        // zeros stay exactly zero and are not counted as a cluster
  bool compact = false;                 // indices + centroid table (see above); else dense weights
  std::set<std::string> exclude_nodes;  // node names whose weights stay as they are
  int iterations = 25;                  // Lloyd steps at most; >= 0 (0: the initial centroids)
  uint64_t seed = 1;                    // kRandom; mixed with the weight name (and channel)
};

struct ClusterSummary {
  std::vector<v1::LayerClusters> layers;  // one per clustered weight, in graph order
  std::vector<std::string> adjustments;   // what differs from the options, and why
};

// Rewrites `model` in place. InvalidArgument (naming the option) for clusters outside [2, 256]
// or negative iterations; on error the model is unchanged except after an opset upgrade failure.
StatusOr<ClusterSummary> ClusterWeights(Model* model, const ClusterOptions& options);

}  // namespace shrink::engine::cluster
