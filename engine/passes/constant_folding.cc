#include "engine/passes/constant_folding.h"

#include <algorithm>
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

// Constant lookup through enclosing scopes: subgraphs often slice weights that live in an
// enclosing graph (silero's LSTM weights inside If branches).
class FoldScope {
 public:
  FoldScope(const Graph& graph, const FoldScope* parent) : graph_(graph), parent_(parent) {
    for (const ValueInfo& input : graph.inputs) computed_.insert(input.name);
    for (const auto& node : graph.nodes) {
      computed_.insert(node->outputs.begin(), node->outputs.end());
    }
  }
  // An initializer that is not a graph input, of this level or, when this level does not define
  // the name, of an enclosing one. Values folded earlier at this level are initializers by now.
  const Tensor* Constant(const std::string& name) const {
    bool input = std::any_of(graph_.inputs.begin(), graph_.inputs.end(),
                             [&](const ValueInfo& v) { return v.name == name; });
    if (input) return nullptr;  // an initializer that is also an input is a default, not a constant
    if (const Tensor* tensor = graph_.FindInitializer(name)) return tensor;
    if (computed_.count(name)) return nullptr;
    return parent_ ? parent_->Constant(name) : nullptr;
  }

 private:
  const Graph& graph_;
  const FoldScope* parent_;
  std::set<std::string> computed_;
};

StatusOr<bool> FoldGraph(Graph* graph, const FoldScope* parent, FoldContext* context) {
  bool changed = false;
  FoldScope scope(*graph, parent);
  auto constant = [&](const std::string& name) { return scope.Constant(name); };
  ASSIGN_OR_RETURN(std::vector<Node*> order, TopologicalOrder(*graph));
  std::set<const Node*> folded;
  for (Node* node : order) {
    for (Attribute& a : node->attributes) {
      if (a.g) {
        ASSIGN_OR_RETURN(bool sub_changed, FoldGraph(a.g.get(), &scope, context));
        changed |= sub_changed;
      }
      for (auto& g : a.graphs) {
        ASSIGN_OR_RETURN(bool sub_changed, FoldGraph(g.get(), &scope, context));
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
  ThreadPool::Binding binding(context.pool);
  return FoldGraph(&model->graph, nullptr, &context);
}

}  // namespace shrink::engine
