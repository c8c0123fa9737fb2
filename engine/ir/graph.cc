#include "engine/ir/graph.h"

#include <algorithm>

namespace shrink::engine {

Attribute IntAttribute(const std::string& name, int64_t value) {
  Attribute a;
  a.name = name;
  a.type = AttributeType::kInt;
  a.i = value;
  return a;
}

Attribute FloatAttribute(const std::string& name, float value) {
  Attribute a;
  a.name = name;
  a.type = AttributeType::kFloat;
  a.f = value;
  return a;
}

Attribute StringAttribute(const std::string& name, const std::string& value) {
  Attribute a;
  a.name = name;
  a.type = AttributeType::kString;
  a.s = value;
  return a;
}

std::vector<SubgraphRef> Subgraphs(Node& node) {
  std::vector<SubgraphRef> subgraphs;
  for (Attribute& attribute : node.attributes) {
    if (attribute.g) subgraphs.push_back({&attribute, attribute.g.get()});
    for (auto& graph : attribute.graphs) subgraphs.push_back({&attribute, graph.get()});
  }
  return subgraphs;
}

Attribute IntsAttribute(const std::string& name, std::vector<int64_t> values) {
  Attribute a;
  a.name = name;
  a.type = AttributeType::kInts;
  a.ints = std::move(values);
  return a;
}

bool ValueType::IsStatic() const {
  if (!has_shape) return false;
  return std::all_of(dims.begin(), dims.end(), [](const Dim& d) { return d.known(); });
}

Shape ValueType::StaticShape() const {
  Shape shape;
  for (const Dim& d : dims) shape.push_back(d.value);
  return shape;
}

const Attribute* Node::FindAttribute(std::string_view attr_name) const {
  for (const Attribute& a : attributes) {
    if (a.name == attr_name) return &a;
  }
  return nullptr;
}

Attribute* Node::FindAttribute(std::string_view attr_name) {
  for (Attribute& a : attributes) {
    if (a.name == attr_name) return &a;
  }
  return nullptr;
}

int64_t Node::GetInt(std::string_view attr_name, int64_t fallback) const {
  const Attribute* a = FindAttribute(attr_name);
  return a && a->type == AttributeType::kInt ? a->i : fallback;
}

float Node::GetFloat(std::string_view attr_name, float fallback) const {
  const Attribute* a = FindAttribute(attr_name);
  return a && a->type == AttributeType::kFloat ? a->f : fallback;
}

std::string Node::GetString(std::string_view attr_name, const std::string& fallback) const {
  const Attribute* a = FindAttribute(attr_name);
  return a && a->type == AttributeType::kString ? a->s : fallback;
}

std::vector<int64_t> Node::GetInts(std::string_view attr_name) const {
  const Attribute* a = FindAttribute(attr_name);
  return a && a->type == AttributeType::kInts ? a->ints : std::vector<int64_t>{};
}

std::vector<float> Node::GetFloats(std::string_view attr_name) const {
  const Attribute* a = FindAttribute(attr_name);
  return a && a->type == AttributeType::kFloats ? a->floats : std::vector<float>{};
}

std::vector<std::string> Node::GetStrings(std::string_view attr_name) const {
  const Attribute* a = FindAttribute(attr_name);
  return a && a->type == AttributeType::kStrings ? a->strings : std::vector<std::string>{};
}

const Tensor* Node::GetTensor(std::string_view attr_name) const {
  const Attribute* a = FindAttribute(attr_name);
  return a && a->type == AttributeType::kTensor ? &a->t : nullptr;
}

const Graph* Node::GetGraph(std::string_view attr_name) const {
  const Attribute* a = FindAttribute(attr_name);
  return a && a->type == AttributeType::kGraph ? a->g.get() : nullptr;
}

void Node::SetAttribute(Attribute attribute) {
  if (Attribute* existing = FindAttribute(attribute.name)) {
    *existing = std::move(attribute);
  } else {
    attributes.push_back(std::move(attribute));
  }
}

int Node::NumInputs() const {
  int count = int(inputs.size());
  while (count > 0 && inputs[size_t(count - 1)].empty()) --count;
  return count;
}

std::string Node::Describe() const {
  std::string text = domain.empty() ? op_type : domain + "." + op_type;
  return text + " '" + (name.empty() ? (outputs.empty() ? "" : outputs[0]) : name) + "'";
}

const Tensor* Graph::FindInitializer(const std::string& value_name) const {
  auto found = initializers_.find(value_name);
  return found == initializers_.end() ? nullptr : &found->second;
}

void Graph::SetInitializer(const std::string& value_name, Tensor tensor) {
  auto [it, inserted] = initializers_.insert_or_assign(value_name, std::move(tensor));
  if (inserted) initializer_order_.push_back(value_name);
}

bool Graph::RemoveInitializer(const std::string& value_name) {
  if (initializers_.erase(value_name) == 0) return false;
  initializer_order_.erase(
      std::find(initializer_order_.begin(), initializer_order_.end(), value_name));
  return true;
}

Node* Graph::AddNode(std::unique_ptr<Node> node) {
  node->op = LookupOpType(node->domain, node->op_type);
  nodes.push_back(std::move(node));
  return nodes.back().get();
}

const ValueInfo* Graph::FindValueInfo(const std::string& value_name) const {
  for (const auto* list : {&inputs, &outputs, &value_info}) {
    for (const ValueInfo& info : *list) {
      if (info.name == value_name) return &info;
    }
  }
  return nullptr;
}

namespace {
Attribute CloneAttribute(const Attribute& source) {
  Attribute copy = source;
  if (source.g) copy.g = source.g->Clone();
  for (size_t i = 0; i < source.graphs.size(); ++i) copy.graphs[i] = source.graphs[i]->Clone();
  return copy;
}
}  // namespace

std::unique_ptr<Graph> Graph::Clone() const {
  auto copy = std::make_unique<Graph>();
  copy->name = name;
  copy->doc_string = doc_string;
  copy->inputs = inputs;
  copy->outputs = outputs;
  copy->value_info = value_info;
  copy->raw_sparse_initializers = raw_sparse_initializers;
  copy->raw_quantization_annotations = raw_quantization_annotations;
  copy->initializers_ = initializers_;
  copy->initializer_order_ = initializer_order_;
  for (const auto& node : nodes) {
    auto node_copy = std::make_unique<Node>(*node);
    for (Attribute& a : node_copy->attributes) a = CloneAttribute(a);
    copy->nodes.push_back(std::move(node_copy));
  }
  return copy;
}

Model CloneModel(const Model& model) {
  Model copy;
  copy.ir_version = model.ir_version;
  copy.opset_imports = model.opset_imports;
  copy.producer_name = model.producer_name;
  copy.producer_version = model.producer_version;
  copy.domain = model.domain;
  copy.model_version = model.model_version;
  copy.doc_string = model.doc_string;
  copy.metadata_props = model.metadata_props;
  copy.graph = std::move(*model.graph.Clone());
  copy.raw_functions = model.raw_functions;
  copy.raw_training_info = model.raw_training_info;
  return copy;
}

int64_t Model::OpsetVersion(const std::string& domain_name) const {
  std::string wanted = domain_name == "ai.onnx" ? "" : domain_name;
  for (const OpsetImport& opset : opset_imports) {
    std::string have = opset.domain == "ai.onnx" ? "" : opset.domain;
    if (have == wanted) return opset.version;
  }
  return 0;
}

}  // namespace shrink::engine
