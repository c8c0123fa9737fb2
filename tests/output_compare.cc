#include "tests/output_compare.h"

#include <algorithm>
#include <cmath>

namespace shrink::testing {

using engine::Tensor;

Difference Compare(const Tensor& ours, const Tensor& ort) {
  Difference diff;
  if (ours.dtype() != ort.dtype()) {
    diff.problem = std::string("dtype ") + engine::DataTypeName(ours.dtype()) + " vs ORT " +
                   engine::DataTypeName(ort.dtype());
    return diff;
  }
  if (ours.shape() != ort.shape()) {
    diff.problem = "shape " + engine::ShapeToString(ours.shape()) + " vs ORT " +
                   engine::ShapeToString(ort.shape());
    return diff;
  }
  double signal = 0, noise = 0;
  for (int64_t i = 0; i < ort.size(); ++i) {
    double a = ours.GetAsDouble(i);
    double e = ort.GetAsDouble(i);
    if (std::isnan(a) || std::isnan(e)) {
      if (std::isnan(a) != std::isnan(e) && diff.problem.empty()) {
        diff.problem = "NaN disagreement at element " + std::to_string(i);
      }
      continue;
    }
    if (std::isinf(a) || std::isinf(e)) {
      if (a != e && diff.problem.empty())
        diff.problem = "inf disagreement at element " + std::to_string(i);
      continue;
    }
    double abs_err = std::fabs(a - e);
    signal += e * e;
    noise += abs_err * abs_err;
    double scaled = abs_err / std::max(1.0, std::fabs(e));
    diff.max_abs = std::max(diff.max_abs, abs_err);
    if (std::fabs(e) >= 1e-3) diff.max_rel = std::max(diff.max_rel, abs_err / std::fabs(e));
    if (scaled > diff.max_scaled || diff.worst < 0) {
      diff.max_scaled = std::max(diff.max_scaled, scaled);
      diff.worst = i;
    }
  }
  diff.sqnr_db = noise > 0 ? 10 * std::log10(signal / noise) : INFINITY;
  return diff;
}

}  // namespace shrink::testing
