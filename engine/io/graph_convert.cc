// Attributes, nodes, graphs and models <-> protobuf (see proto_convert.h).
#include <string>

#include "engine/io/proto_convert.h"

namespace shrink::engine {
namespace {

constexpr int kMaxSubgraphDepth = 64;  // hostile files can nest graphs without bound

Status GraphFromProtoAtDepth(const onnx::GraphProto& proto, const ExternalDataSource& source,
                             int depth, Graph* graph);

Status AttributeFromProto(const onnx::AttributeProto& proto, const ExternalDataSource& source,
                          int depth, Attribute* attribute) {
  attribute->name = proto.name();
  attribute->doc_string = proto.doc_string();
  attribute->ref_attr_name = proto.ref_attr_name();
  int type = proto.type();
  if (type == onnx::AttributeProto::UNDEFINED) {  // files from old exporters leave it unset
    if (proto.has_f()) type = onnx::AttributeProto::FLOAT;
    else if (proto.has_i()) type = onnx::AttributeProto::INT;
    else if (proto.has_s()) type = onnx::AttributeProto::STRING;
    else if (proto.has_t()) type = onnx::AttributeProto::TENSOR;
    else if (proto.has_g()) type = onnx::AttributeProto::GRAPH;
    else if (proto.floats_size()) type = onnx::AttributeProto::FLOATS;
    else if (proto.ints_size()) type = onnx::AttributeProto::INTS;
    else if (proto.strings_size()) type = onnx::AttributeProto::STRINGS;
    else if (proto.tensors_size()) type = onnx::AttributeProto::TENSORS;
    else if (proto.graphs_size()) type = onnx::AttributeProto::GRAPHS;
  }
  attribute->type = AttributeType(type);
  switch (type) {
    case onnx::AttributeProto::FLOAT: attribute->f = proto.f(); break;
    case onnx::AttributeProto::INT: attribute->i = proto.i(); break;
    case onnx::AttributeProto::STRING: attribute->s = proto.s(); break;
    case onnx::AttributeProto::TENSOR: {
      ASSIGN_OR_RETURN(attribute->t, TensorFromProto(proto.t(), source));
      attribute->t_name = proto.t().name();
      break;
    }
    case onnx::AttributeProto::GRAPH: {
      attribute->g = std::make_shared<Graph>();
      RETURN_IF_ERROR(GraphFromProtoAtDepth(proto.g(), source, depth + 1, attribute->g.get()));
      break;
    }
    case onnx::AttributeProto::FLOATS:
      attribute->floats.assign(proto.floats().begin(), proto.floats().end());
      break;
    case onnx::AttributeProto::INTS:
      attribute->ints.assign(proto.ints().begin(), proto.ints().end());
      break;
    case onnx::AttributeProto::STRINGS:
      attribute->strings.assign(proto.strings().begin(), proto.strings().end());
      break;
    case onnx::AttributeProto::TENSORS:
      for (const auto& t : proto.tensors()) {
        ASSIGN_OR_RETURN(Tensor tensor, TensorFromProto(t, source));
        attribute->tensors.push_back(std::move(tensor));
      }
      break;
    case onnx::AttributeProto::GRAPHS:
      for (const auto& g : proto.graphs()) {
        auto sub = std::make_shared<Graph>();
        RETURN_IF_ERROR(GraphFromProtoAtDepth(g, source, depth + 1, sub.get()));
        attribute->graphs.push_back(std::move(sub));
      }
      break;
    default:  // sparse tensors, type protos and anything newer: kept verbatim
      attribute->raw_proto = proto.SerializeAsString();
      break;
  }
  return OkStatus();
}

Status AttributeToProto(const Attribute& attribute, TensorSink* sink,
                        onnx::AttributeProto* proto) {
  if (!attribute.raw_proto.empty()) {
    if (!proto->ParseFromString(attribute.raw_proto)) {
      return Internal("attribute '" + attribute.name + "' holds unparsable bytes");
    }
    return OkStatus();
  }
  proto->set_name(attribute.name);
  if (!attribute.doc_string.empty()) proto->set_doc_string(attribute.doc_string);
  if (!attribute.ref_attr_name.empty()) proto->set_ref_attr_name(attribute.ref_attr_name);
  proto->set_type(onnx::AttributeProto::AttributeType(attribute.type));
  switch (attribute.type) {
    case AttributeType::kFloat: proto->set_f(attribute.f); break;
    case AttributeType::kInt: proto->set_i(attribute.i); break;
    case AttributeType::kString: proto->set_s(attribute.s); break;
    case AttributeType::kTensor:
      RETURN_IF_ERROR(TensorToProto(attribute.t, attribute.t_name, sink, proto->mutable_t()));
      break;
    case AttributeType::kGraph:
      RETURN_IF_ERROR(GraphToProto(*attribute.g, sink, proto->mutable_g()));
      break;
    case AttributeType::kFloats:
      for (float v : attribute.floats) proto->add_floats(v);
      break;
    case AttributeType::kInts:
      for (int64_t v : attribute.ints) proto->add_ints(v);
      break;
    case AttributeType::kStrings:
      for (const auto& v : attribute.strings) proto->add_strings(v);
      break;
    case AttributeType::kTensors:
      for (const auto& t : attribute.tensors) {
        RETURN_IF_ERROR(TensorToProto(t, "", sink, proto->add_tensors()));
      }
      break;
    case AttributeType::kGraphs:
      for (const auto& g : attribute.graphs) {
        RETURN_IF_ERROR(GraphToProto(*g, sink, proto->add_graphs()));
      }
      break;
    default:
      break;
  }
  return OkStatus();
}

Status ValueInfoFromProto(const onnx::ValueInfoProto& proto, ValueInfo* info) {
  info->name = proto.name();
  info->doc_string = proto.doc_string();
  Status status = ValueTypeFromProto(proto.type(), &info->type);
  return status.WithContext("value '" + info->name + "'");
}

void ValueInfoToProto(const ValueInfo& info, onnx::ValueInfoProto* proto) {
  proto->set_name(info.name);
  if (!info.doc_string.empty()) proto->set_doc_string(info.doc_string);
  if (!info.type.missing) ValueTypeToProto(info.type, proto->mutable_type());
}

Status NodeFromProto(const onnx::NodeProto& proto, const ExternalDataSource& source, int depth,
                     Node* node) {
  node->name = proto.name();
  node->op_type = proto.op_type();
  node->domain = proto.domain();
  node->doc_string = proto.doc_string();
  node->op = LookupOpType(node->domain, node->op_type);
  node->inputs.assign(proto.input().begin(), proto.input().end());
  node->outputs.assign(proto.output().begin(), proto.output().end());
  for (const auto& a : proto.attribute()) {
    Attribute attribute;
    Status status = AttributeFromProto(a, source, depth, &attribute);
    if (!status.ok()) {
      return status.WithContext(node->Describe() + " attribute '" + a.name() + "'");
    }
    node->attributes.push_back(std::move(attribute));
  }
  return OkStatus();
}

Status GraphFromProtoAtDepth(const onnx::GraphProto& proto, const ExternalDataSource& source,
                             int depth, Graph* graph) {
  if (depth > kMaxSubgraphDepth) {
    return InvalidArgument("subgraphs are nested more than " + std::to_string(kMaxSubgraphDepth) +
                           " levels deep");
  }
  graph->name = proto.name();
  graph->doc_string = proto.doc_string();
  for (const auto& init : proto.initializer()) {
    if (init.name().empty()) return InvalidArgument("an initializer has no name");
    if (graph->HasInitializer(init.name())) {
      return InvalidArgument("initializer '" + init.name() + "' is defined twice");
    }
    ASSIGN_OR_RETURN(Tensor tensor, TensorFromProto(init, source));
    graph->SetInitializer(init.name(), std::move(tensor));
  }
  for (const auto& sparse : proto.sparse_initializer()) {
    graph->raw_sparse_initializers.push_back(sparse.SerializeAsString());
  }
  for (const auto& a : proto.quantization_annotation()) {
    graph->raw_quantization_annotations.push_back(a.SerializeAsString());
  }
  auto read_infos = [](const auto& list, std::vector<ValueInfo>* out) -> Status {
    for (const auto& v : list) {
      ValueInfo info;
      RETURN_IF_ERROR(ValueInfoFromProto(v, &info));
      out->push_back(std::move(info));
    }
    return OkStatus();
  };
  RETURN_IF_ERROR(read_infos(proto.input(), &graph->inputs));
  RETURN_IF_ERROR(read_infos(proto.output(), &graph->outputs));
  RETURN_IF_ERROR(read_infos(proto.value_info(), &graph->value_info));
  for (const auto& n : proto.node()) {
    auto node = std::make_unique<Node>();
    RETURN_IF_ERROR(NodeFromProto(n, source, depth, node.get()));
    graph->nodes.push_back(std::move(node));
  }
  return OkStatus();
}

}  // namespace

Status GraphFromProto(const onnx::GraphProto& proto, const ExternalDataSource& source,
                      Graph* graph) {
  return GraphFromProtoAtDepth(proto, source, 0, graph);
}

Status GraphToProto(const Graph& graph, TensorSink* sink, onnx::GraphProto* proto) {
  proto->set_name(graph.name);
  if (!graph.doc_string.empty()) proto->set_doc_string(graph.doc_string);
  for (const auto& node : graph.nodes) {
    auto* n = proto->add_node();
    if (!node->name.empty()) n->set_name(node->name);
    n->set_op_type(node->op_type);
    if (!node->domain.empty()) n->set_domain(node->domain);
    if (!node->doc_string.empty()) n->set_doc_string(node->doc_string);
    for (const auto& input : node->inputs) n->add_input(input);
    for (const auto& output : node->outputs) n->add_output(output);
    for (const auto& attribute : node->attributes) {
      RETURN_IF_ERROR(AttributeToProto(attribute, sink, n->add_attribute()));
    }
  }
  for (const std::string& name : graph.initializer_names()) {
    RETURN_IF_ERROR(TensorToProto(*graph.FindInitializer(name), name, sink,
                                  proto->add_initializer()));
  }
  for (const auto& raw : graph.raw_sparse_initializers) {
    proto->add_sparse_initializer()->ParseFromString(raw);
  }
  for (const auto& raw : graph.raw_quantization_annotations) {
    proto->add_quantization_annotation()->ParseFromString(raw);
  }
  for (const auto& v : graph.inputs) ValueInfoToProto(v, proto->add_input());
  for (const auto& v : graph.outputs) ValueInfoToProto(v, proto->add_output());
  for (const auto& v : graph.value_info) ValueInfoToProto(v, proto->add_value_info());
  return OkStatus();
}

Status ModelFromProto(const onnx::ModelProto& proto, const ExternalDataSource& source,
                      Model* model) {
  model->ir_version = proto.ir_version();
  model->producer_name = proto.producer_name();
  model->producer_version = proto.producer_version();
  model->domain = proto.domain();
  model->model_version = proto.model_version();
  model->doc_string = proto.doc_string();
  for (const auto& opset : proto.opset_import()) {
    model->opset_imports.push_back({opset.domain(), opset.version()});
  }
  for (const auto& prop : proto.metadata_props()) {
    model->metadata_props.emplace_back(prop.key(), prop.value());
  }
  for (const auto& f : proto.functions()) model->raw_functions.push_back(f.SerializeAsString());
  for (const auto& t : proto.training_info()) {
    model->raw_training_info.push_back(t.SerializeAsString());
  }
  if (!proto.has_graph()) return InvalidArgument("the model has no graph");
  return GraphFromProto(proto.graph(), source, &model->graph);
}

Status ModelToProto(const Model& model, TensorSink* sink, onnx::ModelProto* proto) {
  proto->Clear();
  proto->set_ir_version(model.ir_version);
  if (!model.producer_name.empty()) proto->set_producer_name(model.producer_name);
  if (!model.producer_version.empty()) proto->set_producer_version(model.producer_version);
  if (!model.domain.empty()) proto->set_domain(model.domain);
  if (model.model_version != 0) proto->set_model_version(model.model_version);
  if (!model.doc_string.empty()) proto->set_doc_string(model.doc_string);
  for (const auto& opset : model.opset_imports) {
    auto* o = proto->add_opset_import();
    o->set_domain(opset.domain);
    o->set_version(opset.version);
  }
  for (const auto& [key, value] : model.metadata_props) {
    auto* p = proto->add_metadata_props();
    p->set_key(key);
    p->set_value(value);
  }
  for (const auto& raw : model.raw_functions) proto->add_functions()->ParseFromString(raw);
  for (const auto& raw : model.raw_training_info) {
    proto->add_training_info()->ParseFromString(raw);
  }
  return GraphToProto(model.graph, sink, proto->mutable_graph());
}

}  // namespace shrink::engine
