#include "engine/kernels/kernel_test_util.h"

#include <algorithm>

namespace shrink::engine::testing {

StatusOr<std::vector<Tensor>> RunKernel(const KernelRun& run) {
  Node node;
  node.op = run.op;
  node.op_type = OpTypeName(run.op);
  node.domain = GetOpInfo(run.op).domain;
  node.name = "under_test";
  node.attributes = run.attributes;
  for (size_t i = 0; i < run.inputs.size(); ++i) {
    node.inputs.push_back(run.inputs[i].defined() ? "in" + std::to_string(i) : "");
  }
  for (int i = 0; i < run.num_outputs; ++i) node.outputs.push_back("out" + std::to_string(i));

  ThreadPool pool(run.threads);
  ThreadPool::Binding binding(pool);
  KernelConfig config{node, run.opset, {}, &pool, run.reference};
  std::vector<const Tensor*> inputs;
  for (size_t i = 0; i < run.inputs.size(); ++i) {
    const Tensor* tensor = run.inputs[i].defined() ? &run.inputs[i] : nullptr;
    inputs.push_back(tensor);
    bool constant = std::find(run.constant_inputs.begin(), run.constant_inputs.end(), int(i)) !=
                    run.constant_inputs.end();
    config.constant_inputs.push_back(constant ? tensor : nullptr);
  }
  const KernelFactory* factory = KernelRegistry::Default().Find(run.op);
  if (!factory) return NotFound(std::string("no kernel for ") + OpTypeName(run.op));
  ASSIGN_OR_RETURN(auto kernel, (*factory)(config));
  std::vector<Tensor> outputs(size_t(run.num_outputs));
  KernelContext context{node, run.opset, inputs, &outputs, pool};
  RETURN_IF_ERROR(kernel->Compute(context));
  return outputs;
}

Attribute IntAttr(const std::string& name, int64_t value) { return IntAttribute(name, value); }
Attribute FloatAttr(const std::string& name, float value) { return FloatAttribute(name, value); }
Attribute StringAttr(const std::string& name, const std::string& value) {
  return StringAttribute(name, value);
}
Attribute IntsAttr(const std::string& name, std::vector<int64_t> values) {
  return IntsAttribute(name, std::move(values));
}
Attribute FloatsAttr(const std::string& name, std::vector<float> values) {
  Attribute a;
  a.name = name;
  a.type = AttributeType::kFloats;
  a.floats = std::move(values);
  return a;
}
Attribute TensorAttr(const std::string& name, Tensor value) {
  Attribute a;
  a.name = name;
  a.type = AttributeType::kTensor;
  a.t = std::move(value);
  return a;
}

Attribute GraphAttr(const std::string& name, std::shared_ptr<Graph> graph) {
  Attribute a;
  a.name = name;
  a.type = AttributeType::kGraph;
  a.g = std::move(graph);
  return a;
}

Node* AddTestNode(Graph* graph, const std::string& op_type, std::vector<std::string> inputs,
                  std::vector<std::string> outputs, std::vector<Attribute> attributes,
                  const std::string& domain) {
  auto node = std::make_unique<Node>();
  node->op_type = op_type;
  node->domain = domain;
  node->name = op_type + "_" + std::to_string(graph->nodes.size());
  node->inputs = std::move(inputs);
  node->outputs = std::move(outputs);
  node->attributes = std::move(attributes);
  return graph->AddNode(std::move(node));
}

ValueInfo TensorInfo(const std::string& name, DataType dtype, std::vector<int64_t> dims,
                     std::vector<std::string> symbols) {
  ValueInfo info;
  info.name = name;
  info.type.elem_type = dtype;
  info.type.has_shape = true;
  for (size_t i = 0; i < dims.size(); ++i) {
    Dim d;
    d.value = dims[i];
    if (i < symbols.size()) d.param = symbols[i];
    info.type.dims.push_back(d);
  }
  return info;
}

Model EmptyModel(int64_t opset) {
  Model model;
  model.ir_version = 8;
  model.opset_imports.push_back({"", opset});
  model.producer_name = "shrink-test";
  model.graph.name = "test";
  return model;
}

}  // namespace shrink::engine::testing
