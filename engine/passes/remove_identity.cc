#include "engine/passes/remove_identity.h"

#include <vector>

#include "engine/ir/graph_utils.h"
#include "engine/passes/pass_util.h"

namespace shrink::engine {
namespace {

enum class IdentityRewrite {
  kBypass,          // readers of the output read the input
  kRenameProducer,  // the output is a graph output: the input's producer takes its name
};

struct IdentityMatch {
  Node* node;
  IdentityRewrite rewrite;
};

// Dropout is an identity at inference unless training_mode is given and not constant false.
bool IsInferenceDropout(const Node& node, const Scope& scope, const GraphIndex& index) {
  if (node.outputs.size() > 1 && !IsUnused(index, node.outputs[1])) return false;
  if (!node.HasInput(2)) return true;
  const Tensor* training = scope.Constant(node.inputs[2]);
  return training && training->size() == 1 && training->GetAsDouble(0) == 0.0;
}

bool IsGraphInput(const Graph& graph, const std::string& value) {
  for (const ValueInfo& input : graph.inputs) {
    if (input.name == value) return true;
  }
  return false;
}

std::vector<IdentityMatch> MatchIdentities(const Scope& scope, const GraphIndex& index) {
  const Graph& graph = *scope.graph();
  std::vector<IdentityMatch> matches;
  for (const auto& owned : graph.nodes) {
    Node* node = owned.get();
    if (node->op != OpType::kIdentity && node->op != OpType::kDropout) continue;
    if (!node->HasInput(0) || node->outputs.empty() || node->outputs[0].empty()) continue;
    if (node->op == OpType::kDropout && !IsInferenceDropout(*node, scope, index)) continue;
    const std::string& input = node->inputs[0];
    const std::string& output = node->outputs[0];
    if (!index.IsGraphOutput(output)) {
      matches.push_back({node, IdentityRewrite::kBypass});
      continue;
    }
    // Renaming the producer keeps the graph output's name; the input must be this level's own
    // computed value and must not carry a name of its own that the outside sees.
    Node* producer = index.Producer(input);
    if (producer && !index.IsGraphOutput(input) && !IsGraphInput(graph, input) &&
        !graph.HasInitializer(input)) {
      matches.push_back({node, IdentityRewrite::kRenameProducer});
    }
  }
  return matches;
}

void ApplyIdentityRewrite(Graph* graph, const IdentityMatch& match) {
  const std::string input = match.node->inputs[0];
  const std::string output = match.node->outputs[0];
  RemoveNode(graph, match.node);
  if (match.rewrite == IdentityRewrite::kBypass) {
    ReplaceAllUses(graph, output, input);
    return;
  }
  for (auto& node : graph->nodes) {
    for (std::string& produced : node->outputs) {
      if (produced == input) produced = output;
    }
  }
  ReplaceAllUses(graph, input, output);
  RenameValueInfo(graph, input, output);
}

StatusOr<int> RemoveIdentityAtLevel(const Scope& scope) {
  Graph* graph = scope.graph();
  int removed = 0;
  // A rename changes which values are graph outputs, so matching repeats after each one; bypass
  // rewrites read their node's current input and stay valid within one round.
  while (true) {
    GraphIndex index(*graph);
    std::vector<IdentityMatch> matches = MatchIdentities(scope, index);
    if (matches.empty()) break;
    bool renamed = false;
    for (const IdentityMatch& match : matches) {
      if (match.rewrite == IdentityRewrite::kRenameProducer) {
        if (renamed) continue;
        renamed = true;
      }
      ApplyIdentityRewrite(graph, match);
      ++removed;
    }
  }
  return removed;
}

}  // namespace

StatusOr<int> RemoveIdentity(Model* model) {
  return ForEachGraphLevel(model, RemoveIdentityAtLevel);
}

}  // namespace shrink::engine
