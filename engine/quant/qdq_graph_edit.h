// Graph edits shared by the static and dynamic quantizers: model-wide unique names, initializer
// lookup through enclosing scopes, and QuantizeLinear/DequantizeLinear node construction.
// Internal to engine/quant.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "engine/ir/graph.h"
#include "engine/quant/quant_params.h"

namespace shrink::engine::quant {

// Hands out value and node names unused anywhere in the model (all graph levels), so that
// names stay unique across subgraphs as ONNX requires.
class NameGenerator {
 public:
  explicit NameGenerator(const Model& model);
  std::string Value(const std::string& base);
  std::string NodeName(const std::string& base);

 private:
  std::set<std::string> used_;
  std::set<std::string> node_names_;
};

// A graph and the graphs enclosing it, innermost last.
using ScopeChain = std::vector<Graph*>;

// The innermost graph of `scopes` holding initializer `name` that is not shadowed by a graph
// input, a node output or an inner definition; null when `name` is not a constant there.
Graph* FindInitializerOwner(const ScopeChain& scopes, const std::string& name);

std::unique_ptr<Node> MakeNode(const std::string& op_type, const std::string& domain,
                               std::vector<std::string> inputs, std::vector<std::string> outputs,
                               const std::string& name);

// Q (or DQ) of a given element type: 16-bit types use the com.microsoft domain so that opset
// <= 17 tools can still check the model.
std::unique_ptr<Node> MakeQuantizeNode(bool dequantize, DataType qtype, const std::string& x,
                                       const std::string& scale, const std::string& zero_point,
                                       const std::string& y, int axis, const std::string& name);

bool Is16Bit(DataType type);

// False only when `name` has a known type (initializer or value info, innermost scope first)
// that is not float32.
bool IsFloatValue(const ScopeChain& scopes, const std::string& name);

// Every name read anywhere in the graph and its subgraphs (node inputs, graph outputs).
void CollectModelReads(const Graph& graph, std::set<std::string>* reads);

// Static QDQ needs opset >= 13 (per-axis scales): a FailedPrecondition naming the opset if not.
Status CheckStaticOpset(const Model& model);

}  // namespace shrink::engine::quant
