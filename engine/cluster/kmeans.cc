#include "engine/cluster/kmeans.h"

#include <algorithm>
#include <cstddef>
#include <functional>
#include <utility>

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

// Prefix sums of the sorted values and of their squares: a cluster's mean and squared error in
// O(1) from its index range [lo, hi).
struct PrefixSums {
  explicit PrefixSums(const std::vector<float>& sorted)
      : s1(sorted.size() + 1, 0.0), s2(sorted.size() + 1, 0.0) {
    for (size_t i = 0; i < sorted.size(); ++i) {
      s1[i + 1] = s1[i] + sorted[i];
      s2[i + 1] = s2[i] + double(sorted[i]) * sorted[i];
    }
  }
  double Mean(size_t lo, size_t hi) const { return (s1[hi] - s1[lo]) / double(hi - lo); }
  double SquaredError(size_t lo, size_t hi) const {
    double sum = s1[hi] - s1[lo];
    return std::max(0.0, (s2[hi] - s2[lo]) - sum * sum / double(hi - lo));
  }
  std::vector<double> s1, s2;
};

// One Lloyd update. An empty cluster (linear init on heavy-tailed weights leaves some) moves to
// the value farthest from the centre of the cluster with the largest squared error, as
// scikit-learn does, so that every cluster ends up used when there are enough distinct values.
void UpdateCentroids(const std::vector<float>& sorted, const PrefixSums& sums,
                     const std::vector<size_t>& starts, std::vector<double>* centroids) {
  std::vector<size_t> empty;
  std::vector<std::pair<double, size_t>> splittable;  // (squared error, cluster)
  for (size_t j = 0; j < centroids->size(); ++j) {
    size_t lo = starts[j], hi = starts[j + 1];
    if (lo == hi) {
      empty.push_back(j);
      continue;
    }
    (*centroids)[j] = sums.Mean(lo, hi);
    double error = sums.SquaredError(lo, hi);
    if (hi - lo >= 2 && error > 0) splittable.emplace_back(error, j);
  }
  if (empty.empty()) return;
  std::sort(splittable.begin(), splittable.end(), std::greater<>());
  for (size_t e = 0; e < empty.size() && e < splittable.size(); ++e) {
    size_t j = splittable[e].second;
    double centre = (*centroids)[j];
    float first = sorted[starts[j]], last = sorted[starts[j + 1] - 1];
    (*centroids)[empty[e]] = centre - first > last - centre ? first : last;
  }
  std::sort(centroids->begin(), centroids->end());
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
  PrefixSums sums(values);
  std::vector<double> centroids = InitialCentroids(values, distinct, options);
  std::vector<size_t> previous;
  for (int it = 0; it < options.iterations; ++it) {
    std::vector<size_t> starts = ClusterStarts(values, centroids);
    if (starts == previous) break;
    UpdateCentroids(values, sums, starts, &centroids);
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
