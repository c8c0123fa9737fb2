// Per-op facts the float16 conversion needs: which inputs/outputs of a node carry its float
// "data" type (from libonnx's schema registry), and which ops ONNX Runtime's CPU provider runs
// in float16 (a table found by probing ORT; tests/float16_ort_test.cc re-probes it).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/ir/graph.h"

namespace shrink::engine::quant {

// How a node's inputs and outputs follow its floating-point type constraint.
struct FloatSignature {
  bool known = false;  // libonnx has a schema for the op at this opset
  // Input i / output j is bound to a type constraint that allows float16 and that types at
  // least one present output ("data"); shape, index, scale and roi parameters are not.
  std::vector<bool> input_data;
  std::vector<bool> output_data;
};

// `opset` is the node's domain opset in the model. Unknown ops give known = false and all-false
// vectors. BatchNormalization's scale and bias count as data at every opset, its running mean
// and variance never (a variance can exceed the float16 range).
FloatSignature GetFloatSignature(const Node& node, int64_t opset);

// The schema's type string ("T", "tensor(int64)") for an input or output index of the node, or
// "" when libonnx has no schema or no such parameter.
std::string FormalTypeString(const Node& node, int64_t opset, bool output, size_t index);

// True when ONNX Runtime's CPU provider (1.29) has a float16 kernel for the op at this opset,
// with its data inputs/outputs in float16 as GetFloatSignature defines them. Control-flow ops
// (If, Loop, Scan) are type-agnostic and count as supported.
bool OrtCpuRunsFloat16(OpType op, int64_t opset);

// Opsets the table was probed at; outside this range OrtCpuRunsFloat16 answers false.
constexpr int64_t kFloat16ProbeMinOpset = 7;
constexpr int64_t kFloat16ProbeMaxOpset = 17;

}  // namespace shrink::engine::quant
