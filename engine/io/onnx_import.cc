#include "engine/io/onnx_import.h"

#include <google/protobuf/io/coded_stream.h>

#include "common/file_util.h"
#include "engine/io/proto_convert.h"
#include "engine/io/shape_inference.h"
#include "engine/ir/graph_utils.h"

namespace shrink::engine {

StatusOr<Model> ParseModel(std::string_view bytes, const std::string& base_dir,
                           const ImportOptions& options) {
  if (bytes.size() > options.max_model_bytes) {
    return ResourceExhausted("the model is " + std::to_string(bytes.size()) +
                             " bytes; ONNX files over 2 GiB must keep their weights in external "
                             "data files");
  }
  if (bytes.empty()) return InvalidArgument("the model file is empty");
  onnx::ModelProto proto;
  google::protobuf::io::CodedInputStream stream(reinterpret_cast<const uint8_t*>(bytes.data()),
                                                int(bytes.size()));
  stream.SetRecursionLimit(200);
  if (!proto.ParseFromCodedStream(&stream) || !stream.ConsumedEntireMessage()) {
    return InvalidArgument("not a valid ONNX model: the protobuf is corrupt or truncated");
  }
  if (!proto.has_graph()) return InvalidArgument("not a valid ONNX model: it has no graph");
  Model model;
  RETURN_IF_ERROR(ModelFromProto(proto, ExternalDataSource{base_dir}, &model));
  if (options.validate) RETURN_IF_ERROR(ValidateGraph(model.graph));
  if (options.infer_shapes) RETURN_IF_ERROR(InferShapes(&model));
  return model;
}

StatusOr<Model> LoadModel(const std::string& path, const ImportOptions& options) {
  auto size = FileSize(path);
  if (!size.ok()) return NotFound("model file " + path + " not found");
  if (*size > options.max_model_bytes) {
    return ResourceExhausted(path + " is " + std::to_string(*size) +
                             " bytes; ONNX files over 2 GiB must keep their weights in external "
                             "data files");
  }
  ASSIGN_OR_RETURN(std::string bytes, ReadFile(path, options.max_model_bytes));
  auto model = ParseModel(bytes, DirName(path), options);
  if (!model.ok()) return model.status().WithContext(path);
  return model;
}

}  // namespace shrink::engine
