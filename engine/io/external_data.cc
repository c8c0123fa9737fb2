#include "engine/io/external_data.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/file_util.h"

namespace shrink::engine {
namespace {

StatusOr<uint64_t> ParseUnsigned(const std::string& text, const std::string& what) {
  if (text.empty() || text.size() > 19 || text.find_first_not_of("0123456789") != std::string::npos) {
    return InvalidArgument("external data " + what + " '" + text + "' is not a number");
  }
  return uint64_t(std::stoull(text));
}

StatusOr<std::string> RealPath(const std::string& path) {
  char buffer[PATH_MAX];
  if (realpath(path.c_str(), buffer) == nullptr) {
    return NotFound("cannot resolve " + path + ": " + std::strerror(errno));
  }
  return std::string(buffer);
}

}  // namespace

Status ValidateExternalLocation(const std::string& location) {
  if (location.empty()) return InvalidArgument("external data has an empty location");
  if (location[0] == '/' || location[0] == '\\' || location.find(':') != std::string::npos) {
    return InvalidArgument("external data location '" + location +
                           "' is absolute; only paths inside the model's directory are allowed");
  }
  if (location.find('\0') != std::string::npos) {
    return InvalidArgument("external data location contains a NUL byte");
  }
  size_t start = 0;
  while (start <= location.size()) {
    size_t end = location.find_first_of("/\\", start);
    if (end == std::string::npos) end = location.size();
    if (location.compare(start, end - start, "..") == 0) {
      return InvalidArgument("external data location '" + location +
                             "' escapes the model's directory ('..')");
    }
    start = end + 1;
  }
  return OkStatus();
}

StatusOr<std::string> ReadExternalTensorData(const onnx::TensorProto& proto,
                                             const std::string& base_dir, uint64_t expected_bytes) {
  const std::string& name = proto.name();
  if (base_dir.empty()) {
    return InvalidArgument("tensor '" + name +
                           "' uses external data, but the model was not loaded from a file");
  }
  std::string location;
  uint64_t offset = 0;
  bool has_length = false;
  uint64_t length = 0;
  for (const auto& entry : proto.external_data()) {
    if (entry.key() == "location") {
      location = entry.value();
    } else if (entry.key() == "offset") {
      ASSIGN_OR_RETURN(offset, ParseUnsigned(entry.value(), "offset"));
    } else if (entry.key() == "length") {
      ASSIGN_OR_RETURN(length, ParseUnsigned(entry.value(), "length"));
      has_length = true;
    }
  }
  Status valid = ValidateExternalLocation(location);
  if (!valid.ok()) return valid.WithContext("tensor '" + name + "'");
  if (has_length && length != expected_bytes) {
    return InvalidArgument("tensor '" + name + "' external length " + std::to_string(length) +
                           " does not match its shape (" + std::to_string(expected_bytes) +
                           " bytes)");
  }
  ASSIGN_OR_RETURN(std::string real_base, RealPath(base_dir));
  auto real_file = RealPath(JoinPath(base_dir, location));
  if (!real_file.ok()) {
    return NotFound("tensor '" + name + "': external data file '" + location +
                    "' not found next to the model");
  }
  if (real_file->compare(0, real_base.size() + 1, real_base + "/") != 0) {
    return InvalidArgument("tensor '" + name + "': external data file '" + location +
                           "' resolves outside the model's directory");
  }
  int fd = open(real_file->c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NotFound("cannot open external data " + *real_file);
  struct stat info;
  fstat(fd, &info);
  if (!S_ISREG(info.st_mode) || offset > uint64_t(info.st_size) ||
      expected_bytes > uint64_t(info.st_size) - offset) {
    close(fd);
    return InvalidArgument("tensor '" + name + "': external data file '" + location + "' has " +
                           std::to_string(info.st_size) + " bytes, too short for offset " +
                           std::to_string(offset) + " + " + std::to_string(expected_bytes));
  }
  std::string bytes(expected_bytes, '\0');
  uint64_t done = 0;
  while (done < expected_bytes) {
    ssize_t got = pread(fd, bytes.data() + done, expected_bytes - done, off_t(offset + done));
    if (got <= 0) {
      close(fd);
      return DataLoss("read error in external data " + *real_file);
    }
    done += uint64_t(got);
  }
  close(fd);
  return bytes;
}

void AppendExternalTensorData(std::string_view bytes, const std::string& location,
                              std::string* file_bytes, onnx::TensorProto* proto) {
  size_t aligned = (file_bytes->size() + 63) / 64 * 64;
  file_bytes->resize(aligned, '\0');
  uint64_t offset = file_bytes->size();
  file_bytes->append(bytes.data(), bytes.size());
  proto->clear_raw_data();
  proto->set_data_location(onnx::TensorProto::EXTERNAL);
  auto add = [proto](const char* key, const std::string& value) {
    auto* entry = proto->add_external_data();
    entry->set_key(key);
    entry->set_value(value);
  };
  add("location", location);
  add("offset", std::to_string(offset));
  add("length", std::to_string(bytes.size()));
}

namespace {

void CollectLocations(const onnx::TensorProto& tensor, std::vector<std::string>* out) {
  if (tensor.data_location() != onnx::TensorProto::EXTERNAL) return;
  for (const auto& entry : tensor.external_data()) {
    if (entry.key() == "location" &&
        std::find(out->begin(), out->end(), entry.value()) == out->end()) {
      out->push_back(entry.value());
    }
  }
}

void CollectLocations(const onnx::GraphProto& graph, std::vector<std::string>* out) {
  for (const auto& tensor : graph.initializer()) CollectLocations(tensor, out);
  for (const auto& node : graph.node()) {
    for (const auto& attribute : node.attribute()) {
      if (attribute.has_t()) CollectLocations(attribute.t(), out);
      for (const auto& tensor : attribute.tensors()) CollectLocations(tensor, out);
      if (attribute.has_g()) CollectLocations(attribute.g(), out);
      for (const auto& subgraph : attribute.graphs()) CollectLocations(subgraph, out);
    }
  }
}

}  // namespace

StatusOr<std::vector<std::string>> ExternalDataFiles(const std::string& model_path,
                                                     uint64_t max_model_bytes) {
  ASSIGN_OR_RETURN(uint64_t size, FileSize(model_path));
  std::vector<std::string> locations;
  if (size > max_model_bytes) return locations;
  ASSIGN_OR_RETURN(std::string bytes, ReadFile(model_path));
  onnx::ModelProto proto;
  if (!proto.ParseFromString(bytes)) {
    return InvalidArgument(model_path + ": not an ONNX model (protobuf parse failed)");
  }
  CollectLocations(proto.graph(), &locations);
  for (const std::string& location : locations) {
    RETURN_IF_ERROR(ValidateExternalLocation(location).WithContext(model_path));
  }
  return locations;
}

}  // namespace shrink::engine
