#include "engine/passes/pass_util.h"

#include <algorithm>

namespace shrink::engine {

Scope::Scope(Graph* graph, const Scope* parent, int64_t opset)
    : graph_(graph), parent_(parent), opset_(opset) {
  for (const ValueInfo& input : graph->inputs) computed_.insert(input.name);
  for (const auto& node : graph->nodes) {
    for (const std::string& output : node->outputs) {
      if (!output.empty()) computed_.insert(output);
    }
  }
}

const Tensor* Scope::Constant(const std::string& name) const {
  if (name.empty() || computed_.count(name)) return nullptr;
  if (const Tensor* tensor = graph_->FindInitializer(name)) return tensor;
  return parent_ ? parent_->Constant(name) : nullptr;
}

namespace {

StatusOr<int> VisitLevel(Graph* graph, const Scope* parent, int64_t opset,
                         const std::function<StatusOr<int>(const Scope&)>& fn) {
  int total = 0;
  {
    Scope scope(graph, parent, opset);
    ASSIGN_OR_RETURN(int rewrites, fn(scope));
    total += rewrites;
  }
  // The level may have changed: subgraphs see the rewritten enclosing scope.
  Scope scope(graph, parent, opset);
  for (auto& node : graph->nodes) {
    for (Attribute& attribute : node->attributes) {
      if (attribute.g) {
        ASSIGN_OR_RETURN(int rewrites, VisitLevel(attribute.g.get(), &scope, opset, fn));
        total += rewrites;
      }
      for (auto& sub : attribute.graphs) {
        ASSIGN_OR_RETURN(int rewrites, VisitLevel(sub.get(), &scope, opset, fn));
        total += rewrites;
      }
    }
  }
  return total;
}

}  // namespace

StatusOr<int> ForEachGraphLevel(Model* model,
                                const std::function<StatusOr<int>(const Scope&)>& fn) {
  return VisitLevel(&model->graph, nullptr, model->OpsetVersion(""), fn);
}

bool IsUnused(const GraphIndex& index, const std::string& value) {
  return value.empty() || (!index.IsGraphOutput(value) && index.Consumers(value).empty());
}

Node* SoleConsumer(const GraphIndex& index, const std::string& value) {
  if (value.empty() || index.IsGraphOutput(value)) return nullptr;
  const std::vector<Node*>& consumers = index.Consumers(value);
  if (consumers.size() != 1) return nullptr;
  // A node reading the value twice (Mul(x, x)) is listed twice: no sole consumer, which only
  // makes the passes more careful.
  return consumers[0];
}

int KnownRank(const Graph& graph, const GraphIndex& index, const std::string& value) {
  if (const ValueInfo* info = graph.FindValueInfo(value)) {
    if (info->type.is_tensor() && info->type.has_shape) return int(info->type.dims.size());
  }
  if (const Tensor* tensor = graph.FindInitializer(value)) return tensor->rank();
  if (const Node* producer = index.Producer(value)) {
    if (producer->op == OpType::kFlatten || producer->op == OpType::kGemm) return 2;
  }
  return -1;
}

void RemoveInitializerIfUnused(Graph* graph, const std::string& name) {
  if (!graph->HasInitializer(name)) return;
  for (const ValueInfo& info : graph->inputs) {
    if (info.name == name) return;
  }
  for (const ValueInfo& info : graph->outputs) {
    if (info.name == name) return;
  }
  for (const auto& node : graph->nodes) {
    for (const std::string& read : NodeReads(*node)) {
      if (read == name) return;
    }
  }
  graph->RemoveInitializer(name);
}

void RenameValueInfo(Graph* graph, const std::string& from, const std::string& to) {
  auto& infos = graph->value_info;
  bool has_to =
      std::any_of(infos.begin(), infos.end(), [&](const ValueInfo& v) { return v.name == to; });
  for (auto it = infos.begin(); it != infos.end(); ++it) {
    if (it->name != from) continue;
    if (has_to || to.empty()) {
      infos.erase(it);
    } else {
      it->name = to;
    }
    return;
  }
}

}  // namespace shrink::engine
