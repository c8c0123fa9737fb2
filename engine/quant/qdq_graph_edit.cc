#include "engine/quant/qdq_graph_edit.h"

#include <functional>

#include "engine/ir/graph_utils.h"
#include "engine/ir/op_types.h"

namespace shrink::engine::quant {
namespace {

void CollectNames(const Graph& graph, std::set<std::string>* values, std::set<std::string>* nodes) {
  for (const auto& v : graph.inputs) values->insert(v.name);
  for (const auto& v : graph.outputs) values->insert(v.name);
  for (const auto& v : graph.value_info) values->insert(v.name);
  for (const auto& name : graph.initializer_names()) values->insert(name);
  for (const auto& node : graph.nodes) {
    nodes->insert(node->name);
    for (const auto& name : node->inputs) values->insert(name);
    for (const auto& name : node->outputs) values->insert(name);
    for (const auto& attr : node->attributes) {
      if (attr.g) CollectNames(*attr.g, values, nodes);
      for (const auto& g : attr.graphs) CollectNames(*g, values, nodes);
    }
  }
}

std::string Fresh(std::set<std::string>* used, const std::string& base) {
  std::string candidate = base;
  for (int suffix = 1; used->count(candidate); ++suffix) {
    candidate = base + "_" + std::to_string(suffix);
  }
  used->insert(candidate);
  return candidate;
}

}  // namespace

NameGenerator::NameGenerator(const Model& model) {
  CollectNames(model.graph, &used_, &node_names_);
}

std::string NameGenerator::Value(const std::string& base) { return Fresh(&used_, base); }
std::string NameGenerator::NodeName(const std::string& base) { return Fresh(&node_names_, base); }

Graph* FindInitializerOwner(const ScopeChain& scopes, const std::string& name) {
  for (size_t i = scopes.size(); i-- > 0;) {
    Graph* graph = scopes[i];
    for (const auto& input : graph->inputs) {
      if (input.name == name) return nullptr;  // a graph input (or overridable initializer)
    }
    if (graph->HasInitializer(name)) return graph;
    for (const auto& node : graph->nodes) {
      for (const auto& out : node->outputs) {
        if (out == name) return nullptr;
      }
    }
  }
  return nullptr;
}

std::unique_ptr<Node> MakeNode(const std::string& op_type, const std::string& domain,
                               std::vector<std::string> inputs, std::vector<std::string> outputs,
                               const std::string& name) {
  auto node = std::make_unique<Node>();
  node->op_type = op_type;
  node->domain = domain;
  node->op = LookupOpType(domain, op_type);
  node->inputs = std::move(inputs);
  node->outputs = std::move(outputs);
  node->name = name;
  return node;
}

bool Is16Bit(DataType type) { return type == DataType::kInt16 || type == DataType::kUint16; }

std::unique_ptr<Node> MakeQuantizeNode(bool dequantize, DataType qtype, const std::string& x,
                                       const std::string& scale, const std::string& zero_point,
                                       const std::string& y, int axis, const std::string& name) {
  std::string domain = Is16Bit(qtype) ? "com.microsoft" : "";
  auto node = MakeNode(dequantize ? "DequantizeLinear" : "QuantizeLinear", domain,
                       {x, scale, zero_point}, {y}, name);
  if (axis >= 0) {
    Attribute attr;
    attr.name = "axis";
    attr.type = AttributeType::kInt;
    attr.i = axis;
    node->SetAttribute(attr);
  }
  return node;
}

bool IsFloatValue(const ScopeChain& scopes, const std::string& name) {
  for (size_t i = scopes.size(); i-- > 0;) {
    if (const Tensor* t = scopes[i]->FindInitializer(name)) return t->dtype() == DataType::kFloat32;
    const ValueInfo* info = scopes[i]->FindValueInfo(name);
    if (info != nullptr && info->type.is_tensor() && info->type.elem_type != DataType::kUndefined) {
      return info->type.elem_type == DataType::kFloat32;
    }
  }
  return true;
}

void CollectModelReads(const Graph& graph, std::set<std::string>* reads) {
  for (const auto& node : graph.nodes) {
    for (const std::string& name : NodeReads(*node)) reads->insert(name);
    for (const auto& attr : node->attributes) {
      if (attr.g) CollectModelReads(*attr.g, reads);
      for (const auto& g : attr.graphs) CollectModelReads(*g, reads);
    }
  }
  for (const auto& output : graph.outputs) reads->insert(output.name);
}

Status CheckStaticOpset(const Model& model) {
  int64_t opset = model.OpsetVersion("");
  if (opset < 13) {
    return FailedPrecondition(
        "static QDQ quantization needs opset >= 13 (per-axis scales); the "
        "model has opset " +
        std::to_string(opset) + ": run the opset upgrade first");
  }
  return OkStatus();
}

}  // namespace shrink::engine::quant
