#include "worker/job_files.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "common/file_util.h"
#include "engine/eval/evaluator.h"
#include "engine/io/model_bundle.h"

namespace shrink::worker {
namespace {

namespace fs = std::filesystem;

constexpr size_t kTarBlock = 512;
constexpr size_t kUstarMagicOffset = 257;
constexpr uint64_t kMaxUstarSize = (uint64_t(1) << 33) - 1;  // 11 octal digits

void PutOctal(char* field, size_t width, uint64_t value) {
  // width - 1 digits, zero padded, then NUL.
  std::snprintf(field, width, "%0*llo", int(width - 1), (unsigned long long)value);
}

std::string TarHeader(const std::string& name, uint64_t size) {
  std::string header(kTarBlock, '\0');
  std::memcpy(&header[0], name.data(), name.size());
  PutOctal(&header[100], 8, 0644);
  PutOctal(&header[108], 8, 0);
  PutOctal(&header[116], 8, 0);
  PutOctal(&header[124], 12, size);
  PutOctal(&header[136], 12, 0);
  header[156] = '0';
  std::memcpy(&header[kUstarMagicOffset], "ustar\0" "00", 8);
  std::memset(&header[148], ' ', 8);
  unsigned checksum = 0;
  for (char c : header) checksum += static_cast<unsigned char>(c);
  std::snprintf(&header[148], 8, "%06o", checksum);  // six digits, NUL; the space stays
  header[155] = ' ';
  return header;
}

Status AppendFile(const std::string& path, std::ofstream* out) {
  ASSIGN_OR_RETURN(uint64_t size, FileSize(path));
  const std::string name = BaseName(path);
  if (name.size() >= 100) return InvalidArgument(name + ": name too long for a tar entry");
  if (size > kMaxUstarSize) return ResourceExhausted(path + ": too large for a ustar entry");
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot open " + path);
  *out << TarHeader(name, size);
  if (size > 0) *out << in.rdbuf();
  const uint64_t padding = (kTarBlock - size % kTarBlock) % kTarBlock;
  out->write(std::string(padding, '\0').data(), std::streamsize(padding));
  return OkStatus();
}

void AddStageSeconds(const v1::Report& report, std::map<std::string, double>* metrics) {
  for (const v1::StageTiming& timing : report.timings()) {
    (*metrics)["stage_seconds." + timing.stage()] += timing.seconds();
  }
}

void AddNodeCounts(const v1::Report& report, std::map<std::string, double>* metrics) {
  double quantized = 0, kept_float = 0, excluded = 0, per_channel = 0;
  for (const v1::NodeDecision& node : report.nodes()) {
    if (node.action() == "quantized" || node.action() == "converted") {
      ++quantized;
    } else if (node.action() == "excluded") {
      ++excluded;
    } else {
      ++kept_float;
    }
    if (node.per_channel()) ++per_channel;
  }
  (*metrics)["nodes.quantized"] = quantized;
  (*metrics)["nodes.float"] = kept_float;
  (*metrics)["nodes.excluded"] = excluded;
  (*metrics)["nodes.per_channel"] = per_channel;
}

}  // namespace

BlobKind SniffBlob(std::string_view head) {
  if (head.substr(0, 6) == "\x93NUMPY") return BlobKind::kNpy;
  if (head.substr(0, 4) == std::string_view("PK\x03\x04", 4)) return BlobKind::kNpz;
  if (head.size() >= kUstarMagicOffset + 5 && head.substr(kUstarMagicOffset, 5) == "ustar") {
    return BlobKind::kTar;
  }
  return BlobKind::kUnknown;
}

StatusOr<std::string> ModelExtension(v1::ModelFormat format, std::string_view head) {
  switch (format) {
    case v1::ONNX: return std::string("onnx");
    case v1::ONNX_BUNDLE: return std::string("tar");
    case v1::MODEL_FORMAT_UNSPECIFIED:
      return std::string(SniffBlob(head) == BlobKind::kTar ? "tar" : "onnx");
    default: return Unimplemented("model format " + v1::ModelFormat_Name(format) +
                                  " is not supported by this worker");
  }
}

StatusOr<std::string> DatasetExtension(std::string_view head) {
  switch (SniffBlob(head)) {
    case BlobKind::kNpy: return std::string("npy");
    case BlobKind::kNpz: return std::string("npz");
    case BlobKind::kTar: return std::string("tar");
    case BlobKind::kUnknown: break;
  }
  return InvalidArgument("the dataset is neither .npy, .npz nor a tar of .npz files");
}

std::vector<std::string> ModelExtensions(v1::ModelFormat format) {
  if (format == v1::ONNX) return {"onnx"};
  if (format == v1::ONNX_BUNDLE) return {"tar"};
  return {"onnx", "tar"};
}

std::vector<std::string> DatasetExtensions() { return {"npy", "npz", "tar"}; }

StatusOr<std::string> PrepareDataset(const std::string& cached_path, const std::string& work_dir,
                                     const std::string& name) {
  if (cached_path.size() < 4 || cached_path.substr(cached_path.size() - 4) != ".tar") {
    return cached_path;
  }
  const std::string dir = JoinPath(work_dir, name);
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) return Internal("cannot create " + dir + ": " + error.message());
  RETURN_IF_ERROR(engine::UnpackTar(cached_path, dir).WithContext("dataset"));
  // `tar -C parent -cf data.tar calib/` puts everything under one folder: use that folder.
  std::string root = dir;
  while (true) {
    std::vector<fs::directory_entry> entries;
    for (const auto& entry : fs::directory_iterator(root, error)) entries.push_back(entry);
    if (entries.size() != 1 || !entries[0].is_directory()) break;
    root = entries[0].path().string();
  }
  return root;
}

Status WriteTar(const std::vector<std::string>& files, const std::string& archive) {
  {
    std::ofstream out(archive, std::ios::binary | std::ios::trunc);
    if (!out) return Internal("cannot write " + archive);
    for (const std::string& file : files) {
      Status added = AppendFile(file, &out);
      if (!added.ok()) {
        out.close();
        std::remove(archive.c_str());
        return added;
      }
    }
    out.write(std::string(2 * kTarBlock, '\0').data(), std::streamsize(2 * kTarBlock));
    out.flush();
    if (out) return OkStatus();
  }
  std::remove(archive.c_str());
  return Internal("write failed on " + archive);
}

// Accuracy, agreement and SQNR against the float model, latency, and the tuning outcome.
void AddEvaluation(const v1::Report& report, std::map<std::string, double>* metrics) {
  const v1::Evaluation& evaluation = report.evaluation();
  if (evaluation.has_accuracy()) {
    const v1::AccuracyMetrics& accuracy = evaluation.accuracy();
    (*metrics)["eval.reference_top1"] = accuracy.reference_top1();
    (*metrics)["eval.candidate_top1"] = accuracy.candidate_top1();
    (*metrics)["eval.accuracy_drop"] = accuracy.drop();
  }
  if (evaluation.samples() > 0) {
    const engine::eval::WorstOutput worst = engine::eval::Worst(evaluation);
    (*metrics)["eval.samples"] = double(evaluation.samples());
    (*metrics)["eval.min_sqnr_db"] = worst.sqnr_db;
    (*metrics)["eval.min_agreement"] = worst.agreement;
  }
  for (const v1::Latency& latency : report.latency().runs()) {
    (*metrics)["latency." + latency.runtime() + "." + latency.model() + "_ms"] =
        latency.median_ms();
  }
  if (report.has_tuning()) {
    (*metrics)["tuning.trials"] = double(report.tuning().trials_size());
    (*metrics)["tuning.budget_met"] = report.tuning().budget_met() ? 1 : 0;
  }
}

std::map<std::string, double> ReportMetrics(const v1::Report& report) {
  std::map<std::string, double> metrics;
  const v1::SizeSummary& size = report.size();
  // The report's measure: both models serialized inline, so layouts do not skew the ratio.
  metrics["size.input_bytes"] = double(size.raw_before());
  metrics["size.output_bytes"] = double(size.raw_after());
  metrics["size.input_zstd_bytes"] = double(size.zstd_before());
  metrics["size.output_zstd_bytes"] = double(size.zstd_after());
  metrics["size.ratio"] = size.raw_ratio();
  metrics["size.zstd_ratio"] = size.zstd_ratio();
  metrics["model.input_nodes"] = double(report.input_model().nodes());
  metrics["model.output_nodes"] = double(report.output_model().nodes());
  metrics["model.opset_before"] = double(report.preparation().opset_before());
  metrics["model.opset_after"] = double(report.preparation().opset_after());
  metrics["peak_rss_bytes"] = double(report.peak_rss_bytes());
  metrics["clamped_values"] = double(report.clamped_values());
  metrics["warnings"] = double(report.warnings_size());
  metrics["validation.ort_loaded"] = report.validation().ort_loaded() ? 1 : 0;
  if (report.has_calibration()) {
    metrics["calibration.samples"] = double(report.calibration().samples());
    metrics["calibration.batches"] = double(report.calibration().batches());
    metrics["calibration.seconds"] = report.calibration().seconds();
  }
  if (report.has_scales()) {
    metrics["scales.tensors"] = double(report.scales().tensors());
    metrics["scales.saturating_weights"] = double(report.scales().saturating_weights());
  }
  AddStageSeconds(report, &metrics);
  AddNodeCounts(report, &metrics);
  AddEvaluation(report, &metrics);
  return metrics;
}

}  // namespace shrink::worker
