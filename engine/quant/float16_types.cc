#include "engine/quant/float16_types.h"

#include <vector>

#include "engine/ir/graph_utils.h"
#include "engine/quant/float16_ops.h"

namespace shrink::engine::quant {
namespace {

DataType ParseTensorType(const std::string& s) {
  static const std::pair<const char*, DataType> kTypes[] = {
      {"tensor(float)", DataType::kFloat32},  {"tensor(float16)", DataType::kFloat16},
      {"tensor(double)", DataType::kFloat64}, {"tensor(bfloat16)", DataType::kBFloat16},
      {"tensor(int64)", DataType::kInt64},    {"tensor(int32)", DataType::kInt32},
      {"tensor(int16)", DataType::kInt16},    {"tensor(int8)", DataType::kInt8},
      {"tensor(uint8)", DataType::kUint8},    {"tensor(uint16)", DataType::kUint16},
      {"tensor(uint32)", DataType::kUint32},  {"tensor(uint64)", DataType::kUint64},
      {"tensor(bool)", DataType::kBool},      {"tensor(string)", DataType::kString},
  };
  for (const auto& [name, type] : kTypes) {
    if (s == name) return type;
  }
  return DataType::kUndefined;
}

DataType ConstantType(const Node& node) {
  if (const Tensor* t = node.GetTensor("value")) return t->dtype();
  if (node.HasAttribute("value_float") || node.HasAttribute("value_floats")) {
    return DataType::kFloat32;
  }
  if (node.HasAttribute("value_int") || node.HasAttribute("value_ints")) return DataType::kInt64;
  if (node.HasAttribute("value_string") || node.HasAttribute("value_strings")) {
    return DataType::kString;
  }
  return DataType::kUndefined;
}

DataType SubgraphOutputType(const ValueTypes& types, const Graph* graph, size_t index) {
  if (graph == nullptr || index >= graph->outputs.size()) return DataType::kUndefined;
  const ValueInfo& out = graph->outputs[index];
  DataType inferred = types.Original(out.name);
  return inferred != DataType::kUndefined ? inferred : out.type.elem_type;
}

template <typename Fn>
void ForEachSubgraph(const Node& node, Fn&& fn) {
  for (const Attribute& attr : node.attributes) {
    if (attr.g) fn(*attr.g);
    for (const auto& g : attr.graphs) fn(*g);
  }
}

}  // namespace

DataType ValueTypes::Original(const std::string& name) const {
  auto it = original_.find(name);
  return it == original_.end() ? DataType::kUndefined : it->second;
}

DataType ValueTypes::Current(const std::string& name) const {
  auto it = current_.find(name);
  return it == current_.end() ? Original(name) : it->second;
}

void ValueTypes::Infer(const Model& model) { InferGraph(model, model.graph); }

void ValueTypes::InferGraph(const Model& model, const Graph& graph) {
  for (const ValueInfo& input : graph.inputs) {
    if (input.type.is_tensor()) original_[input.name] = input.type.elem_type;
  }
  for (const std::string& name : graph.initializer_names()) {
    original_[name] = graph.FindInitializer(name)->dtype();
  }
  auto order = TopologicalOrder(graph);
  std::vector<const Node*> nodes;
  if (order.ok()) {
    nodes.assign(order->begin(), order->end());
  } else {
    for (const auto& node : graph.nodes) nodes.push_back(node.get());
  }
  for (const Node* node : nodes) {
    ForEachSubgraph(*node, [&](const Graph& sub) { InferGraph(model, sub); });
    for (size_t j = 0; j < node->outputs.size(); ++j) {
      if (node->outputs[j].empty()) continue;
      DataType type = InferOutput(model, *node, j);
      if (type == DataType::kUndefined) {
        if (const ValueInfo* info = graph.FindValueInfo(node->outputs[j])) {
          type = info->type.elem_type;
        }
      }
      if (type != DataType::kUndefined) original_[node->outputs[j]] = type;
    }
  }
}

DataType ValueTypes::InferOutput(const Model& model, const Node& node, size_t index) const {
  switch (node.op) {
    case OpType::kCast:
      return DataType(node.GetInt("to", 0));
    case OpType::kConstant:
      return ConstantType(node);
    case OpType::kConstantOfShape: {
      const Tensor* value = node.GetTensor("value");
      return value != nullptr ? value->dtype() : DataType::kFloat32;
    }
    case OpType::kRandomNormal:
    case OpType::kRandomUniform:
      return DataType(node.GetInt("dtype", 1));
    case OpType::kEyeLike:
    case OpType::kRandomNormalLike:
    case OpType::kRandomUniformLike:
      if (node.HasAttribute("dtype")) return DataType(node.GetInt("dtype", 1));
      return node.inputs.empty() ? DataType::kUndefined : Original(node.inputs[0]);
    case OpType::kIf:
      return SubgraphOutputType(*this, node.GetGraph("then_branch"), index);
    case OpType::kLoop:
      return SubgraphOutputType(*this, node.GetGraph("body"), index + 1);
    case OpType::kScan:
      return SubgraphOutputType(*this, node.GetGraph("body"), index);
    default:
      break;
  }
  const int64_t opset = model.OpsetVersion(node.domain);
  const std::string formal = FormalTypeString(node, opset, true, index);
  if (formal.empty()) return DataType::kUndefined;
  DataType fixed = ParseTensorType(formal);
  if (fixed != DataType::kUndefined || formal.rfind("tensor(", 0) == 0) return fixed;
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    if (node.inputs[i].empty()) continue;
    if (FormalTypeString(node, opset, false, i) != formal) continue;
    DataType bound = Original(node.inputs[i]);
    if (bound != DataType::kUndefined) return bound;
  }
  return DataType::kUndefined;
}

void NameGenerator::AddModel(const Model& model) {
  std::function<void(const Graph&)> add = [&](const Graph& graph) {
    for (const auto* list : {&graph.inputs, &graph.outputs, &graph.value_info}) {
      for (const ValueInfo& info : *list) used_.insert(info.name);
    }
    for (const std::string& name : graph.initializer_names()) used_.insert(name);
    for (const auto& node : graph.nodes) {
      used_.insert(node->inputs.begin(), node->inputs.end());
      used_.insert(node->outputs.begin(), node->outputs.end());
      used_.insert(node->name);
      ForEachSubgraph(*node, add);
    }
  };
  add(model.graph);
}

std::string NameGenerator::Make(const std::string& base) {
  std::string name = base;
  for (int suffix = 1; used_.count(name) > 0; ++suffix) name = base + "_" + std::to_string(suffix);
  used_.insert(name);
  return name;
}

namespace {

void CollectUses(Graph* graph, std::unordered_map<std::string, InitializerUses>* uses,
                 const std::function<bool(const Node&, size_t)>& is_data_use) {
  for (const std::string& name : graph->initializer_names()) {
    InitializerUses& use = (*uses)[name];
    use.owner = graph;
  }
  for (const ValueInfo& io : graph->inputs) {
    if (uses->count(io.name)) (*uses)[io.name].pinned = true;
  }
  for (const ValueInfo& io : graph->outputs) {
    if (uses->count(io.name)) (*uses)[io.name].pinned = true;
  }
  for (auto& node : graph->nodes) {
    for (size_t i = 0; i < node->inputs.size(); ++i) {
      auto it = uses->find(node->inputs[i]);
      if (it == uses->end()) continue;
      ++it->second.uses;
      if (is_data_use(*node, i)) ++it->second.data_uses;
    }
    for (Attribute& attr : node->attributes) {
      if (attr.g) CollectUses(attr.g.get(), uses, is_data_use);
      for (auto& g : attr.graphs) CollectUses(g.get(), uses, is_data_use);
    }
  }
}

}  // namespace

std::unordered_map<std::string, InitializerUses> CollectInitializerUses(
    Model* model, const std::function<bool(const Node&, size_t)>& is_data_use) {
  std::unordered_map<std::string, InitializerUses> uses;
  CollectUses(&model->graph, &uses, is_data_use);
  return uses;
}

}  // namespace shrink::engine::quant
