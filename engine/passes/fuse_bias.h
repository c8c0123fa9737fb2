// Moves constant additions into the bias of the op that feeds them, at every graph level:
// - Conv/ConvTranspose -> Add(constant broadcastable to [1, C, 1, ...]) becomes the op's bias
//   (added to an existing constant bias).
// - MatMul(x, constant W[K, N]) -> Add(constant [N] or [1, N]) becomes Gemm(x, W, bias) when x is
//   known to be 2-D.
// The producer must have the Add as its only reader; it takes the Add's output name, so graph
// outputs keep their names. Either operand order of the Add is accepted.
#pragma once

#include "common/status.h"
#include "engine/ir/graph.h"

namespace shrink::engine {

// Returns the number of Add nodes fused.
StatusOr<int> FuseBias(Model* model);

}  // namespace shrink::engine
