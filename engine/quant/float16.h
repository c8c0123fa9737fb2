// Float16 conversion. Weights-only stores float initializers as float16 and puts a Cast back to
// float in front of their consumers (2x smaller, runs everywhere). Full conversion also runs the
// activations in float16, with Casts at model I/O (optional) and around blocked ops.
#pragma once

#include <set>
#include <string>

#include "common/status.h"
#include "engine/ir/graph.h"
#include "engine/quant/qdq_quantizer.h"
#include "engine/quant/quant_types.h"

namespace shrink::engine::quant {

struct Float16Options {
  bool weights_only = false;
  bool keep_io_float32 = true;  // model inputs/outputs stay float32 (Casts inserted)
  // Ops that must stay float32 in full conversion (Casts inserted around them). Ops without a
  // float16 kernel in ONNX Runtime's CPU provider are always kept in float32; the report says so.
  NodeFilter filter;
};

// Values outside the float16 range are clamped to +-65504 (counted in clamped_values);
// infinities and NaN are kept.
StatusOr<QuantSummary> ConvertToFloat16(Model* model, const Float16Options& options);

}  // namespace shrink::engine::quant
