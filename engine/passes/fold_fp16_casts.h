// Folds the casts that float16-weight models put behind their weights, at every graph level:
// Cast(to=FLOAT) of a constant float16 or bfloat16 tensor (an initializer of this or an
// enclosing level, or a Constant node of this level) becomes a float32 initializer under the
// Cast's output name. Both widenings are exact. Casts whose output is a graph output stay.
// DequantizeLinear of constants needs no special case: FoldConstants evaluates it.
#pragma once

#include "common/status.h"
#include "engine/ir/graph.h"

namespace shrink::engine {

// Returns the number of Cast nodes folded.
StatusOr<int> FoldFp16Casts(Model* model);

}  // namespace shrink::engine
