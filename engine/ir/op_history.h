// Version history of the default-domain (ai.onnx) ops the engine knows: the opset versions at
// which each op's schema changed, from libonnx 1.12's schemas (opsets <= 17) plus the opset-18
// changes (Reduce* axes input, Split num_outputs, Pad axes, Resize antialias, Scatter* max/min,
// Mish). Used by the opset upgrade pass and by the engine's model checks where libonnx has no
// schema. Other domains have no history here.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/ir/op_types.h"

namespace shrink::engine {

// The newest ai.onnx opset the engine knows the ops of.
constexpr int64_t kNewestKnownOpset = 18;

// The since-versions of `op` in increasing order; empty for ops outside ai.onnx or without a
// recorded history.
const std::vector<int>& OpVersionHistory(OpType op);

// The schema version of `op` in effect at `opset` (the largest since-version <= opset); 0 when
// the op does not exist at that opset or has no recorded history.
int64_t OpSchemaVersion(OpType op, int64_t opset);

}  // namespace shrink::engine
