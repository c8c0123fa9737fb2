#include "engine/ir/graph_utils.h"

#include <algorithm>
#include <functional>
#include <queue>

namespace shrink::engine {
namespace {

template <typename Fn>
void ForEachSubgraph(const Node& node, Fn&& fn) {
  for (const Attribute& a : node.attributes) {
    if (a.type == AttributeType::kGraph && a.g) fn(*a.g);
    if (a.type == AttributeType::kGraphs) {
      for (const auto& g : a.graphs) fn(*g);
    }
  }
}

template <typename Fn>
void ForEachSubgraphMutable(Node& node, Fn&& fn) {
  for (Attribute& a : node.attributes) {
    if (a.type == AttributeType::kGraph && a.g) fn(*a.g);
    if (a.type == AttributeType::kGraphs) {
      for (auto& g : a.graphs) fn(*g);
    }
  }
}

Status ValidateLevel(const Graph& graph, const std::set<std::string>& outer) {
  std::set<std::string> defined;
  auto define = [&](const std::string& name, const std::string& by) -> Status {
    if (name.empty()) return OkStatus();
    if (!defined.insert(name).second) {
      return InvalidArgument("value '" + name + "' is defined more than once (again by " + by +
                             ")");
    }
    return OkStatus();
  };
  for (const ValueInfo& input : graph.inputs) {
    if (input.name.empty()) return InvalidArgument("a graph input has an empty name");
    if (graph.HasInitializer(input.name)) {
      defined.insert(input.name);  // initializer acting as the input's default
      continue;
    }
    RETURN_IF_ERROR(define(input.name, "graph input"));
  }
  for (const std::string& name : graph.initializer_names()) {
    if (!defined.count(name)) RETURN_IF_ERROR(define(name, "initializer"));
  }
  for (const auto& node : graph.nodes) {
    for (const std::string& output : node->outputs) {
      RETURN_IF_ERROR(define(output, node->Describe()));
    }
  }
  // Reads must resolve; subgraphs see this level's names plus the outer ones.
  std::set<std::string> visible = outer;
  visible.insert(defined.begin(), defined.end());
  for (const auto& node : graph.nodes) {
    for (const std::string& input : node->inputs) {
      if (!input.empty() && !visible.count(input)) {
        return InvalidArgument(node->Describe() + " reads '" + input +
                               "', which nothing defines (dangling reference)");
      }
    }
    Status sub_status = OkStatus();
    ForEachSubgraph(*node, [&](const Graph& sub) {
      if (sub_status.ok()) sub_status = ValidateLevel(sub, visible);
    });
    if (!sub_status.ok()) return sub_status.WithContext("in a subgraph of " + node->Describe());
  }
  for (const ValueInfo& output : graph.outputs) {
    if (!visible.count(output.name)) {
      return InvalidArgument("graph output '" + output.name + "' is never produced");
    }
  }
  return TopologicalOrder(graph).status();
}

void CollectReads(const Graph& graph, std::set<std::string>* reads,
                  std::set<std::string>* defined) {
  for (const auto& input : graph.inputs) defined->insert(input.name);
  for (const auto& name : graph.initializer_names()) defined->insert(name);
  for (const auto& node : graph.nodes) {
    for (const auto& output : node->outputs) defined->insert(output);
  }
  for (const auto& node : graph.nodes) {
    for (const auto& input : node->inputs) {
      if (!input.empty()) reads->insert(input);
    }
    ForEachSubgraph(*node, [&](const Graph& sub) {
      for (const auto& name : OuterScopeReferences(sub)) reads->insert(name);
    });
  }
  for (const auto& output : graph.outputs) reads->insert(output.name);
}

}  // namespace

Status ValidateGraph(const Graph& graph) { return ValidateLevel(graph, {}); }

std::set<std::string> OuterScopeReferences(const Graph& subgraph) {
  std::set<std::string> reads, defined, outer;
  CollectReads(subgraph, &reads, &defined);
  for (const auto& name : reads) {
    if (!defined.count(name)) outer.insert(name);
  }
  return outer;
}

std::vector<std::string> NodeReads(const Node& node) {
  std::vector<std::string> reads;
  for (const auto& input : node.inputs) {
    if (!input.empty()) reads.push_back(input);
  }
  ForEachSubgraph(node, [&](const Graph& sub) {
    for (const auto& name : OuterScopeReferences(sub)) reads.push_back(name);
  });
  return reads;
}

StatusOr<std::vector<Node*>> TopologicalOrder(const Graph& graph) {
  std::unordered_map<std::string, size_t> producer;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    for (const auto& output : graph.nodes[i]->outputs) {
      if (!output.empty()) producer[output] = i;
    }
  }
  size_t count = graph.nodes.size();
  std::vector<int> pending(count, 0);
  std::vector<std::vector<size_t>> dependents(count);
  for (size_t i = 0; i < count; ++i) {
    for (const auto& name : NodeReads(*graph.nodes[i])) {
      auto found = producer.find(name);
      if (found == producer.end()) continue;
      dependents[found->second].push_back(i);
      ++pending[i];
    }
  }
  // Min-heap on file position keeps the original order when it is already valid.
  std::priority_queue<size_t, std::vector<size_t>, std::greater<size_t>> ready;
  for (size_t i = 0; i < count; ++i) {
    if (pending[i] == 0) ready.push(i);
  }
  std::vector<Node*> order;
  order.reserve(count);
  while (!ready.empty()) {
    size_t i = ready.top();
    ready.pop();
    order.push_back(graph.nodes[i].get());
    for (size_t next : dependents[i]) {
      if (--pending[next] == 0) ready.push(next);
    }
  }
  if (order.size() != count) {
    for (size_t i = 0; i < count; ++i) {
      if (pending[i] > 0) {
        return InvalidArgument("the graph has a cycle through " + graph.nodes[i]->Describe());
      }
    }
  }
  return order;
}

Status SortTopologically(Graph* graph) {
  ASSIGN_OR_RETURN(std::vector<Node*> order, TopologicalOrder(*graph));
  std::unordered_map<const Node*, std::unique_ptr<Node>> owned;
  for (auto& node : graph->nodes) owned[node.get()] = std::move(node);
  graph->nodes.clear();
  for (Node* node : order) graph->nodes.push_back(std::move(owned[node]));
  return OkStatus();
}

GraphIndex::GraphIndex(const Graph& graph) {
  for (const auto& node : graph.nodes) {
    for (const auto& output : node->outputs) {
      if (!output.empty()) producer_[output] = node.get();
    }
    for (const auto& name : NodeReads(*node)) consumers_[name].push_back(node.get());
  }
  for (const auto& output : graph.outputs) graph_outputs_.insert(output.name);
}

Node* GraphIndex::Producer(const std::string& value) const {
  auto found = producer_.find(value);
  return found == producer_.end() ? nullptr : found->second;
}

const std::vector<Node*>& GraphIndex::Consumers(const std::string& value) const {
  auto found = consumers_.find(value);
  return found == consumers_.end() ? empty_ : found->second;
}

namespace {
// Renames reads in a subgraph unless the subgraph shadows the name with its own definition.
int ReplaceInScope(Graph* graph, const std::string& from, const std::string& to, bool outer) {
  if (outer) {
    std::set<std::string> reads, defined;
    CollectReads(*graph, &reads, &defined);
    if (defined.count(from)) return 0;  // shadowed
  }
  int replaced = 0;
  for (auto& node : graph->nodes) {
    for (auto& input : node->inputs) {
      if (input == from) {
        input = to;
        ++replaced;
      }
    }
    ForEachSubgraphMutable(*node, [&](Graph& sub) { replaced += ReplaceInScope(&sub, from, to, true); });
  }
  return replaced;
}
}  // namespace

int ReplaceAllUses(Graph* graph, const std::string& from, const std::string& to) {
  int replaced = ReplaceInScope(graph, from, to, false);
  for (auto& output : graph->outputs) {
    if (output.name == from) {
      output.name = to;
      ++replaced;
    }
  }
  return replaced;
}

bool RemoveNode(Graph* graph, const Node* node) {
  auto found = std::find_if(graph->nodes.begin(), graph->nodes.end(),
                            [node](const auto& n) { return n.get() == node; });
  if (found == graph->nodes.end()) return false;
  graph->nodes.erase(found);
  return true;
}

Node* InsertNode(Graph* graph, std::unique_ptr<Node> node, const Node* before) {
  node->op = LookupOpType(node->domain, node->op_type);
  auto position = std::find_if(graph->nodes.begin(), graph->nodes.end(),
                               [before](const auto& n) { return n.get() == before; });
  return graph->nodes.insert(position, std::move(node))->get();
}

std::vector<ValueInfo> RequiredInputs(const Graph& graph) {
  std::vector<ValueInfo> inputs;
  for (const ValueInfo& input : graph.inputs) {
    if (!graph.HasInitializer(input.name)) inputs.push_back(input);
  }
  return inputs;
}

std::string UniqueValueName(const Graph& graph, const std::string& base) {
  std::set<std::string> reads, defined;
  CollectReads(graph, &reads, &defined);
  std::function<void(const Graph&)> collect_nested = [&](const Graph& g) {
    for (const auto& node : g.nodes) {
      ForEachSubgraph(*node, [&](const Graph& sub) {
        CollectReads(sub, &reads, &defined);
        collect_nested(sub);
      });
    }
  };
  collect_nested(graph);
  if (!reads.count(base) && !defined.count(base)) return base;
  for (int suffix = 1;; ++suffix) {
    std::string candidate = base + "_" + std::to_string(suffix);
    if (!reads.count(candidate) && !defined.count(candidate)) return candidate;
  }
}

int EliminateDeadNodes(Graph* graph) {
  int removed = 0;
  bool changed = true;
  while (changed) {
    changed = false;
    GraphIndex index(*graph);
    for (size_t i = graph->nodes.size(); i-- > 0;) {
      const Node& node = *graph->nodes[i];
      bool used = std::any_of(node.outputs.begin(), node.outputs.end(), [&](const auto& out) {
        return !out.empty() && (index.IsGraphOutput(out) || !index.Consumers(out).empty());
      });
      if (!used) {
        graph->nodes.erase(graph->nodes.begin() + long(i));
        ++removed;
        changed = true;
      }
    }
  }
  std::set<std::string> reads, defined;
  CollectReads(*graph, &reads, &defined);
  std::vector<std::string> names = graph->initializer_names();
  for (const auto& name : names) {
    bool is_input = std::any_of(graph->inputs.begin(), graph->inputs.end(),
                                [&](const ValueInfo& v) { return v.name == name; });
    if (!reads.count(name) && !is_input) graph->RemoveInitializer(name);
  }
  return removed;
}

}  // namespace shrink::engine
