#include "engine/eval/metrics.h"

#include <algorithm>
#include <cmath>

#include "engine/ir/dtype.h"

namespace shrink::engine::eval {
namespace {

// Float32 scores for argmax and ranks (float16/float64 classifier outputs are converted).
Tensor AsFloat32(const Tensor& value) {
  if (value.dtype() == DataType::kFloat32) return value;
  Tensor converted(DataType::kFloat32, value.shape());
  float* out = converted.data<float>();
  for (int64_t i = 0; i < value.size(); ++i) out[i] = float(value.GetAsDouble(i));
  return converted;
}

bool IsNumeric(DataType type) { return type != DataType::kString && type != DataType::kUndefined; }

// Running sums over element pairs; `ref` and `cand` map an index to its value.
template <typename RefFn, typename CandFn>
void SumElements(int64_t n, RefFn ref, CandFn cand, double* sums, double* max_abs) {
  double ref2 = 0, cand2 = 0, dot = 0, err2 = 0, abs_sum = 0, max_err = *max_abs;
  for (int64_t i = 0; i < n; ++i) {
    const double r = ref(i), c = cand(i), e = r - c;
    ref2 += r * r;
    cand2 += c * c;
    dot += r * c;
    err2 += e * e;
    abs_sum += std::fabs(e);
    // NaN differences must show up, so compare with !(<=).
    if (!(std::fabs(e) <= max_err)) max_err = std::fabs(e);
  }
  sums[0] += ref2;
  sums[1] += cand2;
  sums[2] += dot;
  sums[3] += err2;
  sums[4] += abs_sum;
  *max_abs = max_err;
}

double Percent(int64_t part, int64_t whole) {
  return whole > 0 ? 100.0 * double(part) / double(whole) : 0.0;
}

}  // namespace

bool IsClassifierShape(const Tensor& value, int64_t samples) {
  // [N, C], or [N, C, 1, 1] as convolutional classifiers without a final Flatten give.
  if (!IsFloatingPoint(value.dtype()) || value.rank() < 2 || value.dim(0) != samples ||
      value.dim(1) < 2) {
    return false;
  }
  for (int axis = 2; axis < value.rank(); ++axis) {
    if (value.dim(axis) != 1) return false;
  }
  return true;
}

int64_t Argmax(const float* scores, int64_t classes) {
  int64_t best = 0;
  for (int64_t j = 1; j < classes; ++j) {
    if (scores[j] > scores[best]) best = j;
  }
  return best;
}

int64_t LabelRank(const float* scores, int64_t classes, int64_t label) {
  const float target = scores[label];
  // A NaN score for the label can never count as correct.
  if (std::isnan(target)) return classes;
  int64_t rank = 0;
  for (int64_t j = 0; j < classes; ++j) {
    if (scores[j] > target || (j < label && scores[j] == target)) ++rank;
  }
  return rank;
}

Status OutputAccumulator::Add(const Tensor& reference, const Tensor& candidate, int64_t samples) {
  if (reference.shape() != candidate.shape()) {
    return InvalidArgument("output '" + output_ + "': candidate shape " +
                           ShapeToString(candidate.shape()) + " differs from reference shape " +
                           ShapeToString(reference.shape()));
  }
  if (!IsNumeric(reference.dtype()) || !IsNumeric(candidate.dtype())) {
    return InvalidArgument("output '" + output_ + "': cannot compare " +
                           DataTypeName(reference.dtype()) + " with " +
                           DataTypeName(candidate.dtype()));
  }
  double sums[5] = {sum_ref2_, sum_cand2_, sum_dot_, sum_err2_, sum_abs_};
  const int64_t n = reference.size();
  if (reference.dtype() == DataType::kFloat32 && candidate.dtype() == DataType::kFloat32) {
    const float* r = reference.data<float>();
    const float* c = candidate.data<float>();
    SumElements(
        n, [r](int64_t i) { return double(r[i]); }, [c](int64_t i) { return double(c[i]); }, sums,
        &max_abs_);
  } else {
    SumElements(
        n, [&](int64_t i) { return reference.GetAsDouble(i); },
        [&](int64_t i) { return candidate.GetAsDouble(i); }, sums, &max_abs_);
  }
  sum_ref2_ = sums[0];
  sum_cand2_ = sums[1];
  sum_dot_ = sums[2];
  sum_err2_ = sums[3];
  sum_abs_ = sums[4];
  elements_ += n;
  ++batches_;
  classifier_ =
      classifier_ && IsClassifierShape(reference, samples) && IsClassifierShape(candidate, samples);
  if (classifier_) {
    const Tensor r = AsFloat32(reference), c = AsFloat32(candidate);
    const int64_t classes = r.dim(1);
    for (int64_t row = 0; row < r.dim(0); ++row) {
      const float* rr = r.data<float>() + row * classes;
      const float* cc = c.data<float>() + row * classes;
      agree_ += Argmax(rr, classes) == Argmax(cc, classes);
    }
    rows_ += r.dim(0);
  }
  return OkStatus();
}

v1::OutputMetrics OutputAccumulator::Result() const {
  v1::OutputMetrics metrics;
  metrics.set_output(output_);
  const bool classifier = classifier_ && batches_ > 0;
  metrics.set_classifier(classifier);
  if (classifier) metrics.set_agreement(rows_ > 0 ? double(agree_) / double(rows_) : 0.0);
  if (sum_err2_ == 0) {
    metrics.set_sqnr_db(kInfiniteSqnrDb);
  } else if (sum_ref2_ == 0) {
    metrics.set_sqnr_db(-kInfiniteSqnrDb);
  } else {
    metrics.set_sqnr_db(10.0 * std::log10(sum_ref2_ / sum_err2_));
  }
  if (sum_ref2_ == 0 && sum_cand2_ == 0) {
    metrics.set_cosine(1.0);  // both all zero: the same direction by convention
  } else if (sum_ref2_ == 0 || sum_cand2_ == 0) {
    metrics.set_cosine(0.0);
  } else {
    metrics.set_cosine(sum_dot_ / std::sqrt(sum_ref2_ * sum_cand2_));
  }
  metrics.set_max_abs_error(max_abs_);
  metrics.set_mean_abs_error(elements_ > 0 ? sum_abs_ / double(elements_) : 0.0);
  return metrics;
}

Status AccuracyAccumulator::Add(const Tensor& reference, const Tensor& candidate,
                                const Tensor& labels) {
  const int64_t n = labels.size();
  if (labels.dtype() != DataType::kInt64 || labels.rank() != 1) {
    return InvalidArgument("labels must be a 1-D integer array, got " +
                           std::string(DataTypeName(labels.dtype())) + " " +
                           ShapeToString(labels.shape()));
  }
  if (!IsClassifierShape(reference, n) || !IsClassifierShape(candidate, n)) {
    return InvalidArgument("output '" + output_ + "' is not [" + std::to_string(n) +
                           ", C>=2] scores for " + std::to_string(n) + " labels: reference " +
                           ShapeToString(reference.shape()) + ", candidate " +
                           ShapeToString(candidate.shape()));
  }
  const Tensor r = AsFloat32(reference), c = AsFloat32(candidate);
  const int64_t classes = r.dim(1);
  if (classes_ == 0) classes_ = classes;
  const int64_t k = std::min<int64_t>(k_, classes);
  const int64_t* label = labels.data<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    if (label[i] < 0 || label[i] >= classes) {
      return InvalidArgument("label " + std::to_string(label[i]) + " of sample " +
                             std::to_string(samples_ + i) + " is outside the " +
                             std::to_string(classes) + " classes of output '" + output_ + "'");
    }
    const int64_t ref_rank = LabelRank(r.data<float>() + i * classes, classes, label[i]);
    const int64_t cand_rank = LabelRank(c.data<float>() + i * classes, classes, label[i]);
    ref_top1_ += ref_rank == 0;
    cand_top1_ += cand_rank == 0;
    ref_topk_ += ref_rank < k;
    cand_topk_ += cand_rank < k;
    sum_d2_ += (ref_rank == 0) != (cand_rank == 0);
  }
  samples_ += n;
  return OkStatus();
}

void PairedInterval95(int64_t n, double sum_d, double sum_d2, double* low, double* high) {
  if (n <= 0) {
    *low = *high = 0;
    return;
  }
  const double mean = sum_d / double(n);
  double sd = 0;
  if (n > 1) sd = std::sqrt(std::max(0.0, (sum_d2 - double(n) * mean * mean) / double(n - 1)));
  const double half = 1.96 * sd / std::sqrt(double(n));
  *low = 100.0 * (mean - half);
  *high = 100.0 * (mean + half);
}

v1::AccuracyMetrics AccuracyAccumulator::Result() const {
  v1::AccuracyMetrics metrics;
  metrics.set_samples(samples_);
  metrics.set_k(int32_t(classes_ > 0 ? std::min<int64_t>(k_, classes_) : k_));
  metrics.set_reference_correct(ref_top1_);
  metrics.set_candidate_correct(cand_top1_);
  metrics.set_reference_top1(Percent(ref_top1_, samples_));
  metrics.set_candidate_top1(Percent(cand_top1_, samples_));
  metrics.set_reference_topk(Percent(ref_topk_, samples_));
  metrics.set_candidate_topk(Percent(cand_topk_, samples_));
  // The same expression as the interval's center, so a zero-width interval holds the drop.
  const double sum_d = double(ref_top1_ - cand_top1_);
  metrics.set_drop(samples_ > 0 ? 100.0 * (sum_d / double(samples_)) : 0.0);
  double low = 0, high = 0;
  PairedInterval95(samples_, sum_d, double(sum_d2_), &low, &high);
  metrics.set_drop_ci95_low(low);
  metrics.set_drop_ci95_high(high);
  metrics.set_output(output_);
  return metrics;
}

}  // namespace shrink::engine::eval
