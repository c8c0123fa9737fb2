// Runs one kernel on given inputs, for kernel unit tests.
#pragma once

#include <string>
#include <vector>

#include "engine/ir/graph.h"
#include "engine/runtime/kernel.h"

namespace shrink::engine::testing {

struct KernelRun {
  OpType op = OpType::kUnknown;
  std::vector<Attribute> attributes;
  std::vector<Tensor> inputs;  // an undefined Tensor() marks an omitted optional input
  int num_outputs = 1;
  int64_t opset = 17;
  bool reference = false;  // use the reference implementation
  // Inputs with these indices are passed to the factory as constants (weights).
  std::vector<int> constant_inputs;
  int threads = 2;
};

StatusOr<std::vector<Tensor>> RunKernel(const KernelRun& run);

Attribute IntAttr(const std::string& name, int64_t value);
Attribute FloatAttr(const std::string& name, float value);
Attribute StringAttr(const std::string& name, const std::string& value);
Attribute IntsAttr(const std::string& name, std::vector<int64_t> values);
Attribute FloatsAttr(const std::string& name, std::vector<float> values);
Attribute TensorAttr(const std::string& name, Tensor value);
Attribute GraphAttr(const std::string& name, std::shared_ptr<Graph> graph);

// Builders for small test graphs.
Node* AddTestNode(Graph* graph, const std::string& op_type, std::vector<std::string> inputs,
                  std::vector<std::string> outputs, std::vector<Attribute> attributes = {},
                  const std::string& domain = "");
// dims: a value >= 0 is a fixed dim, -1 an anonymous one; `symbols` names dims by position.
ValueInfo TensorInfo(const std::string& name, DataType dtype, std::vector<int64_t> dims,
                     std::vector<std::string> symbols = {});
// A model at the given default-domain opset holding an empty graph.
Model EmptyModel(int64_t opset = 17);

}  // namespace shrink::engine::testing
