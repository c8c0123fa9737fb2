#include "engine/quant/weight_only.h"

#include <set>

#include "engine/ir/graph_utils.h"
#include "engine/quant/op_quant_table.h"
#include "engine/quant/qdq_graph_edit.h"
#include "engine/quant/quant_params.h"

namespace shrink::engine::quant {
namespace {

// The inputs of `node` that hold weights. The QDQ op table gives Conv/ConvTranspose/MatMul/Gemm;
// recurrent ops have W and R, and a Gather over a table is an embedding.
std::vector<int> WeightInputs(const Node& node) {
  switch (node.op) {
    case OpType::kLSTM:
    case OpType::kGRU:
    case OpType::kRNN:
      return {1, 2};
    case OpType::kGather:
      return {0};
    default:
      break;
  }
  const OpQuantSpec* spec = FindOpQuantSpec(node.op);
  if (spec == nullptr || spec->weight_input < 0) return {};
  return {spec->weight_input};
}

// Per-channel axis of a weight of `rank` in `input`, -1 for per-tensor: recurrent weights are
// [directions, gates*hidden, x] (one scale per gate row), embeddings get one scale per row.
int WeightAxis(const Node& node, int input, int rank) {
  switch (node.op) {
    case OpType::kLSTM:
    case OpType::kGRU:
    case OpType::kRNN:
      return rank == 3 ? 1 : -1;
    case OpType::kGather:
      return node.GetInt("axis", 0) == 0 && rank >= 2 ? 0 : -1;
    default:
      return WeightChannelAxis(*FindOpQuantSpec(node.op), node, rank);
  }
}

class WeightOnlyQuantizer {
 public:
  WeightOnlyQuantizer(Model* model, const DynamicQuantOptions& options)
      : model_(model), options_(options), names_(*model) {}

  Status Run() {
    RETURN_IF_ERROR(QuantizeGraph({&model_->graph}, ""));
    std::set<std::string> reads;
    CollectModelReads(model_->graph, &reads);
    for (auto& [graph, name] : replaced_) {
      if (!reads.count(name)) graph->RemoveInitializer(name);
    }
    return ValidateGraph(model_->graph);
  }
  QuantSummary& summary() { return summary_; }

 private:
  Status QuantizeGraph(ScopeChain scopes, const std::string& path);
  // Returns why the node keeps float weights ("" when at least one weight was quantized).
  StatusOr<std::string> QuantizeNode(const ScopeChain& scopes, Node* node, NodeDecision* d);

  Model* model_;
  const DynamicQuantOptions& options_;
  NameGenerator names_;
  QuantSummary summary_;
  std::vector<std::pair<Graph*, std::string>> replaced_;
};

StatusOr<std::string> WeightOnlyQuantizer::QuantizeNode(const ScopeChain& scopes, Node* node,
                                                        NodeDecision* d) {
  Graph* graph = scopes.back();
  bool any = false;
  for (int input : WeightInputs(*node)) {
    if (!node->HasInput(input)) continue;
    const std::string name = node->inputs[size_t(input)];
    Graph* owner = FindInitializerOwner(scopes, name);
    if (owner == nullptr) continue;
    const Tensor weight = *owner->FindInitializer(name);
    if (weight.dtype() != DataType::kFloat32 || weight.size() < 16) continue;
    const int axis = options_.per_channel ? WeightAxis(*node, input, int(weight.rank())) : -1;
    QuantizeWeightOptions wopts{options_.weight_type, axis, true, options_.reduce_range};
    ASSIGN_OR_RETURN(QuantizedWeight q, QuantizeWeight(weight, wopts));
    AddToScaleSummary(q, &summary_.scales);
    std::string values = names_.Value(name + "_quantized");
    std::string scale = names_.Value(name + "_scale");
    std::string zero_point = names_.Value(name + "_zero_point");
    graph->SetInitializer(values, q.values);
    graph->SetInitializer(scale, q.scale);
    graph->SetInitializer(zero_point, q.zero_point);
    std::string dequantized = names_.Value(name + "_dequantized");
    InsertNode(graph,
               MakeQuantizeNode(true, q.values.dtype(), values, scale, zero_point, dequantized,
                                q.axis, names_.NodeName(name + "_DequantizeLinear")),
               node);
    node->inputs[size_t(input)] = dequantized;
    replaced_.emplace_back(owner, name);
    d->per_channel = d->per_channel || q.axis >= 0;
    any = true;
  }
  return any ? std::string() : std::string("no constant float32 weight");
}

Status WeightOnlyQuantizer::QuantizeGraph(ScopeChain scopes, const std::string& path) {
  Graph* graph = scopes.back();
  ASSIGN_OR_RETURN(std::vector<Node*> order, TopologicalOrder(*graph));
  for (size_t i = 0; i < order.size(); ++i) {
    Node* node = order[i];
    if (WeightInputs(*node).empty()) continue;  // not an op with weights
    NodeDecision d;
    d.node = node->name.empty() ? node->op_type + "#" + std::to_string(i) : node->name;
    d.op_type = node->domain.empty() ? node->op_type : node->domain + "." + node->op_type;
    d.graph = path;
    std::string reason = "excluded by the node filter";
    if (options_.filter.Excluded(*node)) {
      d.action = NodeDecision::Action::kExcluded;
    } else {
      ASSIGN_OR_RETURN(reason, QuantizeNode(scopes, node, &d));
      d.action = reason.empty() ? NodeDecision::Action::kQuantized : NodeDecision::Action::kFloat;
    }
    if (reason.empty()) {
      d.weight_type = QuantTypeName(options_.weight_type);
      d.reason = "weight-only: activations stay float";
    } else {
      d.reason = reason;
    }
    summary_.decisions.push_back(d);
  }
  for (const auto& node : graph->nodes) {
    for (auto [attr, sub] : Subgraphs(*node)) {
      ScopeChain inner = scopes;
      inner.push_back(sub);
      RETURN_IF_ERROR(
          QuantizeGraph(inner, (path.empty() ? "" : path + "/") + node->name + "/" + attr->name));
    }
  }
  return OkStatus();
}

}  // namespace

StatusOr<QuantSummary> QuantizeWeightsOnly(Model* model, const DynamicQuantOptions& options) {
  if (model->OpsetVersion("") < 13) {
    return FailedPrecondition(
        "weight-only quantization needs opset >= 13 (per-axis "
        "DequantizeLinear); the model has opset " +
        std::to_string(model->OpsetVersion("")));
  }
  WeightOnlyQuantizer quantizer(model, options);
  RETURN_IF_ERROR(quantizer.Run());
  return std::move(quantizer.summary());
}

}  // namespace shrink::engine::quant
