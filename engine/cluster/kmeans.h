// One-dimensional k-means (Lloyd) over a set of weight values: the numeric core of weight
// clustering, free of any graph knowledge so that a training loop (clustering-aware fine-tuning)
// can reuse it. In 1-D the clusters of sorted centroids are contiguous runs of the sorted values
// split at the centroid midpoints, so one Lloyd step is a few binary searches over prefix sums:
// O(n log n) for the sort, then O(k log n) per iteration. An empty cluster is re-seeded at the
// value farthest from the centre of the worst cluster, so all k clusters are used whenever there
// are at least k distinct values and enough iterations. Deterministic for given inputs and seed.
#pragma once

#include <cstdint>
#include <vector>

namespace shrink::engine::cluster {

enum class Init {
  kLinear,   // centroids evenly spaced between the smallest and largest value
  kDensity,  // centroids at the quantiles (i + 0.5) / k of the values
  kRandom,   // k distinct values drawn from the values with the seed
};

struct KMeansOptions {
  int clusters = 16;  // >= 1; callers validate the user-facing range
  Init init = Init::kLinear;
  int iterations = 25;  // Lloyd steps at most (stops earlier when assignments settle)
  uint64_t seed = 1;    // kRandom only
};

struct KMeansResult {
  std::vector<float> centroids;  // ascending, distinct, every one used by at least one value;
                                 // at most k (fewer only if iterations ran out while re-seeding)
  int64_t distinct = 0;          // distinct input values
  int iterations = 0;            // Lloyd steps run
};

// Clusters `values` (any order; may be empty, giving no centroids). When there are no more
// distinct values than clusters, the centroids are exactly the distinct values.
KMeansResult KMeans1d(std::vector<float> values, const KMeansOptions& options);

// Index of the centroid nearest to `value` in ascending `centroids` (non-empty); ties go to the
// lower centroid, so the assignment agrees with KMeans1d's midpoint split.
int NearestCentroid(const std::vector<float>& centroids, float value);

}  // namespace shrink::engine::cluster
