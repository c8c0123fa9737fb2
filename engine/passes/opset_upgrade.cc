#include "engine/passes/opset_upgrade.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "engine/io/shape_inference.h"
#include "engine/ir/graph_utils.h"
#include "engine/ir/op_history.h"
#include "engine/passes/opset_upgrade_internal.h"

namespace shrink::engine {
namespace opset_upgrade {

void UpgradeContext::Record(const std::string& rule) {
  auto found = rule_index.find(rule);
  if (found != rule_index.end()) {
    ++rules[found->second].second;
    return;
  }
  rule_index[rule] = rules.size();
  rules.emplace_back(rule, 1);
}

DataType UpgradeContext::ElemType(const Graph& graph, const std::string& value) const {
  if (const Tensor* init = graph.FindInitializer(value)) return init->dtype();
  if (const ValueInfo* info = graph.FindValueInfo(value)) {
    if (info->type.is_tensor() && info->type.elem_type != DataType::kUndefined) {
      return info->type.elem_type;
    }
  }
  auto found = types.find(value);
  if (found == types.end() || !found->second.is_tensor()) return DataType::kUndefined;
  return found->second.elem_type;
}

int UpgradeContext::Rank(const Graph& graph, const std::string& value) const {
  if (const Tensor* init = graph.FindInitializer(value)) return init->rank();
  if (const ValueInfo* info = graph.FindValueInfo(value)) {
    if (info->type.is_tensor() && info->type.has_shape) return int(info->type.dims.size());
  }
  auto found = types.find(value);
  if (found == types.end() || !found->second.is_tensor() || !found->second.has_shape) return -1;
  return int(found->second.dims.size());
}

std::string UpgradeContext::NewName(const std::string& base) const {
  return UniqueValueName(*root, base);
}

std::string UpgradeContext::AddInitializer(Graph* graph, const std::string& base, Tensor value) {
  std::string name = NewName(base);
  graph->SetInitializer(name, std::move(value));
  return name;
}

std::string StepName(const Node& node, int64_t old_version, int64_t new_version) {
  return node.op_type + " " + std::to_string(old_version) + "->" + std::to_string(new_version);
}

}  // namespace opset_upgrade

namespace {

using opset_upgrade::UpgradeContext;

constexpr int64_t kOldestSupportedOpset = 7;

bool IsDefaultDomain(const std::string& domain) { return domain.empty() || domain == "ai.onnx"; }

// The lowest IR version that may carry an opset (ONNX's release table).
int64_t MinIrVersion(int64_t opset) {
  if (opset <= 8) return 3;
  if (opset == 9) return 4;
  if (opset == 10) return 5;
  if (opset == 11) return 6;
  if (opset <= 14) return 7;
  return 8;
}

void CollectTypes(const Graph& graph, std::unordered_map<std::string, ValueType>* types) {
  for (const auto* list : {&graph.inputs, &graph.value_info, &graph.outputs}) {
    for (const ValueInfo& info : *list) {
      if (!info.type.missing) (*types)[info.name] = info.type;
    }
  }
  for (const auto& node : graph.nodes) {
    for (const Attribute& a : node->attributes) {
      if (a.g) CollectTypes(*a.g, types);
      for (const auto& g : a.graphs) CollectTypes(*g, types);
    }
  }
}

// Types of the values before the upgrade, from libonnx at the old opset (which it knows).
// Best effort: rewrites that need a missing type fail with a message saying so.
std::unordered_map<std::string, ValueType> InferTypes(const Model& model) {
  Model copy;
  copy.ir_version = model.ir_version;
  copy.opset_imports = model.opset_imports;
  copy.graph = std::move(*model.graph.Clone());
  std::unordered_map<std::string, ValueType> types;
  if (InferShapes(&copy).ok()) CollectTypes(copy.graph, &types);
  return types;
}

Status UpgradeNode(UpgradeContext& context, Graph* graph, Node* node) {
  const std::string step_range =
      " from opset " + std::to_string(context.from) + " to " + std::to_string(context.target);
  if (node->op == OpType::kUnknown) {
    return Unimplemented(node->Describe() + ": the opset upgrade has no version history for op '" +
                         node->op_type + "'; cannot upgrade it" + step_range);
  }
  int64_t version = OpSchemaVersion(node->op, context.from);
  if (version == 0) {
    return InvalidArgument(node->Describe() + ": op '" + node->op_type +
                           "' does not exist at opset " + std::to_string(context.from));
  }
  while (true) {
    const std::vector<int>& history = OpVersionHistory(node->op);
    auto next = std::upper_bound(history.begin(), history.end(), int(version));
    if (next == history.end() || *next > context.target) break;
    int64_t new_version = *next;
    if (auto adapter = opset_upgrade::FindStepAdapter(node->op, new_version)) {
      // Every rewritten op has a first input and output slot; rules rely on it.
      if (node->inputs.empty() || node->outputs.empty()) {
        return InvalidArgument(node->Describe() + ": cannot upgrade " +
                               opset_upgrade::StepName(*node, version, new_version) +
                               ": the node has no first input or output");
      }
      context.node_finished = false;
      RETURN_IF_ERROR(adapter(context, graph, node, version, new_version));
      if (context.node_finished) break;
    } else {
      context.Record(opset_upgrade::StepName(*node, version, new_version) + " bump");
    }
    version = new_version;
  }
  return OkStatus();
}

Status UpgradeGraph(UpgradeContext& context, Graph* graph) {
  std::vector<Node*> nodes;
  nodes.reserve(graph->nodes.size());
  for (auto& node : graph->nodes) nodes.push_back(node.get());
  for (Node* node : nodes) {  // nodes that rules insert are built at the target opset
    if (IsDefaultDomain(node->domain)) RETURN_IF_ERROR(UpgradeNode(context, graph, node));
    for (Attribute& a : node->attributes) {
      if (a.g) RETURN_IF_ERROR(UpgradeGraph(context, a.g.get()));
      for (auto& g : a.graphs) RETURN_IF_ERROR(UpgradeGraph(context, g.get()));
    }
  }
  return OkStatus();
}

}  // namespace

StatusOr<OpsetUpgradeResult> UpgradeOpset(Model* model, int64_t target_opset) {
  OpsetImport* import = nullptr;
  for (OpsetImport& o : model->opset_imports) {
    if (IsDefaultDomain(o.domain)) import = &o;
  }
  if (import == nullptr) return InvalidArgument("the model has no ai.onnx opset import");
  OpsetUpgradeResult result;
  result.from = import->version;
  result.to = target_opset;
  if (target_opset < result.from) {
    return InvalidArgument("opset downgrade " + std::to_string(result.from) + " -> " +
                           std::to_string(target_opset) + " is not supported");
  }
  if (target_opset > kNewestKnownOpset) {
    return InvalidArgument("target opset " + std::to_string(target_opset) +
                           " is newer than the engine knows (" + std::to_string(kNewestKnownOpset) +
                           ")");
  }
  if (result.from < kOldestSupportedOpset) {
    return Unimplemented("opset " + std::to_string(result.from) +
                         " is older than the upgrade supports (" +
                         std::to_string(kOldestSupportedOpset) +
                         "); re-export the model at opset 13 or later");
  }
  if (target_opset == result.from) return result;
  UpgradeContext context;
  context.root = &model->graph;
  context.from = result.from;
  context.target = target_opset;
  context.types = InferTypes(*model);
  RETURN_IF_ERROR(UpgradeGraph(context, &model->graph));
  import->version = target_opset;
  int64_t min_ir = MinIrVersion(target_opset);
  if (model->ir_version < min_ir) {
    context.Record("IR " + std::to_string(model->ir_version) + "->" + std::to_string(min_ir));
    model->ir_version = min_ir;
  }
  for (const auto& [rule, count] : context.rules) {
    result.rules.push_back(rule + " x" + std::to_string(count));
  }
  return result;
}

}  // namespace shrink::engine
