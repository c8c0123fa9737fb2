// Small models for the opset/IR round-trip tests, shared by the engine tests and the ORT judge
// tests (tests/opset_ort_test.cc). Test-only code.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/ir/graph.h"

namespace shrink::engine::testing_models {

// x[2,4] -> Relu -> Add(bias) -> Softmax (default axis: the last one at every opset) -> y.
// At IR 3 the initializer is also a graph input, as IR 3 requires.
Model SmallModel(int64_t ir_version, int64_t opset);
std::vector<NamedTensor> SmallModelFeeds();

// Opset 18, IR 8: Split with num_outputs, ReduceMean with an axes input, Pad with an axes input,
// Resize with antialias and with keep_aspect_ratio_policy + axes.
Model Opset18FormsModel();
std::vector<NamedTensor> Opset18FormsFeeds();
std::vector<Shape> Opset18FormsOutputShapes();

}  // namespace shrink::engine::testing_models
