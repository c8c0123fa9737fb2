// Streaming comparison metrics of a candidate model against a reference model, batch by batch.
// Only running sums are kept, so memory does not grow with the number of samples.
//
// Per output (OutputAccumulator): SQNR = 10 log10(sum ref^2 / sum (ref - cand)^2) over all
// elements (+inf stored as 999, a zero reference with nonzero error as -999), cosine similarity
// of the flattened outputs, max and mean absolute error, and for classifier outputs (2-D
// [N, C >= 2], floating point) the share of samples with the same top-1 class.
//
// With labels (AccuracyAccumulator): top-1 and top-k of both models on a classifier output and
// the drop (reference - candidate, in points) with a 95% interval from the paired per-sample
// differences d_i = ref_correct_i - cand_correct_i: mean +- 1.96 sd / sqrt(n) (normal
// approximation; sd is the sample standard deviation, 0 when n = 1).
//
// Argmax follows numpy/ORT: the first index wins ties.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "engine/ir/tensor.h"
#include "shrink/v1/report.pb.h"

namespace shrink::engine::eval {

inline constexpr double kInfiniteSqnrDb = 999;  // stored for identical outputs

// True for a floating-point [samples, C >= 2] tensor (trailing dims of 1 allowed, as in
// [N, C, 1, 1]): scores per class.
bool IsClassifierShape(const Tensor& value, int64_t samples);

// Position of `label` when `scores` are sorted best first, ties broken by lower index
// (0 = top-1). Top-k is correct when the rank is below k.
int64_t LabelRank(const float* scores, int64_t classes, int64_t label);

// Index of the largest score, first one on ties.
int64_t Argmax(const float* scores, int64_t classes);

class OutputAccumulator {
 public:
  explicit OutputAccumulator(std::string output) : output_(std::move(output)) {}
  // One batch of this output from both models. Shapes and dtypes must match; non-numeric
  // outputs are errors. `samples` is the batch size (for the classifier test).
  Status Add(const Tensor& reference, const Tensor& candidate, int64_t samples);
  v1::OutputMetrics Result() const;
  const std::string& output() const { return output_; }

 private:
  std::string output_;
  bool classifier_ = true;  // until a batch says otherwise
  int64_t batches_ = 0;
  int64_t elements_ = 0;
  int64_t agree_ = 0;
  int64_t rows_ = 0;
  double sum_ref2_ = 0, sum_cand2_ = 0, sum_dot_ = 0, sum_err2_ = 0, sum_abs_ = 0;
  double max_abs_ = 0;
};

class AccuracyAccumulator {
 public:
  AccuracyAccumulator(std::string output, int k) : output_(std::move(output)), k_(k) {}
  // [N, C] scores of both models and int64 labels [N] in [0, C).
  Status Add(const Tensor& reference, const Tensor& candidate, const Tensor& labels);
  v1::AccuracyMetrics Result() const;
  const std::string& output() const { return output_; }

 private:
  std::string output_;
  int k_;
  int64_t classes_ = 0;
  int64_t samples_ = 0;
  int64_t ref_top1_ = 0, cand_top1_ = 0, ref_topk_ = 0, cand_topk_ = 0;
  int64_t sum_d2_ = 0;  // sum of d_i^2 (d_i in {-1, 0, 1}); sum d_i = ref_top1_ - cand_top1_
};

// The 95% interval of a paired difference in points, from n, sum d_i and sum d_i^2.
void PairedInterval95(int64_t n, double sum_d, double sum_d2, double* low, double* high);

}  // namespace shrink::engine::eval
