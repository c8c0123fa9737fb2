#include "engine/passes/constant_folding.h"

#include <set>

#include "common/thread_pool.h"
#include "engine/ir/graph_utils.h"
#include "engine/runtime/kernel.h"

namespace shrink::engine {
namespace {

struct FoldContext {
  const Model& model;
  const ConstantFoldingOptions& options;
  ThreadPool pool{1};
};

bool Foldable(const Node& node) {
  if (node.op == OpType::kUnknown) return false;
  if (HasFlag(node.op, kNondeterministic) || HasFlag(node.op, kHasSubgraph)) return false;
  return KernelRegistry::Default().Has(node.op);
}

// Evaluates one node on constant inputs; empty result when it should not be folded.
StatusOr<std::vector<Tensor>> Evaluate(const Node& node, const std::vector<const Tensor*>& inputs,
                                       FoldContext* context) {
  int64_t opset = context->model.OpsetVersion(node.domain);
  KernelConfig config{node, opset, inputs, &context->pool, false};
  ASSIGN_OR_RETURN(auto kernel, (*KernelRegistry::Default().Find(node.op))(config));
  std::vector<Tensor> outputs(node.outputs.size());
  KernelContext kernel_context{node, opset, inputs, &outputs, context->pool, nullptr};
  RETURN_IF_ERROR(kernel->Compute(kernel_context));
  for (const Tensor& output : outputs) {
    if (output.nbytes() > context->options.max_output_bytes) return std::vector<Tensor>{};
  }
  return outputs;
}

StatusOr<bool> FoldGraph(Graph* graph, FoldContext* context) {
  bool changed = false;
  std::set<std::string> overridable;  // initializers that are also graph inputs
  for (const ValueInfo& input : graph->inputs) overridable.insert(input.name);
  auto constant = [&](const std::string& name) -> const Tensor* {
    return overridable.count(name) ? nullptr : graph->FindInitializer(name);
  };
  ASSIGN_OR_RETURN(std::vector<Node*> order, TopologicalOrder(*graph));
  std::set<const Node*> folded;
  for (Node* node : order) {
    for (Attribute& a : node->attributes) {
      if (a.g) {
        ASSIGN_OR_RETURN(bool sub_changed, FoldGraph(a.g.get(), context));
        changed |= sub_changed;
      }
      for (auto& g : a.graphs) {
        ASSIGN_OR_RETURN(bool sub_changed, FoldGraph(g.get(), context));
        changed |= sub_changed;
      }
    }
    bool is_constant_node = node->op == OpType::kConstant;
    if (is_constant_node && !context->options.constant_nodes_to_initializers) continue;
    if (!Foldable(*node)) continue;
    std::vector<const Tensor*> inputs;
    bool all_constant = true;
    for (const std::string& input : node->inputs) {
      const Tensor* value = input.empty() ? nullptr : constant(input);
      if (!input.empty() && !value) all_constant = false;
      inputs.push_back(value);
    }
    if (!all_constant) continue;
    auto outputs = Evaluate(*node, inputs, context);
    // A kernel error here is a run-time error of the model; leave the node so it reports then.
    if (!outputs.ok() || outputs->empty()) continue;
    for (size_t i = 0; i < node->outputs.size(); ++i) {
      if (!node->outputs[i].empty()) graph->SetInitializer(node->outputs[i], (*outputs)[i]);
    }
    folded.insert(node);
  }
  if (!folded.empty()) {
    auto& nodes = graph->nodes;
    nodes.erase(std::remove_if(nodes.begin(), nodes.end(),
                               [&](const auto& n) { return folded.count(n.get()) > 0; }),
                nodes.end());
    changed = true;
  }
  return changed;
}

}  // namespace

StatusOr<bool> FoldConstants(Model* model, const ConstantFoldingOptions& options) {
  FoldContext context{*model, options};
  return FoldGraph(&model->graph, &context);
}

}  // namespace shrink::engine
