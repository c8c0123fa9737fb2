// Opset upgrade: brings a model's ai.onnx opset import (and with it every default-domain node,
// in the main graph and every subgraph) from its version (7..17) up to a target (<= 18),
// rewriting the nodes whose semantics or form changed on the way (Softmax axis at 13, attributes
// that became inputs, Upsample -> Resize, Scatter -> ScatterElements, ...). Steps where only
// types or defaulted attributes were added are version bumps. Other domains (com.microsoft, ...)
// keep their imports and nodes untouched.
//
// Never silently wrong: an op without a version history in the engine, a version step whose
// rewrite would change results (Resize-10 nearest with mixed up/down scales, BatchNormalization
// training outputs that are used, ...) and downgrades are errors naming op and versions. On
// error the model may be partly rewritten; callers that need it intact upgrade a clone.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/ir/graph.h"

namespace shrink::engine {

struct OpsetUpgradeResult {
  int64_t from = 0;
  int64_t to = 0;
  std::vector<std::string> rules;  // every rule applied with its count: "Softmax axis 11->13 x3"
};

// The model's IR version is raised to the minimum its new opset needs (e.g. 7 for opset 13) when
// it is lower. Upgrading to the current opset is a no-op with no rules.
StatusOr<OpsetUpgradeResult> UpgradeOpset(Model* model, int64_t target_opset);

}  // namespace shrink::engine
