#include "engine/job/job_report.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>

#include "common/compress.h"
#include "common/file_util.h"
#include "common/sha256.h"
#include "engine/io/onnx_export.h"

namespace shrink::engine {
namespace {

std::string CpuFeatures() {
  std::string features = "x86-64";
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) features += " avx2";
  if (__builtin_cpu_supports("fma")) features += " fma";
  if (__builtin_cpu_supports("avx512f")) features += " avx512f";
  if (__builtin_cpu_supports("avx512vnni")) features += " avx512vnni";
#endif
  return features;
}

void CountOps(const Graph& graph, std::map<std::string, int64_t>* ops, int64_t* nodes) {
  for (const auto& node : graph.nodes) {
    std::string name = node->domain.empty() || node->domain == "ai.onnx"
                           ? node->op_type
                           : node->domain + "." + node->op_type;
    ++(*ops)[name];
    ++*nodes;
    for (const Attribute& a : node->attributes) {
      if (a.g) CountOps(*a.g, ops, nodes);
      for (const auto& g : a.graphs) CountOps(*g, ops, nodes);
    }
  }
}

}  // namespace

void FillManifest(const v1::Recipe& recipe, const JobSpec& spec, const std::string& version,
                  v1::Report* report) {
  v1::Manifest* manifest = report->mutable_manifest();
  manifest->set_shrink_version(version);
  manifest->set_seed(recipe.seed());
  manifest->set_threads(recipe.threads());
  manifest->set_cpu(CpuFeatures());
  manifest->set_calibration_data(spec.calibration_data);
  if (!spec.calibration_data.empty() && !IsDirectory(spec.calibration_data)) {
    auto hash = Sha256OfFile(spec.calibration_data);
    if (hash.ok()) manifest->set_calibration_data_sha256(*hash);
  }
}

Status SummarizeModel(const Model& model, const std::string& path, v1::ModelSummary* summary) {
  summary->set_file(path);
  ASSIGN_OR_RETURN(std::string hash, Sha256OfFile(path));
  summary->set_sha256(hash);
  summary->set_ir_version(model.ir_version);
  summary->set_opset(model.OpsetVersion(""));
  std::map<std::string, int64_t> ops;
  int64_t nodes = 0;
  CountOps(model.graph, &ops, &nodes);
  for (const auto& [op, count] : ops) (*summary->mutable_ops())[op] = count;
  summary->set_nodes(nodes);
  summary->set_external_data(FileExists(path + ".data"));
  // Sizes of the inline serialization: the same measure before and after, whatever the layout.
  auto bytes = SerializeModel(model);
  if (bytes.ok()) {
    summary->set_size_bytes(int64_t(bytes->size()));
    auto compressed = ZstdCompress(*bytes, DefaultZstdLevel(bytes->size()));
    if (compressed.ok()) summary->set_zstd_bytes(int64_t(compressed->size()));
  } else {
    ASSIGN_OR_RETURN(uint64_t file_size, FileSize(path));
    summary->set_size_bytes(int64_t(file_size));
  }
  return OkStatus();
}

void AddDecisions(const quant::QuantSummary& summary, v1::Report* report) {
  for (const quant::NodeDecision& d : summary.decisions) {
    v1::NodeDecision* out = report->add_nodes();
    out->set_node(d.node);
    out->set_op_type(d.op_type);
    out->set_graph(d.graph);
    out->set_action(quant::ActionName(d.action));
    out->set_per_channel(d.per_channel);
    out->set_weight_type(d.weight_type);
    out->set_activation_type(d.activation_type);
    out->set_reason(d.reason);
  }
  v1::ScaleSummary* scales = report->mutable_scales();
  scales->set_tensors(summary.scales.tensors);
  scales->set_min_scale(summary.scales.min_scale);
  scales->set_max_scale(summary.scales.max_scale);
  scales->set_saturating_weights(summary.scales.saturating_weights);
  report->set_clamped_values(summary.clamped_values);
  for (const std::string& warning : summary.warnings) report->add_warnings(warning);
}

void FillSizes(v1::Report* report) {
  const v1::ModelSummary& in = report->input_model();
  const v1::ModelSummary& out = report->output_model();
  v1::SizeSummary* size = report->mutable_size();
  size->set_raw_before(in.size_bytes());
  size->set_raw_after(out.size_bytes());
  size->set_zstd_before(in.zstd_bytes());
  size->set_zstd_after(out.zstd_bytes());
  if (out.size_bytes() > 0) size->set_raw_ratio(double(in.size_bytes()) / out.size_bytes());
  if (out.zstd_bytes() > 0) size->set_zstd_ratio(double(in.zstd_bytes()) / out.zstd_bytes());
  size->set_zstd_level(DefaultZstdLevel(uint64_t(in.size_bytes())));
}

int64_t PeakRssBytes() {
  // VmHWM belongs to this process image (a fresh count after exec), unlike getrusage's
  // ru_maxrss, which a child inherits from the process that forked it.
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::atoll(line.c_str() + 6) * 1024;
  }
  return 0;
}

void RemoveOutputs(const std::string& model_path, const std::string& external_data_path) {
  std::remove(model_path.c_str());
  if (!external_data_path.empty()) std::remove(external_data_path.c_str());
}

}  // namespace shrink::engine
