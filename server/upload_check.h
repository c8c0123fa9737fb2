// Checks that an upload is what it claims to be while its bytes stream in, without holding it
// in memory and without the engine (the server never parses models): an ONNX model must be a
// well-framed ModelProto with ir_version and a graph; a bundle must be a tar; a dataset npy, npz
// or tar. The worker still validates the content for real; this stops garbage at the door with
// a message naming the problem.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "shrink/v1/service.pb.h"

namespace shrink::server {

class UploadCheck {
 public:
  virtual ~UploadCheck() = default;
  virtual Status Feed(std::string_view bytes) = 0;
  virtual Status Finish() = 0;
};

// `name` is used in messages. InvalidArgument for an unspecified format; Unimplemented for
// formats the engine cannot run yet (TFLite).
StatusOr<std::unique_ptr<UploadCheck>> NewModelCheck(v1::ModelFormat format,
                                                     const std::string& name);
std::unique_ptr<UploadCheck> NewDatasetCheck(const std::string& name);

}  // namespace shrink::server
