// Folds inference BatchNormalization into the Conv, ConvTranspose, Gemm or MatMul that feeds
// it, at every graph level: W' = W * s per output channel and b' = (b - mean) * s + beta with
// s = scale / sqrt(var + epsilon), computed in double and rounded once. The producer must have
// constant float32 weights and the BN as its only reader; it takes the BN's output name, so
// graph outputs keep their names. A bias input is added when absent. MatMul(x, W) is folded only
// when x is known to be 2-D (BN's channel axis 1 is then MatMul's last axis); it becomes
// Gemm(x, W', b').
//
// A BN without such a producer (after Add, Concat, ...) is left as it is: rewriting it to
// Mul + Add would give the quantizer two ops and one more quantized intermediate instead of one
// op, which costs accuracy and speed, and ONNX Runtime keeps a lone BN in float either way.
#pragma once

#include "common/status.h"
#include "engine/ir/graph.h"

namespace shrink::engine {

// Returns the number of BatchNormalization nodes folded.
StatusOr<int> FoldBatchNorm(Model* model);

}  // namespace shrink::engine
