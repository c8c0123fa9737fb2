// Shared between the opset upgrade driver and its per-step rewrite rules.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/status.h"
#include "engine/ir/graph.h"

namespace shrink::engine::opset_upgrade {

struct UpgradeContext {
  Graph* root = nullptr;  // new value names are unique in the whole model
  int64_t from = 0;
  int64_t target = 0;
  // Types inferred (by libonnx, at the old opset) before any rewrite; may be incomplete.
  std::unordered_map<std::string, ValueType> types;
  std::vector<std::pair<std::string, int>> rules;  // in first-use order
  std::unordered_map<std::string, size_t> rule_index;
  // Set by an adapter that replaced the node by one already in its target-opset form.
  bool node_finished = false;

  void Record(const std::string& rule);
  // Element type of a value, kUndefined when not known.
  DataType ElemType(const Graph& graph, const std::string& value) const;
  // Rank of a value, -1 when not known.
  int Rank(const Graph& graph, const std::string& value) const;
  // Adds an initializer to `graph` under a fresh name built from `base`; returns the name.
  std::string AddInitializer(Graph* graph, const std::string& base, Tensor value);
  std::string NewName(const std::string& base) const;
};

// Rewrites one node across one version step (from `old_version` to `new_version` of its op).
// Records the rule it applied in the context.
using StepAdapter = Status (*)(UpgradeContext& context, Graph* graph, Node* node,
                               int64_t old_version, int64_t new_version);

// The rewrite for (op, since-version), or null when the step only adds types or attributes
// with defaults that keep the old behaviour.
StepAdapter FindStepAdapter(OpType op, int64_t new_version);

// "Softmax 11->13"
std::string StepName(const Node& node, int64_t old_version, int64_t new_version);

}  // namespace shrink::engine::opset_upgrade
