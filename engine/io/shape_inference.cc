#include "engine/io/shape_inference.h"

#include <exception>

#include "engine/io/model_check.h"
#include "engine/io/onnx_export.h"
#include "engine/io/proto_convert.h"
#include "onnx/shape_inference/implementation.h"

namespace shrink::engine {
namespace {

// Copies inferred types from the proto back onto the IR graph, level by level.
Status CopyInferred(const onnx::GraphProto& proto, Graph* graph) {
  graph->value_info.clear();
  for (const auto& v : proto.value_info()) {
    ValueInfo info;
    info.name = v.name();
    RETURN_IF_ERROR(ValueTypeFromProto(v.type(), &info.type));
    graph->value_info.push_back(std::move(info));
  }
  for (int i = 0; i < proto.output_size() && i < int(graph->outputs.size()); ++i) {
    ValueInfo& output = graph->outputs[size_t(i)];
    if (!output.type.missing && output.type.has_shape) continue;
    RETURN_IF_ERROR(ValueTypeFromProto(proto.output(i).type(), &output.type));
  }
  for (int n = 0; n < proto.node_size() && n < int(graph->nodes.size()); ++n) {
    const auto& node_proto = proto.node(n);
    Node& node = *graph->nodes[size_t(n)];
    for (int a = 0; a < node_proto.attribute_size() && a < int(node.attributes.size()); ++a) {
      const auto& attr = node_proto.attribute(a);
      Attribute& target = node.attributes[size_t(a)];
      if (attr.has_g() && target.g) RETURN_IF_ERROR(CopyInferred(attr.g(), target.g.get()));
      for (int g = 0; g < attr.graphs_size() && g < int(target.graphs.size()); ++g) {
        RETURN_IF_ERROR(CopyInferred(attr.graphs(g), target.graphs[size_t(g)].get()));
      }
    }
  }
  return OkStatus();
}

}  // namespace

StatusOr<ShapeInferenceReport> InferShapesWithReport(Model* model,
                                                     const ShapeInferenceOptions& options) {
  ShapeInferenceReport report;
  for (const OpsetImport& o : model->opset_imports) {
    if ((o.domain.empty() || o.domain == "ai.onnx") && o.version > kLibOnnxMaxOpset) {
      report.note = "shapes not inferred: opset " + std::to_string(o.version) +
                    " is newer than libonnx 1.12 (opset " + std::to_string(kLibOnnxMaxOpset) + ")";
      return report;
    }
  }
  onnx::ModelProto proto;
  RETURN_IF_ERROR(ModelToInlineProto(*model, &proto));
  const bool newer_ir = model->ir_version > kLibOnnxMaxIrVersion;
  if (newer_ir) proto.set_ir_version(kLibOnnxMaxIrVersion);
  try {
    onnx::ShapeInferenceOptions onnx_options(false, options.strict ? 1 : 0,
                                             options.data_propagation);
    onnx::shape_inference::InferShapes(proto, onnx::OpSchemaRegistry::Instance(), onnx_options);
  } catch (const std::exception& error) {
    if (!newer_ir) return InvalidArgument(std::string("shape inference failed: ") + error.what());
    report.note = "shapes not inferred: libonnx 1.12 could not read IR " +
                  std::to_string(model->ir_version) + " (" + error.what() + ")";
    return report;
  }
  RETURN_IF_ERROR(CopyInferred(proto.graph(), &model->graph));
  report.inferred = true;
  if (newer_ir) {
    report.note = "IR " + std::to_string(model->ir_version) + " inferred as IR " +
                  std::to_string(kLibOnnxMaxIrVersion) + " by libonnx 1.12";
  }
  return report;
}

Status InferShapes(Model* model, const ShapeInferenceOptions& options) {
  return InferShapesWithReport(model, options).status();
}

}  // namespace shrink::engine
