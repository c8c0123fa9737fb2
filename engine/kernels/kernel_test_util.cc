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

Attribute IntAttr(const std::string& name, int64_t value) {
  Attribute a;
  a.name = name;
  a.type = AttributeType::kInt;
  a.i = value;
  return a;
}
Attribute FloatAttr(const std::string& name, float value) {
  Attribute a;
  a.name = name;
  a.type = AttributeType::kFloat;
  a.f = value;
  return a;
}
Attribute StringAttr(const std::string& name, const std::string& value) {
  Attribute a;
  a.name = name;
  a.type = AttributeType::kString;
  a.s = value;
  return a;
}
Attribute IntsAttr(const std::string& name, std::vector<int64_t> values) {
  Attribute a;
  a.name = name;
  a.type = AttributeType::kInts;
  a.ints = std::move(values);
  return a;
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

}  // namespace shrink::engine::testing
