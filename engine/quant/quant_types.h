// Vocabulary shared by the quantization stages: integer types, tensor ranges, and the per-node
// decisions that end up in the report.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/ir/dtype.h"

namespace shrink::engine::quant {

enum class QuantType { kUint8, kInt8, kUint16, kInt16 };

DataType ToDataType(QuantType type);
const char* QuantTypeName(QuantType type);  // "uint8", ...
int QuantBits(QuantType type);
// Representable range; reduce_range drops one bit (7-bit weights for CPUs without VNNI, whose
// u8*s8 kernels saturate 16-bit intermediate sums).
int32_t QuantMin(QuantType type, bool reduce_range = false);
int32_t QuantMax(QuantType type, bool reduce_range = false);

// Real-valued range of a tensor as calibration observed it (min <= max; may exclude 0).
struct TensorRange {
  float min = 0;
  float max = 0;
};
// Keyed by value name. ONNX value names are unique across a model, subgraphs included.
using RangeMap = std::unordered_map<std::string, TensorRange>;

// What a technique did to one node, for the report.
struct NodeDecision {
  enum class Action {
    kQuantized,  // runs on integer inputs/weights (QDQ around it or an integer op)
    kConverted,  // float16
    kFloat,      // left in float: `reason` says why
    kExcluded,   // left in float because the recipe excluded it
  };
  std::string node;     // node name (or "<op>#<index>" when unnamed)
  std::string op_type;  // "Conv", "com.microsoft.DynamicQuantizeLSTM", ...
  std::string graph;    // "" for the main graph, else the subgraph's owner path
  Action action = Action::kFloat;
  bool per_channel = false;
  std::string weight_type;      // "int8", "float16", "" when the node has no weight
  std::string activation_type;  // "uint8", "int16", "dynamic uint8", "" when float
  std::string reason;
};

struct ScaleSummary {
  int64_t tensors = 0;  // quantized tensors (activations + weights)
  double min_scale = 0;
  double max_scale = 0;
  int64_t saturating_weights = 0;  // weight values clipped by the chosen range
};

// Widens [min_scale, max_scale] by `scale` (scales are never 0, so 0/0 means "none yet").
void NoteScale(double scale, ScaleSummary* summary);

// Outcome of one technique. Counts are over the whole model, subgraphs included.
struct QuantSummary {
  std::vector<NodeDecision> decisions;
  ScaleSummary scales;
  int64_t clamped_values = 0;  // float16: finite values outside the fp16 range, clamped
  std::vector<std::string> warnings;
};

const char* ActionName(NodeDecision::Action action);  // "quantized", "converted", ...

}  // namespace shrink::engine::quant
