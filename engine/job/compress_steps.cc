// The steps that run before quantization: pruning (engine/sparsity) and weight clustering
// (engine/cluster), each followed by a record of the model's size (and, for evaluated jobs, its
// accuracy against the float model) so the report shows what every step bought.
#include <algorithm>
#include <cstdio>

#include "common/compress.h"
#include "common/file_util.h"
#include "engine/cluster/cluster.h"
#include "engine/io/onnx_export.h"
#include "engine/job/job_report.h"
#include "engine/job/job_run.h"
#include "engine/job/recipe.h"
#include "engine/sparsity/prune.h"
#include "engine/sparsity/repair.h"

namespace shrink::engine {
namespace {

sparsity::Structure ToStructure(v1::PruneStructure structure) {
  switch (structure) {
    case v1::N_OF_M: return sparsity::Structure::kNOfM;
    case v1::CHANNEL: return sparsity::Structure::kChannel;
    default: return sparsity::Structure::kUnstructured;
  }
}

cluster::Init ToInit(v1::ClusterInit init) {
  switch (init) {
    case v1::DENSITY: return cluster::Init::kDensity;
    case v1::RANDOM: return cluster::Init::kRandom;
    default: return cluster::Init::kLinear;
  }
}

}  // namespace

Status JobRun::ApplyPrune(const v1::PruneStep& step) {
  sparsity::PruneOptions options;
  options.target_sparsity = step.target_sparsity();
  options.structure = ToStructure(step.structure());
  options.global = step.global();
  options.n = step.n();
  options.m = step.m();
  options.exclude_nodes = {step.exclude().begin(), step.exclude().end()};
  options.keep_first_last = step.keep_first_last();
  if (step.sensitivity_aware()) {
    ASSIGN_OR_RETURN(options.layer_sparsity,
                     sparsity::AllocateSparsity(model_, spec_.calibration_data, options,
                                                recipe_.threads()));
  }
  Model original = step.repair() ? CloneModel(model_) : Model();
  ASSIGN_OR_RETURN(sparsity::PruneSummary summary, sparsity::Prune(&model_, options));
  std::vector<v1::LayerSparsity> layers = summary.layers;
  if (step.repair()) {
    sparsity::RepairOptions repair;
    repair.threads = recipe_.threads();
    RETURN_IF_ERROR(sparsity::RepairPrunedLayers(&model_, original, spec_.calibration_data,
                                                 repair, &layers));
  }
  for (const v1::LayerSparsity& layer : layers) *report_.add_sparsity() = layer;
  report_.set_overall_sparsity(summary.overall);
  for (const std::string& adjustment : summary.adjustments) report_.add_adjustments(adjustment);
  return OkStatus();
}

Status JobRun::ApplyCluster(const v1::ClusterStep& step) {
  cluster::ClusterOptions options;
  options.clusters = step.clusters();
  options.init = ToInit(step.init());
  options.per_channel = step.per_channel();
  options.preserve_sparsity = step.preserve_sparsity();
  options.compact = step.compact();
  options.exclude_nodes = {step.exclude().begin(), step.exclude().end()};
  options.iterations = step.iterations();
  options.seed = recipe_.seed() != 0 ? recipe_.seed() : 1;
  ASSIGN_OR_RETURN(cluster::ClusterSummary summary, cluster::ClusterWeights(&model_, options));
  for (const v1::LayerClusters& layer : summary.layers) *report_.add_clusters() = layer;
  for (const std::string& adjustment : summary.adjustments) report_.add_adjustments(adjustment);
  return OkStatus();
}

Status JobRun::RecordStep(const std::string& name) {
  v1::StepResult* result = report_.add_steps();
  result->set_step(name);
  ASSIGN_OR_RETURN(std::string bytes, SerializeModel(model_));
  result->set_raw_bytes(int64_t(bytes.size()));
  ASSIGN_OR_RETURN(std::string packed, ZstdCompress(bytes, DefaultZstdLevel(bytes.size())));
  result->set_zstd_bytes(int64_t(packed.size()));
  if (!NeedsEvaluation()) return OkStatus();
  // Judged like the final model: written, then run next to the float model on the data.
  const std::string path = spec_.output_path + ".step-" + name + ".onnx";
  RETURN_IF_ERROR(WriteFile(path, bytes));
  auto evaluation =
      eval::Evaluate(path, reference_path_, eval_data_, runners_, EvaluationOptions());
  RemoveOutputs(path, "");
  if (!evaluation.ok()) return OkStatus();  // the final evaluation reports the problem
  result->set_evaluated(true);
  if (evaluation->has_accuracy()) result->set_accuracy_drop(evaluation->accuracy().drop());
  const eval::WorstOutput worst = eval::Worst(*evaluation);
  result->set_sqnr_db(worst.sqnr_db);
  result->set_agreement(worst.agreement);
  return OkStatus();
}

void JobRun::RecordFinalStep() {
  std::string name;
  for (const v1::Step& step : recipe_.steps()) {
    if (step.has_quantize()) name = "quantize";
    if (step.has_float16()) name = "float16";
  }
  if (name.empty() || report_.steps_size() == 0) return;  // only steps before it need a table
  v1::StepResult* result = report_.add_steps();
  result->set_step(name);
  result->set_raw_bytes(report_.size().raw_after());
  result->set_zstd_bytes(report_.size().zstd_after());
  const v1::Evaluation& evaluation = report_.evaluation();
  if (evaluation.samples() == 0) return;
  result->set_evaluated(true);
  if (evaluation.has_accuracy()) result->set_accuracy_drop(evaluation.accuracy().drop());
  const eval::WorstOutput worst = eval::Worst(evaluation);
  result->set_sqnr_db(worst.sqnr_db);
  result->set_agreement(worst.agreement);
}

}  // namespace shrink::engine
