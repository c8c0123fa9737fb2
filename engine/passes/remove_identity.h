// Removes Identity nodes and inference-mode Dropout nodes (output 0 only: the mask output must
// be absent or unused), at every graph level. Readers of the output read the input instead.
// When the output is a graph output its name is kept: the producer of the input is renamed to
// it when that is safe (the input is made by a node of the same level and is not itself a graph
// output); otherwise (graph inputs, initializers, values from an enclosing scope, as in If
// branches that pass an outer value through) the node stays.
#pragma once

#include "common/status.h"
#include "engine/ir/graph.h"

namespace shrink::engine {

// Returns the number of nodes removed.
StatusOr<int> RemoveIdentity(Model* model);

}  // namespace shrink::engine
