#include "engine/quant/histogram.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace shrink::engine::quant {
namespace {

constexpr int64_t kChunk = 512;      // indices computed per vectorized block before counting
constexpr double kMinWidth = 1e-30;  // keeps 1 / width finite in float
constexpr double kEdgeSlack = 1e-3;  // in bins: how far outside the range still counts as inside

// kLanes independent accumulators so that GCC emits packed min/max without -ffast-math (with
// 8 or 16 lanes it did not, and ran 4x slower). `probe` sums v * 0, which stays 0 unless
// some v is NaN or infinite.
void MinMaxLanes(const float* values, int64_t count, float* min, float* max, bool* all_finite) {
  constexpr int kLanes = 32;
  constexpr float kInf = std::numeric_limits<float>::infinity();
  float lo[kLanes], hi[kLanes], probe[kLanes];
  std::fill(lo, lo + kLanes, kInf);
  std::fill(hi, hi + kLanes, -kInf);
  std::fill(probe, probe + kLanes, 0.0f);
  int64_t i = 0;
  for (; i + kLanes <= count; i += kLanes) {
    for (int j = 0; j < kLanes; ++j) {
      float v = values[i + j];
      lo[j] = v < lo[j] ? v : lo[j];
      hi[j] = v > hi[j] ? v : hi[j];
      probe[j] += v * 0.0f;
    }
  }
  for (; i < count; ++i) {
    lo[0] = values[i] < lo[0] ? values[i] : lo[0];
    hi[0] = values[i] > hi[0] ? values[i] : hi[0];
    probe[0] += values[i] * 0.0f;
  }
  float sum = 0;
  for (int j = 0; j < kLanes; ++j) sum += probe[j];
  *min = *std::min_element(lo, lo + kLanes);
  *max = *std::max_element(hi, hi + kLanes);
  *all_finite = sum == 0;
}

bool SlowFiniteMinMax(const float* values, int64_t count, float* min, float* max) {
  float mn = std::numeric_limits<float>::infinity(), mx = -mn;
  for (int64_t i = 0; i < count; ++i) {
    if (!std::isfinite(values[i])) continue;
    mn = std::min(mn, values[i]);
    mx = std::max(mx, values[i]);
  }
  *min = mn;
  *max = mx;
  return mn <= mx;
}

}  // namespace

bool FiniteMinMax(const float* values, int64_t count, float* min, float* max) {
  bool all_finite = true;
  MinMaxLanes(values, count, min, max, &all_finite);
  if (!all_finite) return SlowFiniteMinMax(values, count, min, max);
  return *min <= *max;
}

StreamingHistogram::StreamingHistogram(int bins, bool magnitude)
    : bins_(std::max(bins, 2)), magnitude_(magnitude) {}

double StreamingHistogram::domain_min() const {
  if (!magnitude_) return data_min_;
  if (data_min_ >= 0) return data_min_;
  return data_max_ <= 0 ? -double(data_max_) : 0.0;
}

double StreamingHistogram::domain_max() const {
  if (!magnitude_) return data_max_;
  return std::max(-double(data_min_), double(data_max_));
}

void StreamingHistogram::Add(const float* values, int64_t count) {
  if (count <= 0) return;
  float batch_min = 0, batch_max = 0;
  bool all_finite = true;
  MinMaxLanes(values, count, &batch_min, &batch_max, &all_finite);
  if (all_finite) return AddFinite(values, count, batch_min, batch_max);
  // Rare: NaN or infinities (e.g. masked scores). Bin the finite values only.
  std::vector<float> finite;
  for (int64_t i = 0; i < count; ++i) {
    if (std::isfinite(values[i])) finite.push_back(values[i]);
  }
  if (finite.empty()) return;
  SlowFiniteMinMax(finite.data(), int64_t(finite.size()), &batch_min, &batch_max);
  AddFinite(finite.data(), int64_t(finite.size()), batch_min, batch_max);
}

void StreamingHistogram::AddFinite(const float* values, int64_t count, float batch_min,
                                   float batch_max) {
  bool first = total_ == 0;
  data_min_ = first ? batch_min : std::min(data_min_, batch_min);
  data_max_ = first ? batch_max : std::max(data_max_, batch_max);
  double need_lo = domain_min(), need_hi = domain_max();
  if (counts_.empty()) {
    if (need_lo == need_hi) {  // still a single value: count it, allocate nothing
      point_ = need_lo;
      total_ += count;
      return;
    }
    Start(need_lo, need_hi);
    if (!first) {  // the values counted while degenerate all equal point_
      int64_t bin = std::clamp<int64_t>(int64_t((point_ - lo_) / width_), 0, bins_ - 1);
      counts_[size_t(bin)] += uint64_t(total_);
    }
  } else {
    // Rounding in the bin arithmetic can put an extreme a hair outside the range; such values
    // go to the edge bin. Widening for them would double the range on every batch.
    double slack = width_ * kEdgeSlack;
    if (need_lo < lo_ - slack || need_hi > lo_ + bins_ * width_ + slack) Widen(need_lo, need_hi);
  }
  total_ += count;
  if (magnitude_) {
    Bin<true>(values, count);
  } else {
    Bin<false>(values, count);
  }
}

void StreamingHistogram::Start(double lo, double hi) {
  counts_.assign(size_t(bins_), 0);
  lo_ = lo;
  width_ = std::max((hi - lo) / bins_, kMinWidth);
}

// New width k * width and new origin lo - t * k * width, k and t integers: old bin edges stay
// bin edges, so every old bin falls whole into one new bin. The new range need only cover the
// data seen (old bins outside it are empty). k is the least factor that fits the data in
// bins - 1 new bins (1 is a pure shift), so right after a widening the data spans at least
// about half the bins, and that share only grows until the next one. t centres the data.
void StreamingHistogram::Widen(double need_lo, double need_hi) {
  const double bins = bins_;
  double k = std::max(1.0, std::ceil((need_hi - need_lo) / ((bins - 1) * width_)));
  double t = 0;
  for (;; k = std::max(k + 1, std::ceil(k * 1.001))) {
    const double step = k * width_;
    double t_min = std::ceil((lo_ - need_lo) / step);
    double t_max = std::floor((lo_ + bins * step - need_hi) / step);
    double centre = (lo_ - 0.5 * (need_lo + need_hi) + 0.5 * bins * step) / step;
    t = std::clamp(std::round(centre), t_min, std::max(t_min, t_max));
    double new_lo = lo_ - t * step;
    if (t_min <= t_max && new_lo <= need_lo && new_lo + bins * step >= need_hi) break;
  }
  std::vector<uint64_t> merged(size_t(bins_), 0);
  for (int j = 0; j < bins_; ++j) {
    if (counts_[size_t(j)] == 0) continue;
    double target = t + std::floor(j / k);  // only rounding can put an occupied bin outside
    merged[size_t(std::clamp(target, 0.0, bins - 1))] += counts_[size_t(j)];
  }
  counts_.swap(merged);
  lo_ -= t * k * width_;
  width_ *= k;
  ++widenings_;
}

template <bool kMagnitude>
void StreamingHistogram::Bin(const float* values, int64_t count) {
  const float lo = float(lo_), inv = float(1.0 / width_), top = float(bins_ - 1);
  const size_t bins = size_t(bins_);
  // Runs of one bin (ReLU zeros) chain each increment on the previous store. Four interleaved
  // scratch copies, merged at the end, break the chain; they are per thread, not per tensor,
  // and only pay for their merge on tensors with at least as many values as bins.
  const bool interleave = count >= int64_t(bins) && count <= int64_t(UINT32_MAX);
  thread_local std::vector<uint32_t> scratch;
  if (interleave) scratch.assign(4 * bins, 0);
  uint32_t* copies[4] = {scratch.data(), scratch.data() + bins, scratch.data() + 2 * bins,
                         scratch.data() + 3 * bins};
  int32_t index[kChunk];
  uint64_t* counts = counts_.data();
  for (int64_t start = 0; start < count; start += kChunk) {
    int64_t n = std::min(kChunk, count - start);
    const float* v = values + start;
    // Multiply by the inverse width and clamp with selects: no division, no branch.
    for (int64_t i = 0; i < n; ++i) {
      float x = kMagnitude ? std::fabs(v[i]) : v[i];
      float f = (x - lo) * inv;
      f = f > 0.0f ? f : 0.0f;
      f = f < top ? f : top;
      index[i] = int32_t(f);
    }
    int64_t i = 0;
    if (interleave) {
      for (; i + 4 <= n; i += 4) {
        ++copies[0][index[i]];
        ++copies[1][index[i + 1]];
        ++copies[2][index[i + 2]];
        ++copies[3][index[i + 3]];
      }
    }
    for (; i < n; ++i) ++counts[index[i]];
  }
  if (!interleave) return;
  for (size_t j = 0; j < bins; ++j) {
    counts[j] += uint64_t(copies[0][j]) + copies[1][j] + copies[2][j] + copies[3][j];
  }
}

}  // namespace shrink::engine::quant
