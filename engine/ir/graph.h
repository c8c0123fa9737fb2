// The graph IR: Model -> Graph -> Node, values named as in ONNX. Everything an ONNX file holds
// is kept (what the engine does not model, such as functions or sparse initializers, is kept as
// serialized protobuf bytes) so that an untouched model round-trips losslessly.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/status.h"
#include "engine/ir/op_types.h"
#include "engine/ir/tensor.h"

namespace shrink::engine {

class Graph;

enum class AttributeType {
  kUndefined = 0,
  kFloat = 1,
  kInt = 2,
  kString = 3,
  kTensor = 4,
  kGraph = 5,
  kFloats = 6,
  kInts = 7,
  kStrings = 8,
  kTensors = 9,
  kGraphs = 10,
  kSparseTensor = 11,
  kSparseTensors = 12,
  kTypeProto = 13,
  kTypeProtos = 14,
};

struct Attribute {
  std::string name;
  AttributeType type = AttributeType::kUndefined;
  std::string doc_string;
  std::string ref_attr_name;  // set inside function bodies
  float f = 0;
  int64_t i = 0;
  std::string s;
  Tensor t;
  std::string t_name;  // the TensorProto name of `t`, kept for round trips
  std::shared_ptr<Graph> g;
  std::vector<float> floats;
  std::vector<int64_t> ints;
  std::vector<std::string> strings;
  std::vector<Tensor> tensors;
  std::vector<std::shared_ptr<Graph>> graphs;
  // Sparse tensors and type protos: the serialized AttributeProto, written back unchanged.
  std::string raw_proto;
};

// Attribute constructors (passes and quantizers add attributes to the nodes they write).
Attribute IntAttribute(const std::string& name, int64_t value);
Attribute FloatAttribute(const std::string& name, float value);
Attribute StringAttribute(const std::string& name, const std::string& value);
Attribute IntsAttribute(const std::string& name, std::vector<int64_t> values);

struct Dim {
  int64_t value = -1;  // >= 0 when known
  std::string param;   // symbolic name when value is unknown ("" = anonymous)
  std::string denotation;
  bool known() const { return value >= 0; }
};

// Type of a value. Tensors are modeled; sequence/map/optional types keep their TypeProto bytes.
struct ValueType {
  DataType elem_type = DataType::kUndefined;
  bool has_shape = false;
  std::vector<Dim> dims;
  std::string denotation;
  std::string raw_non_tensor_type;  // serialized TypeProto when the value is not a tensor
  bool missing = false;             // the file gave no type at all
  bool is_tensor() const { return raw_non_tensor_type.empty() && !missing; }
  // Static shape when every dim is known.
  bool IsStatic() const;
  Shape StaticShape() const;
};

struct ValueInfo {
  std::string name;
  ValueType type;
  std::string doc_string;
  std::string raw_metadata;  // serialized metadata_props of newer IR versions, if any
};

class Node {
 public:
  std::string name;
  std::string op_type;
  std::string domain;
  OpType op = OpType::kUnknown;
  std::vector<std::string> inputs;  // "" marks an omitted optional input
  std::vector<std::string> outputs;
  std::vector<Attribute> attributes;
  std::string doc_string;

  const Attribute* FindAttribute(std::string_view attr_name) const;
  Attribute* FindAttribute(std::string_view attr_name);
  bool HasAttribute(std::string_view attr_name) const { return FindAttribute(attr_name); }
  int64_t GetInt(std::string_view attr_name, int64_t fallback) const;
  float GetFloat(std::string_view attr_name, float fallback) const;
  std::string GetString(std::string_view attr_name, const std::string& fallback) const;
  std::vector<int64_t> GetInts(std::string_view attr_name) const;  // empty when absent
  std::vector<float> GetFloats(std::string_view attr_name) const;
  std::vector<std::string> GetStrings(std::string_view attr_name) const;
  const Tensor* GetTensor(std::string_view attr_name) const;
  const Graph* GetGraph(std::string_view attr_name) const;
  // Adds or replaces an attribute.
  void SetAttribute(Attribute attribute);

  // Number of inputs actually present (trailing "" excluded).
  int NumInputs() const;
  bool HasInput(int index) const {
    return index < int(inputs.size()) && !inputs[size_t(index)].empty();
  }
  // "Conv 'conv1'" for error messages.
  std::string Describe() const;
};

class Graph {
 public:
  Graph() = default;
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;
  Graph(Graph&&) = default;
  Graph& operator=(Graph&&) = default;

  std::string name;
  std::string doc_string;
  std::vector<ValueInfo> inputs;
  std::vector<ValueInfo> outputs;
  std::vector<ValueInfo> value_info;
  std::vector<std::unique_ptr<Node>> nodes;               // in file order; see TopologicalOrder()
  std::vector<std::string> raw_sparse_initializers;       // serialized SparseTensorProto
  std::vector<std::string> raw_quantization_annotations;  // serialized TensorAnnotation

  // Initializers keep their insertion order for a faithful export.
  const Tensor* FindInitializer(const std::string& value_name) const;
  bool HasInitializer(const std::string& value_name) const {
    return FindInitializer(value_name) != nullptr;
  }
  void SetInitializer(const std::string& value_name, Tensor tensor);
  bool RemoveInitializer(const std::string& value_name);
  const std::vector<std::string>& initializer_names() const { return initializer_order_; }
  size_t num_initializers() const { return initializer_order_.size(); }

  Node* AddNode(std::unique_ptr<Node> node);
  const ValueInfo* FindValueInfo(
      const std::string& value_name) const;  // inputs, outputs, value_info
  // Deep copy, including subgraphs (tensor buffers are shared; they are immutable).
  std::unique_ptr<Graph> Clone() const;

 private:
  std::unordered_map<std::string, Tensor> initializers_;
  std::vector<std::string> initializer_order_;
};

// The subgraphs a node carries (If branches, Loop/Scan bodies), with the attribute of each.
struct SubgraphRef {
  Attribute* attribute;
  Graph* graph;
};
std::vector<SubgraphRef> Subgraphs(Node& node);

struct OpsetImport {
  std::string domain;  // "" = ai.onnx
  int64_t version = 0;
};

struct Model {
  int64_t ir_version = 8;
  std::vector<OpsetImport> opset_imports;
  std::string producer_name;
  std::string producer_version;
  std::string domain;
  int64_t model_version = 0;
  std::string doc_string;
  std::vector<std::pair<std::string, std::string>> metadata_props;
  Graph graph;
  std::vector<std::string> raw_functions;      // serialized FunctionProto
  std::vector<std::string> raw_training_info;  // serialized TrainingInfoProto

  // Opset version imported for a domain ("" and "ai.onnx" alike); 0 when not imported.
  int64_t OpsetVersion(const std::string& domain_name) const;
};

// A deep copy of a model: the graph and subgraphs are cloned; tensor buffers are shared
// (they are immutable).
Model CloneModel(const Model& model);


}  // namespace shrink::engine
