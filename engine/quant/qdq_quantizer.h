// Static (calibrated) quantization in QDQ form: QuantizeLinear/DequantizeLinear pairs around
// the ops that ONNX Runtime fuses into its integer kernels, weights stored as integers behind a
// DequantizeLinear, biases as int32. What ORT fuses, and therefore where QDQ goes, is a
// declarative per-op table (op_quant_table.h), not a chain of op checks.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/ir/graph.h"
#include "engine/quant/quant_types.h"

namespace shrink::engine::quant {

// Which nodes a technique may touch. A node is eligible when it is included (empty include
// lists include everything) and not excluded, by node name or op type.
struct NodeFilter {
  std::set<std::string> include_nodes;
  std::set<std::string> include_ops;
  std::set<std::string> exclude_nodes;
  std::set<std::string> exclude_ops;
  bool Excluded(const Node& node) const;
};

struct StaticQuantOptions {
  QuantType activation_type = QuantType::kUint8;  // kUint8/kInt8 (int8), kInt16 (16x8)
  bool activation_symmetric = false;
  QuantType weight_type = QuantType::kInt8;
  bool per_channel = true;
  bool reduce_range = false;       // 7-bit weights (CPUs without VNNI)
  bool quantize_model_io = false;  // integer model inputs/outputs instead of float
  NodeFilter filter;
  // Main-graph outputs that must stay float, with the data-movement ops (Concat, Reshape, ...,
  // If branches) that produce them: the state outputs of a stateful model, which are fed back
  // and would accumulate quantization error run after run.
  std::set<std::string> float_outputs;
};

// Tensors whose ranges QuantizeStatic will need, in graph order (graph inputs and node outputs,
// subgraphs included). Calibrate these.
StatusOr<std::vector<std::string>> TensorsToCalibrate(const Model& model,
                                                      const StaticQuantOptions& options);

// Rewrites the model in place. The model must be at opset >= 13 (per-axis scales) for the
// standard domain; 16-bit activations use com.microsoft QuantizeLinear/DequantizeLinear so that
// opset <= 17 tools can still check the file. Missing ranges leave the affected nodes in float
// with the reason recorded. Weights held by Constant nodes must already be initializers.
StatusOr<QuantSummary> QuantizeStatic(Model* model, const RangeMap& ranges,
                                      const StaticQuantOptions& options);

struct DynamicQuantOptions {
  bool per_channel = true;
  bool reduce_range = false;
  QuantType weight_type = QuantType::kInt8;
  NodeFilter filter;
};

// Dynamic-range quantization: MatMul/Gemm/Conv weights become int8 and activations are
// quantized at run time (DynamicQuantizeLinear + MatMulInteger/ConvInteger, or
// com.microsoft.DynamicQuantizeMatMul); LSTM/GRU weights are stored int8 behind
// DequantizeLinear (weight-only). No calibration data needed.
StatusOr<QuantSummary> QuantizeDynamic(Model* model, const DynamicQuantOptions& options);

}  // namespace shrink::engine::quant
