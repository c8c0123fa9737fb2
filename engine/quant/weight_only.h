// Weight-only int8: every weight of a Conv/ConvTranspose/MatMul/Gemm/LSTM/GRU/Gather (embedding)
// stored as int8 behind a DequantizeLinear; activations stay float. The smallest model that
// needs no calibration data (the `size` preset).
#pragma once

#include "common/status.h"
#include "engine/ir/graph.h"
#include "engine/quant/qdq_quantizer.h"

namespace shrink::engine::quant {

StatusOr<QuantSummary> QuantizeWeightsOnly(Model* model, const DynamicQuantOptions& options);

}  // namespace shrink::engine::quant
