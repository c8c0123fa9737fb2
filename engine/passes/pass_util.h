// Helpers shared by the graph preparation passes: walking every graph level (subgraphs
// included) with its enclosing scopes, constant lookup through those scopes, and small
// def-use questions that every pass asks.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>

#include "common/status.h"
#include "engine/ir/graph.h"
#include "engine/ir/graph_utils.h"

namespace shrink::engine {

// One graph level and the levels enclosing it (null parent for the main graph).
class Scope {
 public:
  Scope(Graph* graph, const Scope* parent, int64_t opset);
  Graph* graph() const { return graph_; }
  int64_t opset() const { return opset_; }  // of the default ONNX domain
  // The constant behind `name` as seen from this level: an initializer that is not a graph input,
  // of this level or (when this level does not define the name) of an enclosing one. Null when
  // the value is computed, fed, or unknown. Reflects definitions at construction time.
  const Tensor* Constant(const std::string& name) const;

 private:
  Graph* graph_;
  const Scope* parent_;
  int64_t opset_;
  std::set<std::string> computed_;  // graph inputs and node outputs of this level
};

// Calls `fn` on the main graph, then on every subgraph (depth first, after the enclosing level
// was rewritten). Returns the sum of what `fn` returned.
StatusOr<int> ForEachGraphLevel(Model* model, const std::function<StatusOr<int>(const Scope&)>& fn);

// A value nobody reads: no consumer at this level (subgraph reads included) and not a graph
// output. Empty names count as unused.
bool IsUnused(const GraphIndex& index, const std::string& value);
// The only reader of `value`, or null when it has none or several, or is a graph output.
Node* SoleConsumer(const GraphIndex& index, const std::string& value);
// Rank of a value when the graph records its shape (inputs, value_info, outputs) or its
// producer fixes it (Flatten, Gemm: 2-D); -1 when unknown.
int KnownRank(const Graph& graph, const GraphIndex& index, const std::string& value);
// Drops an initializer of this level once no node (nor nested subgraph) reads it and it is
// neither a graph input nor a graph output.
void RemoveInitializerIfUnused(Graph* graph, const std::string& name);
// Renames the ValueInfo entry of `from` in value_info to `to` (dropping it when `to` already
// has one, or when `to` is empty), so type annotations follow a renamed value.
void RenameValueInfo(Graph* graph, const std::string& from, const std::string& to);

// Float32 tensor of a constant, or null when it is not float32.

inline const Tensor* AsFloat(const Tensor* tensor) {
  return tensor && tensor->dtype() == DataType::kFloat32 ? tensor : nullptr;
}

}  // namespace shrink::engine
