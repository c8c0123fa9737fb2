// Graph utilities that passes build on: validation, ordering, def-use queries and edits.
#pragma once

#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "engine/ir/graph.h"

namespace shrink::engine {

// Checks structure: every value is defined once, every node input is defined (by an input, an
// initializer, a node, or - for subgraphs - an enclosing scope), the graph is acyclic and its
// outputs are defined. Recurses into subgraphs. Errors name the node and the value.
Status ValidateGraph(const Graph& graph);

// Nodes ordered so that producers come before consumers (stable: file order where possible).
// Fails on cycles, naming a node on the cycle.
StatusOr<std::vector<Node*>> TopologicalOrder(const Graph& graph);
// Sorts graph.nodes in place into topological order.
Status SortTopologically(Graph* graph);

// Names a subgraph reads from enclosing scopes (recursively through nested subgraphs).
std::set<std::string> OuterScopeReferences(const Graph& subgraph);
// All names a node reads: its inputs plus what its subgraphs read from the enclosing scope.
std::vector<std::string> NodeReads(const Node& node);

// Def-use index of one graph level. Invalidated by edits.
class GraphIndex {
 public:
  explicit GraphIndex(const Graph& graph);
  // The node producing a value, or null (graph input, initializer, outer scope).
  Node* Producer(const std::string& value) const;
  // Nodes reading a value (including through their subgraphs).
  const std::vector<Node*>& Consumers(const std::string& value) const;
  bool IsGraphOutput(const std::string& value) const { return graph_outputs_.count(value) > 0; }

 private:
  std::unordered_map<std::string, Node*> producer_;
  std::unordered_map<std::string, std::vector<Node*>> consumers_;
  std::set<std::string> graph_outputs_;
  std::vector<Node*> empty_;
};

// Rewrites every read of `from` (node inputs, subgraph references, graph outputs) to `to`.
// Returns the number of rewritten references.
int ReplaceAllUses(Graph* graph, const std::string& from, const std::string& to);
// Removes a node (by pointer); its outputs become undefined unless redefined.
bool RemoveNode(Graph* graph, const Node* node);
// Inserts a node before `before` (or at the end when null); returns the inserted node.
Node* InsertNode(Graph* graph, std::unique_ptr<Node> node, const Node* before);
// A value name not used anywhere in the graph (nor its subgraphs), built from `base`.
std::string UniqueValueName(const Graph& graph, const std::string& base);
// Graph inputs that must be fed at run time (those without an initializer of the same name).
std::vector<ValueInfo> RequiredInputs(const Graph& graph);
// Removes nodes whose outputs are never read (and unused initializers). Nodes with unknown ops
// are kept only when they have no outputs in use, like any other node. Returns nodes removed.
int EliminateDeadNodes(Graph* graph);

}  // namespace shrink::engine
