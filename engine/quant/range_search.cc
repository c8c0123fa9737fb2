// Clip-range searches on a StreamingHistogram (declared in histogram.h).
#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>
#include <vector>

#include "engine/quant/histogram.h"

namespace shrink::engine::quant {
namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();
// Share of Q's mass spread evenly over the window so that log(p / q) stays finite where a
// quantized bin lost every count (the role of ORT's smooth_distribution).
constexpr double kSmoothing = 1e-4;
constexpr int64_t kCoarseStride = 32;  // candidate positions skipped by the first, coarse pass
constexpr int kMaxRounds = 4;          // coordinate descent rounds (usually 2 suffice)

struct Window {
  double lo = 0, hi = 0;
};

// Candidate windows: each side moves independently from the observed extreme towards the
// anchor, 0 when the data straddles it, else the end of the data nearest 0 (ComputeParams
// widens the range to 0 anyway, so that end is never clipped). Side positions are n / steps of
// the way from the anchor, n in [1, steps].
class WindowGrid {
 public:
  WindowGrid(const StreamingHistogram& h, int64_t steps)
      : min_(h.domain_min()),
        max_(h.domain_max()),
        steps_(steps),
        anchor_(std::clamp(0.0, min_, max_)) {}
  Window At(int64_t lo_n, int64_t hi_n) const {
    return {anchor_ - (anchor_ - min_) * double(lo_n) / double(steps_),
            anchor_ + (max_ - anchor_) * double(hi_n) / double(steps_)};
  }
  bool lo_moves() const { return anchor_ > min_; }
  bool hi_moves() const { return max_ > anchor_; }
  int64_t steps() const { return steps_; }

 private:
  double min_, max_;
  int64_t steps_;
  double anchor_;
};

// Least cost(n) over n in [1, count], coarse to fine: every kCoarseStride-th n from the top
// (ties keep the wider window), then every 4th n around the best, then every n around that.
// Returns the best n, or `count` when every cost is +inf.
template <typename Cost>
int64_t Scan(int64_t count, const Cost& cost, double* best_cost) {
  int64_t best = count;
  *best_cost = kInfinity;
  int64_t top = count, bottom = 1;
  for (int64_t stride : {kCoarseStride, kCoarseStride / 8, int64_t(1)}) {
    for (int64_t n = top; n >= bottom; n -= stride) {
      double c = cost(n);
      if (c < *best_cost) std::tie(*best_cost, best) = std::make_tuple(c, n);
    }
    if (*best_cost == kInfinity) break;
    top = std::min(count, best + stride - 1);
    bottom = std::max<int64_t>(1, best - stride + 1);
  }
  return best;
}

// Coordinate descent over the two sides (one for magnitudes): the best upper side for the
// current lower one, then the reverse, until neither moves. Each side's cost is close to
// unimodal, so a few rounds suffice. Returns false when no window had a finite cost.
template <typename Cost>
bool SearchWindow(const WindowGrid& grid, const Cost& cost, Window* best) {
  int64_t lo_n = grid.steps(), hi_n = grid.steps();
  double best_cost = kInfinity;
  for (int round = 0; round < kMaxRounds; ++round) {
    bool moved = false;
    if (grid.hi_moves()) {
      int64_t n = Scan(
          grid.steps(), [&](int64_t m) { return cost(grid.At(lo_n, m)); }, &best_cost);
      moved |= n != hi_n;
      hi_n = n;
    }
    if (grid.lo_moves()) {
      int64_t n = Scan(
          grid.steps(), [&](int64_t m) { return cost(grid.At(m, hi_n)); }, &best_cost);
      moved |= n != lo_n;
      lo_n = n;
    }
    if (!moved) break;
  }
  *best = grid.At(lo_n, hi_n);
  return best_cost < kInfinity;
}

// Converts a window of the binned domain back to a range of the data, inside its extremes.
TensorRange ToDataRange(const StreamingHistogram& h, Window w) {
  double lo = h.magnitude() ? -w.hi : w.lo;
  TensorRange range;
  range.min = float(std::max(double(h.data_min()), lo));
  range.max = float(std::min(double(h.data_max()), w.hi));
  if (range.min > range.max) range.min = range.max;
  return range;
}

TensorRange FullRange(const StreamingHistogram& h) { return {h.data_min(), h.data_max()}; }

// Width of the integer grid's real range once the window is widened to include 0.
double GridSpan(Window w) { return std::max(w.hi, 0.0) - std::min(w.lo, 0.0); }

// Value below which a share q of the counts lies, interpolated inside its bin.
double Quantile(const StreamingHistogram& h, double q) {
  if (h.degenerate()) return h.domain_min();
  double target = q * double(h.total()), cumulative = 0;
  const auto& counts = h.counts();
  for (size_t j = 0; j < counts.size(); ++j) {
    double c = double(counts[j]);
    if (c > 0 && cumulative + c >= target) {
      double x = h.lo() + (double(j) + (target - cumulative) / c) * h.width();
      return std::clamp(x, h.domain_min(), h.domain_max());
    }
    cumulative += c;
  }
  return h.domain_max();
}

// Prefix sums over bins of count, count * centre, count * centre^2 (MSE), count * log(count)
// and non-empty bins (entropy), so that every candidate window costs O(1) or O(levels).
struct Moments {
  std::vector<double> c, x, x2, clogc;
  std::vector<int64_t> nonzero;
  Moments(const StreamingHistogram& h, const std::vector<uint64_t>& counts)
      : c(1, 0), x(1, 0), x2(1, 0), clogc(1, 0), nonzero(1, 0) {
    for (size_t j = 0; j < counts.size(); ++j) {
      double centre = h.lo() + (double(j) + 0.5) * h.width(), n = double(counts[j]);
      c.push_back(c.back() + n);
      x.push_back(x.back() + n * centre);
      x2.push_back(x2.back() + n * centre * centre);
      clogc.push_back(clogc.back() + (n > 0 ? n * std::log(n) : 0.0));
      nonzero.push_back(nonzero.back() + (n > 0));
    }
  }
};

double XLogX(double v) { return v > 0 ? v * std::log(v) : 0.0; }

double MseCost(const StreamingHistogram& h, const Moments& m, Window w, int64_t levels) {
  const double bins = h.bins(), lo = h.lo(), width = h.width();
  // Bins whose centre lies below w.lo / above w.hi are clipped to it.
  size_t below = size_t(std::clamp(std::ceil((w.lo - lo) / width - 0.5), 0.0, bins));
  size_t above = size_t(std::clamp(std::floor((w.hi - lo) / width - 0.5) + 1, 0.0, bins));
  above = std::max(above, below);
  size_t end = size_t(bins);
  double low = w.lo * w.lo * m.c[below] - 2 * w.lo * m.x[below] + m.x2[below];
  double high = (m.x2[end] - m.x2[above]) - 2 * w.hi * (m.x[end] - m.x[above]) +
                w.hi * w.hi * (m.c[end] - m.c[above]);
  double step = GridSpan(w) / double(levels - 1);
  double inside = m.c[above] - m.c[below];
  return std::max(low, 0.0) + std::max(high, 0.0) + inside * step * step / 12;
}

// KL(P || Q) of TensorRT's entropy calibration for the bins [i0, i1): P is the histogram with
// the clipped counts added to the edge bins, Q its quantization into `levels` groups (clipped
// counts excluded) spread evenly over the bins where P is non-zero. Q is constant over a
// group's non-zero bins, so with S = total count
//   KL = sum_j p_j log p_j / S - log S - sum_g P_g log q_g / S
// and each group costs O(1) from the prefix sums: O(levels) per window, one log per group.
double KlDivergence(const std::vector<uint64_t>& counts, const Moments& m, int64_t i0, int64_t i1,
                    int64_t levels) {
  const int64_t n = i1 - i0;
  const double below = m.c[size_t(i0)], above = m.c.back() - m.c[size_t(i1)];
  const double total = m.c.back();
  // The edge bins of P, with the clipped counts added (one bin when n == 1).
  const double first = double(counts[size_t(i0)]), last = double(counts[size_t(i1 - 1)]);
  double p_first = first + below + (n == 1 ? above : 0), p_last = last + above;
  double plogp = m.clogc[size_t(i1)] - m.clogc[size_t(i0)] - XLogX(first) + XLogX(p_first);
  if (n > 1) plogp += XLogX(p_last) - XLogX(last);
  auto group = [&](int64_t g, double* t, double* p, int64_t* nonzero) {
    int64_t b0 = i0 + g * n / levels, b1 = i0 + (g + 1) * n / levels;
    *t = m.c[size_t(b1)] - m.c[size_t(b0)];
    *p = *t;
    *nonzero = m.nonzero[size_t(b1)] - m.nonzero[size_t(b0)];
    if (b0 == i0 && b1 > b0) {
      *p += below + (n == 1 ? above : 0);
      *nonzero += first == 0 && p_first > 0;
    }
    if (b1 == i1 && b1 > b0 && n > 1) {
      *p += above;
      *nonzero += last == 0 && p_last > 0;
    }
  };
  double sum_q = 0;
  for (int64_t g = 0; g < levels; ++g) {
    double t, p;
    int64_t nonzero;
    group(g, &t, &p, &nonzero);
    if (nonzero > 0) sum_q += t;
  }
  if (sum_q <= 0 || total <= 0) return kInfinity;
  double cross = 0;
  for (int64_t g = 0; g < levels; ++g) {
    double t, p;
    int64_t nonzero;
    group(g, &t, &p, &nonzero);
    if (p <= 0) continue;
    double q = (1 - kSmoothing) * t / double(nonzero) / sum_q + kSmoothing / double(n);
    cross += p * std::log(q);
  }
  return plogp / total - std::log(total) - cross / total;
}

// Exact zeros (ReLU outputs, padding) pile into the bin holding 0. Every grid holds 0 exactly
// (ComputeParams widens ranges to it), so they say nothing about where to clip, yet would
// dominate P. Like NVIDIA's pytorch-quantization (bins[0] = bins[1]), the bin takes its
// neighbours' count instead.
std::vector<uint64_t> WithoutZeroSpike(const StreamingHistogram& h) {
  std::vector<uint64_t> counts = h.counts();
  double position = (0.0 - h.lo()) / h.width();
  if (position < 0 || position >= h.bins() || h.bins() < 2) return counts;
  size_t zero = size_t(position);
  uint64_t left = zero > 0 ? counts[zero - 1] : counts[zero + 1];
  uint64_t right = zero + 1 < counts.size() ? counts[zero + 1] : counts[zero - 1];
  counts[zero] = std::min(counts[zero], (left + right) / 2);
  return counts;
}

}  // namespace

double WindowKlDivergence(const StreamingHistogram& h, int64_t i0, int64_t i1, int64_t levels) {
  if (h.degenerate() || i0 < 0 || i1 > h.bins() || i1 <= i0 || levels < 1) return kInfinity;
  return KlDivergence(h.counts(), Moments(h, h.counts()), i0, i1, levels);
}

int64_t SearchLevels(QuantType type, bool symmetric) {
  int64_t qmin = QuantMin(type), qmax = QuantMax(type);
  if (!symmetric) return qmax - qmin + 1;
  int64_t zero_point = qmin < 0 ? 0 : (qmax + 1) / 2;
  return qmax - zero_point + 1;
}

TensorRange PercentileRange(const StreamingHistogram& h, double percentile) {
  if (h.empty()) return {};
  double clipped = std::clamp((100.0 - percentile) / 100.0, 0.0, 1.0);
  if (h.magnitude()) return ToDataRange(h, {0, Quantile(h, 1 - clipped)});
  return ToDataRange(h, {Quantile(h, clipped), Quantile(h, 1 - clipped)});
}

TensorRange MseRange(const StreamingHistogram& h, int64_t levels) {
  if (h.empty() || h.degenerate() || levels < 2) return FullRange(h);
  Moments moments(h, h.counts());
  // One candidate position per bin and side, coarse to fine; each costs O(1).
  WindowGrid grid(h, int64_t(h.bins()));
  Window best;
  if (!SearchWindow(
          grid, [&](Window w) { return MseCost(h, moments, w, levels); }, &best)) {
    return FullRange(h);
  }
  return ToDataRange(h, best);
}

TensorRange EntropyRange(const StreamingHistogram& h, int64_t levels) {
  if (h.empty() || h.degenerate() || levels < 2) return FullRange(h);
  const std::vector<uint64_t> counts = WithoutZeroSpike(h);
  Moments moments(h, counts);
  const int64_t bins = h.bins();
  // +inf marks a window that cannot be judged: fewer bins than the levels it holds.
  auto cost = [&](Window w) {
    double span = GridSpan(w);
    int64_t i0 = std::clamp<int64_t>(std::llround((w.lo - h.lo()) / h.width()), 0, bins - 1);
    int64_t i1 = std::clamp<int64_t>(std::llround((w.hi - h.lo()) / h.width()), i0 + 1, bins);
    int64_t inside_levels =
        span > 0 ? std::max<int64_t>(1, std::llround(double(levels) * (w.hi - w.lo) / span)) : 1;
    if (i1 - i0 < inside_levels) return kInfinity;
    return KlDivergence(counts, moments, i0, i1, inside_levels);
  };
  WindowGrid grid(h, bins);
  Window best;
  if (!SearchWindow(grid, cost, &best)) {
    return FullRange(h);  // no window has a bin per level (16-bit targets)
  }
  return ToDataRange(h, best);
}

}  // namespace shrink::engine::quant
