#include "engine/cluster/kmeans.h"

#include <algorithm>
#include <cstddef>

namespace shrink::engine::cluster {
namespace {

uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

double Midpoint(double a, double b) { return (a + b) / 2; }

// starts[j] = first sorted index of cluster j (starts[k] = n): value v joins the lower centroid
// when v <= the midpoint, as in NearestCentroid.
std::vector<size_t> ClusterStarts(const std::vector<float>& sorted,
                                  const std::vector<double>& centroids) {
  size_t k = centroids.size();
  std::vector<size_t> starts(k + 1, 0);
  starts[k] = sorted.size();
  for (size_t j = 1; j < k; ++j) {
    double mid = Midpoint(centroids[j - 1], centroids[j]);
    starts[j] = size_t(std::upper_bound(sorted.begin(), sorted.end(), mid,
                                        [](double m, float v) { return m < double(v); }) -
                       sorted.begin());
  }
  return starts;
}

std::vector<double> InitialCentroids(const std::vector<float>& sorted,
                                     const std::vector<float>& distinct,
                                     const KMeansOptions& options) {
  size_t k = size_t(options.clusters);
  size_t n = sorted.size();
  std::vector<double> centroids;
  switch (options.init) {
    case Init::kLinear: {
      double lo = sorted.front(), hi = sorted.back();
      double step = k > 1 ? (hi - lo) / double(k - 1) : 0;
      for (size_t i = 0; i < k; ++i) centroids.push_back(k > 1 ? lo + step * double(i) : lo);
      break;
    }
    case Init::kDensity:
      for (size_t i = 0; i < k; ++i) {
        centroids.push_back(sorted[std::min(n - 1, size_t((double(i) + 0.5) * double(n) / k))]);
      }
      break;
    case Init::kRandom: {
      // Partial Fisher-Yates over the distinct values: k different values, same for a seed.
      std::vector<float> pool = distinct;
      uint64_t state = options.seed;
      for (size_t i = 0; i < k; ++i) {
        size_t j = i + size_t(SplitMix64(&state) % uint64_t(pool.size() - i));
        std::swap(pool[i], pool[j]);
        centroids.push_back(pool[i]);
      }
      break;
    }
  }
  std::sort(centroids.begin(), centroids.end());
  centroids.erase(std::unique(centroids.begin(), centroids.end()), centroids.end());
  return centroids;
}

// Rounds to float and keeps only the centroids some value is nearest to (rounding can merge two
// centroids or empty a tiny cluster). Dropping an empty cluster only widens its neighbours, so
// one pass suffices.
std::vector<float> FinalCentroids(const std::vector<float>& sorted,
                                  const std::vector<double>& centroids) {
  std::vector<double> rounded;
  for (double c : centroids) rounded.push_back(double(float(c)));
  rounded.erase(std::unique(rounded.begin(), rounded.end()), rounded.end());
  std::vector<size_t> starts = ClusterStarts(sorted, rounded);
  std::vector<float> used;
  for (size_t j = 0; j < rounded.size(); ++j) {
    if (starts[j + 1] > starts[j]) used.push_back(float(rounded[j]));
  }
  return used;
}

}  // namespace

KMeansResult KMeans1d(std::vector<float> values, const KMeansOptions& options) {
  KMeansResult result;
  if (values.empty()) return result;
  std::sort(values.begin(), values.end());
  std::vector<float> distinct = values;
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  result.distinct = int64_t(distinct.size());
  if (result.distinct <= options.clusters) {
    result.centroids = distinct;
    return result;
  }
  std::vector<double> prefix(values.size() + 1, 0.0);
  for (size_t i = 0; i < values.size(); ++i) prefix[i + 1] = prefix[i] + values[i];

  std::vector<double> centroids = InitialCentroids(values, distinct, options);
  std::vector<size_t> previous;
  for (int it = 0; it < options.iterations; ++it) {
    std::vector<size_t> starts = ClusterStarts(values, centroids);
    if (starts == previous) break;
    for (size_t j = 0; j < centroids.size(); ++j) {
      size_t count = starts[j + 1] - starts[j];
      // An empty cluster keeps its centroid; FinalCentroids drops it if it stays empty.
      if (count > 0) centroids[j] = (prefix[starts[j + 1]] - prefix[starts[j]]) / double(count);
    }
    previous = std::move(starts);
    result.iterations = it + 1;
  }
  result.centroids = FinalCentroids(values, centroids);
  return result;
}

int NearestCentroid(const std::vector<float>& centroids, float value) {
  int lo = 0, hi = int(centroids.size()) - 1;
  while (lo < hi) {
    int m = (lo + hi) / 2;
    if (double(value) <= Midpoint(centroids[size_t(m)], centroids[size_t(m) + 1])) {
      hi = m;
    } else {
      lo = m + 1;
    }
  }
  return lo;
}

}  // namespace shrink::engine::cluster
