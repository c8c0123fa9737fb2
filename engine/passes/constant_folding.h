// Constant folding: evaluates nodes whose inputs are all known (initializers, Constant nodes,
// earlier folded values) with the runtime's kernels and stores the results as initializers.
// Constant nodes themselves become initializers. Works in subgraphs too.
#pragma once

#include <cstdint>

#include "common/status.h"
#include "engine/ir/graph.h"

namespace shrink::engine {

struct ConstantFoldingOptions {
  // Results larger than this stay computed at run time (Expand/Tile could blow a file up).
  uint64_t max_output_bytes = uint64_t(64) << 20;
  bool constant_nodes_to_initializers = true;
};

// Returns whether the model changed. Nodes without kernels, random ops and nodes with
// subgraphs are left alone.
StatusOr<bool> FoldConstants(Model* model, const ConstantFoldingOptions& options = {});

}  // namespace shrink::engine
