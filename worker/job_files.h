// How the worker turns fetched blobs into the paths engine::RunJob takes, and the job's output
// into one uploadable file: format sniffing (datasets come without a declared format), safe
// unpacking of dataset archives, a ustar writer for outputs with external data, and the job
// metrics taken from the report.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "shrink/v1/report.pb.h"
#include "shrink/v1/service.pb.h"

namespace shrink::worker {

enum class BlobKind { kUnknown, kNpy, kNpz, kTar };

// From the first bytes: "\x93NUMPY" (npy), "PK\x03\x04" (npz, a zip) or "ustar" at offset 257.
BlobKind SniffBlob(std::string_view head);

// The cache file extension for a model blob. ONNX_BUNDLE is a tar; UNSPECIFIED is sniffed (a
// tar or else a plain ONNX file); TFLITE is kUnimplemented.
StatusOr<std::string> ModelExtension(v1::ModelFormat format, std::string_view head);
// The cache file extension for a dataset blob ("npy", "npz" or "tar"); unknown bytes are
// kInvalidArgument.
StatusOr<std::string> DatasetExtension(std::string_view head);
// Extensions a cached model or dataset may have, for BlobCache::Lookup.
std::vector<std::string> ModelExtensions(v1::ModelFormat format);
std::vector<std::string> DatasetExtensions();

// The DATA path for RunJob: npy/npz files as they are; a tar is unpacked (no absolute paths,
// "..", or links) into `work_dir`, and a single top-level folder is descended into.
StatusOr<std::string> PrepareDataset(const std::string& cached_path, const std::string& work_dir,
                                     const std::string& name = "data");

// Writes a ustar archive of regular files (stored under their base names).
Status WriteTar(const std::vector<std::string>& files, const std::string& archive);

// Job.metrics from the report: sizes, ratios, per-stage seconds, peak RSS, node decisions, ...
std::map<std::string, double> ReportMetrics(const v1::Report& report);

}  // namespace shrink::worker
