// The histogram behind the percentile, entropy and MSE calibrators, and the clip-range searches
// run on it. The histogram has a fixed number of bins and streams: its range starts at the
// first batch's extent and, when a later value falls outside, widens by an integer factor so
// old bins merge exactly into new ones. Memory never depends on the number of observations and
// the data is seen once. The data seen always spans at least about half the bins. Not
// thread-safe.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/quant/quant_types.h"

namespace shrink::engine::quant {

// Min and max of the finite values (NaN and +-inf are skipped). Returns false when there are
// none. One vectorizable pass; a second, scalar pass only when a non-finite value is present.
bool FiniteMinMax(const float* values, int64_t count, float* min, float* max);

class StreamingHistogram {
 public:
  // `magnitude`: bins |x| (for ranges symmetric about 0) instead of x. At least 2 bins.
  StreamingHistogram(int bins, bool magnitude);

  // Bins the finite values; non-finite ones are skipped.
  void Add(const float* values, int64_t count);

  bool empty() const { return total_ == 0; }
  int64_t total() const { return total_; }
  int bins() const { return bins_; }
  bool magnitude() const { return magnitude_; }
  // Exact extremes of the signed values seen (magnitude mode included).
  float data_min() const { return data_min_; }
  float data_max() const { return data_max_; }
  // Extremes in the binned domain: |x| in magnitude mode, else the same as data_min/max.
  double domain_min() const;
  double domain_max() const;
  // All values so far were equal (to domain_min()): no bins are allocated yet.
  bool degenerate() const { return counts_.empty(); }
  // Bin j covers [lo + j * width, lo + (j + 1) * width); the last bin also holds its top edge.
  double lo() const { return lo_; }
  double width() const { return width_; }
  const std::vector<uint64_t>& counts() const { return counts_; }
  int64_t widenings() const { return widenings_; }  // re-binnings (widening or shifting)

 private:
  void AddFinite(const float* values, int64_t count, float batch_min, float batch_max);
  void Start(double lo, double hi);
  void Widen(double need_lo, double need_hi);
  template <bool kMagnitude>
  void Bin(const float* values, int64_t count);

  int bins_;
  bool magnitude_;
  std::vector<uint64_t> counts_;  // empty while degenerate
  double lo_ = 0, width_ = 0;
  double point_ = 0;  // the single domain value seen while degenerate
  int64_t total_ = 0;
  float data_min_ = 0, data_max_ = 0;
  int64_t widenings_ = 0;
};

// Clip-range searches. Each returns a range inside [data_min, data_max]; in magnitude mode the
// threshold t becomes [-t, t] clipped to the data.
//
// Percentile: magnitude mode keeps `percentile`% of |x|; signed mode keeps `percentile`% of
// each tail, i.e. returns the (100 - p)th and pth percentiles, as CalibrationOptions states.
// (ONNX Runtime instead splits the clipped share between the tails: its p equals our
// (100 + p) / 2.) The cut point is interpolated linearly inside its bin.
TensorRange PercentileRange(const StreamingHistogram& histogram, double percentile);

// Number of quantization levels a clip window is spread over: the magnitude side for symmetric
// ranges (128 for int8 / uint8, 32768 for 16-bit), the whole type otherwise (256, 65536).
int64_t SearchLevels(QuantType type, bool symmetric);

// Entropy and MSE search clip windows whose two ends move independently from the observed
// extremes towards 0 (towards the end nearest 0 when the data excludes 0; magnitudes have one
// end), by coordinate descent: best upper end for the current lower one, then the reverse.
//
// Entropy (TensorRT style): the window whose quantization into its share of `levels` has the
// least KL divergence from the clipped distribution. The bin holding 0 first gets its
// neighbours' count (if lower): exact zeros from ReLU or padding are exact on every grid and
// would otherwise dominate the divergence, as pytorch-quantization also does. When a window holds
// more levels than bins (16-bit targets with 2048 bins) the histogram cannot see rounding loss,
// only clipping, so such windows are not candidates; with none left, the observed range is
// returned.
TensorRange EntropyRange(const StreamingHistogram& histogram, int64_t levels);

// MSE: the window minimising clipping error plus rounding noise (step^2 / 12 per unclipped
// value, step = window widened to 0 over levels - 1), from bin centres. Works for any `levels`;
// for 16-bit targets rounding noise is tiny, so it keeps (nearly) the full range.
TensorRange MseRange(const StreamingHistogram& histogram, int64_t levels);

// The KL divergence EntropyRange minimises, for the bins [i0, i1) quantized into `levels`
// groups (+inf when it is undefined). Exposed for tests.
double WindowKlDivergence(const StreamingHistogram& histogram, int64_t i0, int64_t i1,
                          int64_t levels);

}  // namespace shrink::engine::quant
