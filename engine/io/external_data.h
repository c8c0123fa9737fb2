// Tensor data stored outside the .onnx file (ONNX "external data"). Locations are relative to
// the model's directory; anything that could escape it (absolute paths, "..", symlinks that
// resolve outside) is rejected.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "onnx/onnx_pb.h"

namespace shrink::engine {

// Reads the bytes of an EXTERNAL tensor. expected_bytes is the size implied by dtype and shape;
// a `length` entry that disagrees, or a file too short, is an error.
StatusOr<std::string> ReadExternalTensorData(const onnx::TensorProto& proto,
                                             const std::string& base_dir, uint64_t expected_bytes);

// Appends `bytes` to `file_bytes` (64-byte aligned) and points `proto` at them.
void AppendExternalTensorData(std::string_view bytes, const std::string& location,
                              std::string* file_bytes, onnx::TensorProto* proto);

// The distinct external-data locations a model file refers to (initializers and tensors in node
// attributes, subgraphs included), in first-seen order; empty when the data is inline. Files
// larger than `max_model_bytes` are not parsed (a model with external data is small) and give
// an empty list.
StatusOr<std::vector<std::string>> ExternalDataFiles(const std::string& model_path,
                                                     uint64_t max_model_bytes = uint64_t(256)
                                                                                << 20);

// Checks that a location string is a plain relative path inside the model directory.
Status ValidateExternalLocation(const std::string& location);

}  // namespace shrink::engine
