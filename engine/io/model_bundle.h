// A model given as one file, as a directory (the .onnx file plus its external-data files) or as
// a tar archive of such a directory: one upload, hashed as a whole. Archives are unpacked into a
// private temporary directory with the same path rules as external data (no absolute paths, no
// "..", no links), so a hostile archive cannot write outside it.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace shrink::engine {

struct ModelBundleOptions {
  uint64_t max_unpacked_bytes = uint64_t(16) << 30;
  int64_t max_entries = 10000;
};

class ModelBundle {
 public:
  // `path`: a .onnx file, a directory holding exactly one .onnx file, or a .tar archive of one.
  static StatusOr<ModelBundle> Open(const std::string& path,
                                    const ModelBundleOptions& options = {});
  ModelBundle(ModelBundle&& other) noexcept;
  ModelBundle& operator=(ModelBundle&& other) noexcept;
  ModelBundle(const ModelBundle&) = delete;
  ModelBundle& operator=(const ModelBundle&) = delete;
  ~ModelBundle();  // removes the unpacked directory, if any

  const std::string& model_path() const { return model_path_; }
  bool unpacked() const { return !temp_dir_.empty(); }

 private:
  ModelBundle() = default;
  std::string model_path_;
  std::string temp_dir_;
};

// Unpacks a ustar/GNU/pax tar archive into `dir` (which must exist). Regular files and
// directories only; links, devices, unsafe names, bad checksums and oversize content are errors
// naming the entry.
Status UnpackTar(const std::string& archive, const std::string& dir,
                 const ModelBundleOptions& options = {});

}  // namespace shrink::engine
