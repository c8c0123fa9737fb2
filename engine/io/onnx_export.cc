#include "engine/io/onnx_export.h"

#include <exception>

#include "common/file_util.h"
#include "engine/io/proto_convert.h"
#include "onnx/checker.h"

namespace shrink::engine {
namespace {

constexpr uint64_t kProtobufLimit = (uint64_t(2) << 30) - 1;

uint64_t TensorBytes(const Graph& graph) {
  uint64_t total = 0;
  for (const auto& name : graph.initializer_names()) total += graph.FindInitializer(name)->nbytes();
  for (const auto& node : graph.nodes) {
    for (const auto& a : node->attributes) {
      total += a.t.nbytes();
      if (a.g) total += TensorBytes(*a.g);
      for (const auto& g : a.graphs) total += TensorBytes(*g);
    }
  }
  return total;
}

}  // namespace

Status ModelToInlineProto(const Model& model, onnx::ModelProto* proto) {
  if (TensorBytes(model.graph) > kProtobufLimit) {
    return ResourceExhausted("the model holds over 2 GiB of tensor data; write it to a file with "
                             "external data instead");
  }
  return ModelToProto(model, nullptr, proto);
}

StatusOr<std::string> SerializeModel(const Model& model) {
  onnx::ModelProto proto;
  RETURN_IF_ERROR(ModelToInlineProto(model, &proto));
  std::string bytes;
  if (!proto.SerializeToString(&bytes)) return Internal("protobuf serialization failed");
  return bytes;
}

Status SaveModel(const Model& model, const std::string& path, const ExportOptions& options) {
  bool external = options.external_data == ExternalDataMode::kAlways ||
                  (options.external_data == ExternalDataMode::kAuto &&
                   TensorBytes(model.graph) > options.auto_threshold_bytes);
  onnx::ModelProto proto;
  std::string external_bytes;
  std::string location =
      options.external_file_name.empty() ? BaseName(path) + ".data" : options.external_file_name;
  if (external) {
    TensorSink sink{&external_bytes, location, options.min_tensor_bytes};
    RETURN_IF_ERROR(ModelToProto(model, &sink, &proto));
  } else {
    if (TensorBytes(model.graph) > kProtobufLimit) {
      return ResourceExhausted("the model holds over 2 GiB of tensor data; it can only be "
                               "written with external data");
    }
    RETURN_IF_ERROR(ModelToProto(model, nullptr, &proto));
  }
  if (proto.ByteSizeLong() > kProtobufLimit) {
    return ResourceExhausted("the serialized model exceeds 2 GiB even with external data");
  }
  std::string bytes;
  if (!proto.SerializeToString(&bytes)) return Internal("protobuf serialization failed");
  if (external) RETURN_IF_ERROR(WriteFile(JoinPath(DirName(path), location), external_bytes));
  return WriteFile(path, bytes);
}

Status CheckModelWithOnnx(const Model& model) {
  onnx::ModelProto proto;
  RETURN_IF_ERROR(ModelToInlineProto(model, &proto));
  try {
    onnx::checker::check_model(proto);
  } catch (const std::exception& error) {
    return InvalidArgument(std::string("ONNX checker: ") + error.what());
  }
  return OkStatus();
}

}  // namespace shrink::engine
