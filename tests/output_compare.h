// Comparison of two runtimes' outputs: the judge test, the compare tool.
#pragma once

#include <cstdint>
#include <string>

#include "engine/ir/tensor.h"

namespace shrink::testing {

struct Difference {
  double max_abs = 0;     // max |ours - ort|
  double max_rel = 0;     // max |ours - ort| / |ort| over elements with |ort| >= 1e-3
  double max_scaled = 0;  // max |ours - ort| / max(1, |ort|): the quantity bounded by kTolerance
  int64_t worst = -1;     // index of max_scaled
  double sqnr_db = 0;     // 10 log10(sum ort^2 / sum (ours - ort)^2); +inf when identical
  std::string problem;    // dtype/shape mismatch or NaN disagreement
};

// Element-wise differences of `ours` against the reference `ort` (same dtype and shape).
Difference Compare(const engine::Tensor& ours, const engine::Tensor& ort);

}  // namespace shrink::testing
