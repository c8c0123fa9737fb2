// Conversion between libonnx protobuf messages and the engine IR. Import validates everything
// it reads (sizes, counts, dtypes, external-data paths) and never trusts declared sizes.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "engine/ir/graph.h"
#include "onnx/onnx_pb.h"

namespace shrink::engine {

// Where tensors with data_location = EXTERNAL are read from.
struct ExternalDataSource {
  std::string base_dir;  // the model file's directory; "" means external data is not allowed
};

StatusOr<Tensor> TensorFromProto(const onnx::TensorProto& proto, const ExternalDataSource& source);

// How tensors are written.
struct TensorSink {
  // When set, tensors of at least `external_threshold` bytes are appended to this file (opened
  // by the caller) and referenced with `external_location` (relative to the model).
  std::string* external_bytes = nullptr;
  std::string external_location;
  uint64_t external_threshold = 1024;
};
Status TensorToProto(const Tensor& tensor, const std::string& name, TensorSink* sink,
                     onnx::TensorProto* proto);

Status ValueTypeFromProto(const onnx::TypeProto& proto, ValueType* type);
void ValueTypeToProto(const ValueType& type, onnx::TypeProto* proto);

// Graphs (with subgraphs) and models.
Status GraphFromProto(const onnx::GraphProto& proto, const ExternalDataSource& source,
                      Graph* graph);
Status GraphToProto(const Graph& graph, TensorSink* sink, onnx::GraphProto* proto);
Status ModelFromProto(const onnx::ModelProto& proto, const ExternalDataSource& source,
                      Model* model);
Status ModelToProto(const Model& model, TensorSink* sink, onnx::ModelProto* proto);

}  // namespace shrink::engine
