// Moves constants that several sibling subgraphs hold identical copies of (same dtype, shape and
// bits) into the enclosing graph, once. Constant folding inside subgraphs creates such copies:
// silero_vad_v5 slices each outer LSTM weight inside both branches of an If, which would
// otherwise store every folded weight twice. Works bottom-up, so copies rise as far as they are
// shared. Small tensors (below min_bytes) stay where they are: sharing them saves nothing.
#pragma once

#include <cstddef>

#include "common/status.h"
#include "engine/ir/graph.h"

namespace shrink::engine {

struct ShareConstantsOptions {
  size_t min_bytes = 1024;
};

// Returns the number of copies saved: subgraph initializers removed minus shared ones added.
StatusOr<int> ShareSubgraphConstants(Model* model, const ShareConstantsOptions& options = {});

}  // namespace shrink::engine
