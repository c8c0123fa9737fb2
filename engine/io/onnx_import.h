// Loading ONNX models into the IR. Every problem in the file (corrupt protobuf, sizes that lie,
// dangling references, cycles, unsafe external-data paths) comes back as a Status naming it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "engine/ir/graph.h"

namespace shrink::engine {

struct ImportOptions {
  // Protobuf cannot parse messages of 2 GiB or more; larger models must use external data.
  uint64_t max_model_bytes = (uint64_t(2) << 30) - 1;
  bool validate = true;  // run ValidateGraph after conversion
  // Run libonnx shape inference after import (fills value_info). Off by default so that an
  // untouched model round-trips unchanged; a failure here is an error.
  bool infer_shapes = false;
};

StatusOr<Model> LoadModel(const std::string& path, const ImportOptions& options = {});
// Parses serialized bytes; external data (if any) is resolved relative to base_dir ("" = none).
StatusOr<Model> ParseModel(std::string_view bytes, const std::string& base_dir,
                           const ImportOptions& options = {});

}  // namespace shrink::engine
