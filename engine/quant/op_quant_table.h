// What static QDQ quantization does with each op, as one declarative table (TFLite optimize/
// style): which inputs are quantized activations, which input is a weight (and its per-channel
// axis), which is an int32 bias, and how the output is quantized. Ops absent from the table stay
// float. The table follows what ONNX Runtime's CPU QDQ transformer fuses into integer kernels.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "engine/ir/graph.h"
#include "engine/ir/graph_utils.h"
#include "engine/quant/quant_types.h"

namespace shrink::engine::quant {

enum class OutputRule {
  kOwnRange,         // output gets its own Q/DQ from its calibrated range
  kSharedWithInput,  // output reuses the data input's scale/zero point (data movement ops)
};

enum class WeightAxis {
  kNone,   // op has no weight
  kAxis0,  // Conv W [M, C/g, k...]: output channels
  kAxis1,  // ConvTranspose W [C, M/g, k...]: output channels (shared across groups)
  kGemmB,  // Gemm: 0 when transB=1 ([N,K]), else 1 ([K,N])
  kLast,   // MatMul B [..., K, N]: N
};

struct OpQuantSpec {
  OpType op = OpType::kUnknown;
  std::vector<int> activation_inputs;   // inputs quantized as activations
  bool all_inputs_activations = false;  // variadic (Concat)
  int weight_input = -1;                // -1: none
  WeightAxis weight_axis = WeightAxis::kNone;
  bool weight_may_be_activation = false;  // MatMul of two activations: both quantized
  int bias_input = -1;                    // int32 bias with scale s_in * s_w
  OutputRule output = OutputRule::kOwnRange;
  bool ort_fuses = false;    // ORT CPU replaces the QDQ group with an integer kernel
  bool allows_16bit = true;  // ORT: no 16-bit MaxPool/Resize
};

// The table entry for an op, or null when the op stays float.
const OpQuantSpec* FindOpQuantSpec(OpType op);

// Op types ONNX Runtime's CPU provider fuses into integer kernels from QDQ form (ort_fuses).
std::vector<std::string> OrtFusedOpTypes();

// Per-channel axis of `node`'s weight of rank `weight_rank`, or -1 for per-tensor only.
int WeightChannelAxis(const OpQuantSpec& spec, const Node& node, int weight_rank);

// Inputs of `node` quantized as activations under `spec` (not counting the weight slot).
std::vector<int> ActivationInputs(const OpQuantSpec& spec, const Node& node);

// Relu, Clip with constant min/max, or Max/Min of `data` and a scalar constant: a clamp to
// [lo, hi] (+-inf when open) that can disappear into the QuantizeLinear of `data`, because
// QuantizeLinear saturates (see qdq_quantizer.cc for when that is exact).
bool IsAbsorbableActivation(const Node& node, const Graph& graph, const std::string& data,
                            float* lo, float* hi);

// Values whose small magnitudes matter as much as their large ones: the inputs of Log, Sqrt and
// Reciprocal and a Div's non-constant divisor, and everything feeding them through ops other
// than reductions (an audio front end: power spectrum -> mel filter -> log). A linear int8 grid
// sized for the largest value wipes out the small ones, so these values stay float. Stopping at
// reductions keeps a decomposed LayerNorm (Sqrt of a ReduceMean) from pulling in the network.
std::set<std::string> PrecisionCriticalValues(const Graph& graph, const GraphIndex& index);

// `outputs` (values of `graph`) and the values that reach them only through data-movement ops
// (Concat, Reshape, Squeeze, Unsqueeze, Flatten, Transpose, Slice, Identity, If): quantizing
// any of them quantizes the outputs themselves.
std::set<std::string> CarriedToOutputs(const Graph& graph, const GraphIndex& index,
                                       const std::set<std::string>& outputs);

}  // namespace shrink::engine::quant
