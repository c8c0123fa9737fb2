// Shape and type inference with libonnx's implementation: fills value_info (and untyped graph
// outputs) of the graph and its subgraphs. Ops libonnx does not know are left without shapes.
#pragma once

#include "common/status.h"
#include "engine/ir/graph.h"

namespace shrink::engine {

struct ShapeInferenceOptions {
  bool strict = false;  // fail on node-level inference errors instead of skipping them
  bool data_propagation = true;
};

Status InferShapes(Model* model, const ShapeInferenceOptions& options = {});

}  // namespace shrink::engine
