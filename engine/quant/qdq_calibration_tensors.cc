// TensorsToCalibrate: the tensors whose ranges QuantizeStatic's plan can ask for.
#include <algorithm>
#include <set>

#include "engine/ir/graph_utils.h"
#include "engine/quant/op_quant_table.h"
#include "engine/quant/qdq_graph_edit.h"
#include "engine/quant/qdq_quantizer.h"

namespace shrink::engine::quant {
namespace {

// Tensors the plan may ask a range for: activation inputs and outputs of table ops, outputs of
// Relu/Clip/Max/Min (absorption), in graph order.
void CollectCalibrationTensors(const ScopeChain& scopes, const StaticQuantOptions& options,
                               std::set<std::string>* wanted, std::vector<std::string>* order) {
  Graph* graph = scopes.back();
  auto want = [&](const std::string& name) {
    if (name.empty() || FindInitializerOwner(scopes, name) != nullptr) return;
    if (!IsFloatValue(scopes, name)) return;
    if (wanted->insert(name).second) order->push_back(name);
  };
  auto sorted = TopologicalOrder(*graph);
  std::vector<Node*> nodes;
  if (sorted.ok()) {
    nodes = *sorted;
  } else {
    for (auto& node : graph->nodes) nodes.push_back(node.get());
  }
  for (Node* node : nodes) {
    if (options.filter.Excluded(*node)) continue;
    if (node->op == OpType::kRelu || node->op == OpType::kClip || node->op == OpType::kMax ||
        node->op == OpType::kMin) {
      for (const auto& out : node->outputs) want(out);
    }
    const OpQuantSpec* spec = FindOpQuantSpec(node->op);
    if (spec == nullptr || spec->output == OutputRule::kSharedWithInput) continue;
    std::vector<int> acts = ActivationInputs(*spec, *node);
    if (spec->weight_may_be_activation) acts.push_back(spec->weight_input);
    for (int i : acts) {
      if (node->HasInput(i)) want(node->inputs[size_t(i)]);
    }
    for (const auto& out : node->outputs) want(out);
  }
  for (Node* node : nodes) {
    for (auto [attr, sub] : Subgraphs(*node)) {
      ScopeChain inner = scopes;
      inner.push_back(sub);
      CollectCalibrationTensors(inner, options, wanted, order);
    }
  }
}

}  // namespace

StatusOr<std::vector<std::string>> TensorsToCalibrate(const Model& model,
                                                      const StaticQuantOptions& options) {
  RETURN_IF_ERROR(CheckStaticOpset(model));
  std::set<std::string> wanted;
  std::vector<std::string> order;
  // The scope chain needs mutable pointers; nothing below writes through them.
  ScopeChain scopes{const_cast<Graph*>(&model.graph)};
  CollectCalibrationTensors(scopes, options, &wanted, &order);
  // Graph inputs first, as the contract promises graph order.
  std::vector<std::string> result;
  for (const auto& input : model.graph.inputs) {
    if (wanted.count(input.name)) result.push_back(input.name);
  }
  for (const auto& name : order) {
    if (std::find(result.begin(), result.end(), name) == result.end()) result.push_back(name);
  }
  return result;
}

}  // namespace shrink::engine::quant
