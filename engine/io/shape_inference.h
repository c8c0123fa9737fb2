// Shape and type inference with libonnx's implementation: fills value_info (and untyped graph
// outputs) of the graph and its subgraphs. Ops libonnx does not know are left without shapes.
// libonnx 1.12 has no schemas past opset 17: for opset-18 models inference is skipped (the
// opset-17 schemas would give wrong shapes for Split/Reduce*/Pad/Resize-18 forms); IR 9/10 models
// are inferred as IR 8 and skipped if libonnx cannot read them. The report says which happened.
#pragma once

#include <string>

#include "common/status.h"
#include "engine/ir/graph.h"

namespace shrink::engine {

struct ShapeInferenceOptions {
  bool strict = false;  // fail on node-level inference errors instead of skipping them
  bool data_propagation = true;
};

struct ShapeInferenceReport {
  bool inferred = false;  // libonnx ran and its results were copied
  std::string note;       // why inference was skipped or adapted; "" when it ran as is
};

// Never fails because the model is newer than libonnx; fails on malformed models (and, with
// options.strict, on node-level inference errors).
StatusOr<ShapeInferenceReport> InferShapesWithReport(Model* model,
                                                     const ShapeInferenceOptions& options = {});
// The same, without the report.
Status InferShapes(Model* model, const ShapeInferenceOptions& options = {});

}  // namespace shrink::engine
