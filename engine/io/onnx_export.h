// Writing the IR as an ONNX file, with tensor data inline or in an external-data file.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "engine/ir/graph.h"
#include "onnx/onnx_pb.h"

namespace shrink::engine {

enum class ExternalDataMode {
  kAuto,    // external only when the inline file would exceed `auto_threshold_bytes`
  kAlways,  // tensors of at least `min_tensor_bytes` go to the external file
  kNever,   // inline; models over 2 GiB fail with a clear error
};

struct ExportOptions {
  ExternalDataMode external_data = ExternalDataMode::kAuto;
  uint64_t auto_threshold_bytes = uint64_t(1800) << 20;  // stay clear of protobuf's 2 GiB
  uint64_t min_tensor_bytes = 1024;
  std::string external_file_name;  // default: "<model file name>.data"
};

Status SaveModel(const Model& model, const std::string& path, const ExportOptions& options = {});
// Inline serialization (no external data).
StatusOr<std::string> SerializeModel(const Model& model);
// Builds the protobuf with all data inline (used by shape inference and the checker).
Status ModelToInlineProto(const Model& model, onnx::ModelProto* proto);
// Runs libonnx's checker on the model; the message names what it rejected.
Status CheckModelWithOnnx(const Model& model);

}  // namespace shrink::engine
