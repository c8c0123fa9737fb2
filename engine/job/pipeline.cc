#include "engine/job/pipeline.h"

#include <google/protobuf/util/json_util.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <set>

#include "common/file_util.h"
#include "engine/io/model_bundle.h"
#include "engine/io/model_check.h"
#include "engine/io/onnx_export.h"
#include "engine/io/onnx_import.h"
#include "engine/job/job_report.h"
#include "engine/job/job_run.h"
#include "engine/job/recipe.h"
#include "engine/passes/opset_upgrade.h"
#include "engine/passes/prepare.h"
#include "engine/quant/calibration.h"
#include "engine/quant/float16.h"
#include "engine/quant/qdq_quantizer.h"
#include "engine/quant/weight_only.h"

namespace shrink::engine {

constexpr int kQdqOpset = 13;

static int64_t TargetOpset(const v1::Recipe& recipe, int64_t current) {
  if (recipe.prepare().target_opset() != 0) return recipe.prepare().target_opset();
  for (const v1::Step& step : recipe.steps()) {
    if (step.has_quantize()) return std::max<int64_t>(current, kQdqOpset);
  }
  return current;
}

Status JobRun::Prepare() {
  v1::Preparation* preparation = report_.mutable_preparation();
  int64_t before = model_.OpsetVersion("");
  preparation->set_opset_before(before);
  if (model_.ir_version < 4) {
    // IR 3 requires every initializer to be a graph input; the constants a technique adds
    // (scales, zero points, converted weights) are not inputs. IR 4 only relaxed that rule.
    model_.ir_version = 4;
    preparation->add_upgrade_rules("IR 3 -> 4 (initializers need not be graph inputs)");
  }
  int64_t target = TargetOpset(recipe_, before);
  if (target != before) {
    ASSIGN_OR_RETURN(OpsetUpgradeResult upgrade, UpgradeOpset(&model_, target));
    for (const std::string& rule : upgrade.rules) preparation->add_upgrade_rules(rule);
  }
  preparation->set_opset_after(model_.OpsetVersion(""));
  PrepareOptions options;
  options.remove_identity = !recipe_.prepare().keep_identity();
  options.fold_batch_norm = !recipe_.prepare().keep_batch_norm();
  options.fold_fp16_casts = !recipe_.prepare().keep_fp16_casts();
  ASSIGN_OR_RETURN(PrepareReport prepared, PrepareForQuantization(&model_, options));
  for (const auto& pass : prepared.passes) {
    v1::PassRun* run = preparation->add_passes();
    run->set_name(pass.name);
    run->set_rewrites(pass.rewrites);
  }
  preparation->set_casts_folded(prepared.casts_folded);
  preparation->set_constant_nodes_folded(prepared.constant_nodes_folded);
  return OkStatus();
}

static quant::Calibrator ToCalibrator(v1::Calibrator calibrator) {
  switch (calibrator) {
    case v1::PERCENTILE:
      return quant::Calibrator::kPercentile;
    case v1::ENTROPY:
      return quant::Calibrator::kEntropy;
    case v1::MSE:
      return quant::Calibrator::kMse;
    default:
      return quant::Calibrator::kMinMax;
  }
}

static quant::QuantType ActivationType(const v1::QuantizeStep& step) {
  switch (step.activations()) {
    case v1::INT8:
      return quant::QuantType::kInt8;
    case v1::INT16:
      return quant::QuantType::kInt16;
    default:
      return quant::QuantType::kUint8;
  }
}

static quant::NodeFilter ToFilter(const v1::QuantizeStep& step) {
  quant::NodeFilter filter;
  filter.include_nodes = {step.include_nodes().begin(), step.include_nodes().end()};
  filter.include_ops = {step.include_ops().begin(), step.include_ops().end()};
  filter.exclude_nodes = {step.exclude_nodes().begin(), step.exclude_nodes().end()};
  filter.exclude_ops = {step.exclude_ops().begin(), step.exclude_ops().end()};
  return filter;
}

static quant::StaticQuantOptions StaticOptions(const v1::QuantizeStep& step) {
  quant::StaticQuantOptions options;
  options.activation_type = ActivationType(step);
  options.activation_symmetric = step.symmetric_activations();
  options.per_channel = step.per_channel();
  options.reduce_range = step.reduce_range();
  options.quantize_model_io = step.quantize_io();
  options.filter = ToFilter(step);
  return options;
}

Status JobRun::Calibrate(const v1::QuantizeStep& step) {
  ASSIGN_OR_RETURN(std::vector<std::string> tensors,
                   quant::TensorsToCalibrate(model_, StaticOptions(step)));
  quant::CalibrationOptions options;
  options.method = ToCalibrator(step.calibrator());
  if (step.percentile() > 0) options.percentile = step.percentile();
  options.histogram_bins = step.histogram_bins();
  options.target_type = ActivationType(step);
  options.symmetric = step.symmetric_activations();
  options.max_samples = step.calibration_samples();
  options.batch_size = recipe_.data().batch_size();
  options.threads = recipe_.threads();
  for (const v1::StatePair& pair : recipe_.data().state_pairs()) {
    options.state_pairs.push_back({pair.input(), pair.output()});
  }
  quant::CalibrationStats stats;
  auto progress = [&](double fraction, const std::string& message) {
    Progress(kCalibrate, fraction, message);
  };
  ASSIGN_OR_RETURN(ranges_, quant::Calibrate(model_, tensors, spec_.calibration_data, options,
                                             progress, hooks_.cancel, &stats));
  v1::CalibrationSummary* summary = report_.mutable_calibration();
  summary->set_calibrator(quant::CalibratorName(options.method));
  summary->set_samples(stats.samples);
  summary->set_batches(stats.batches);
  summary->set_seconds(stats.seconds);
  for (const std::string& name : stats.unobserved) summary->add_unobserved(name);
  return OkStatus();
}

// ORT has no integer recurrent kernels in QDQ form: after static quantization, LSTM/GRU/RNN
// weights are still stored int8 (behind DequantizeLinear), so "int8" means int8 weights
// everywhere. Their decisions replace the static quantizer's "stays float" ones.
Status JobRun::QuantizeRecurrentWeights(quant::DynamicQuantOptions options,
                                        quant::QuantSummary* summary) {
  const std::set<std::string> recurrent = {"LSTM", "GRU", "RNN"};
  std::set<std::string> include;
  for (const std::string& op : recurrent) {
    if (options.filter.include_ops.empty() || options.filter.include_ops.count(op)) {
      include.insert(op);
    }
  }
  if (include.empty()) return OkStatus();
  options.filter.include_ops = include;
  ASSIGN_OR_RETURN(quant::QuantSummary weights, quant::QuantizeWeightsOnly(&model_, options));
  for (const quant::NodeDecision& decision : weights.decisions) {
    if (decision.action != quant::NodeDecision::Action::kQuantized) continue;
    for (quant::NodeDecision& existing : summary->decisions) {
      if (existing.node == decision.node && existing.graph == decision.graph) existing = decision;
    }
  }
  summary->scales.tensors += weights.scales.tensors;
  summary->scales.saturating_weights += weights.scales.saturating_weights;
  if (weights.scales.tensors > 0) {
    quant::NoteScale(weights.scales.min_scale, &summary->scales);
    quant::NoteScale(weights.scales.max_scale, &summary->scales);
  }
  return OkStatus();
}

Status JobRun::Quantize() {
  quant::QuantSummary summary;
  for (const v1::Step& step : recipe_.steps()) {
    if (!step.has_quantize() && !step.has_float16()) continue;  // prune/cluster ran earlier
    if (step.has_float16()) {
      const v1::Float16Step& fp16 = step.float16();
      quant::Float16Options options;
      options.weights_only = fp16.weights_only();
      options.keep_io_float32 = fp16.keep_io_float32();
      options.filter.exclude_nodes = {fp16.exclude_nodes().begin(), fp16.exclude_nodes().end()};
      options.filter.exclude_ops = {fp16.exclude_ops().begin(), fp16.exclude_ops().end()};
      ASSIGN_OR_RETURN(summary, quant::ConvertToFloat16(&model_, options));
      continue;
    }
    const v1::QuantizeStep& q = step.quantize();
    quant::DynamicQuantOptions dynamic;
    dynamic.per_channel = q.per_channel();
    dynamic.reduce_range = q.reduce_range();
    dynamic.filter = ToFilter(q);
    if (q.activations() == v1::DYNAMIC) {
      ASSIGN_OR_RETURN(summary, quant::QuantizeDynamic(&model_, dynamic));
    } else if (q.activations() == v1::FLOAT) {
      ASSIGN_OR_RETURN(summary, quant::QuantizeWeightsOnly(&model_, dynamic));
    } else {
      quant::StaticQuantOptions options = StaticOptions(q);
      for (const v1::StatePair& pair : recipe_.data().state_pairs()) {
        options.float_outputs.insert(pair.output());
      }
      ASSIGN_OR_RETURN(summary, quant::QuantizeStatic(&model_, ranges_, options));
      RETURN_IF_ERROR(QuantizeRecurrentWeights(dynamic, &summary));
    }
    if (q.reduce_range()) {
      summary.warnings.push_back(
          "weights use 7 bits (reduceRange): CPUs without VNNI compute u8*s8 with 16-bit sums "
          "that saturate on full-range int8 weights");
    }
  }
  AddDecisions(summary, &report_);
  return OkStatus();
}

Status JobRun::Export() {
  // Written under a staging name and renamed after validation: a failed job leaves nothing at
  // the output path (and an earlier file there survives). External data, when the model is
  // large enough to need it, goes straight to its final name, which the model refers to.
  ExportOptions options;
  options.external_file_name = BaseName(spec_.output_path) + ".data";
  RETURN_IF_ERROR(SaveModel(model_, staging_path(), options));
  ASSIGN_OR_RETURN(std::string checker, CheckExportedModel(model_));
  report_.mutable_validation()->set_checker(checker);
  return OkStatus();
}

Status JobRun::Validate() {
  if (!hooks_.validate_output) return OkStatus();
  auto note = hooks_.validate_output(staging_path());
  if (!note.ok()) {
    // When the input model fails the same check, the input is the problem, not the job.
    if (input_is_model_file_) {
      auto input_check = hooks_.validate_output(spec_.model_path);
      if (!input_check.ok()) {
        return InvalidArgument(
            "the input model itself fails validation: " + input_check.status().message() +
            " (re-export it at opset 13 or later)");
      }
    }
    return Internal("the written model failed validation: " + note.status().message());
  }
  report_.mutable_validation()->set_ort_loaded(true);
  report_.mutable_validation()->set_ort_version(hooks_.validator_version);
  report_.mutable_validation()->set_ort_message(*note);
  return OkStatus();
}

Status JobRun::Publish() {
  if (std::rename(staging_path().c_str(), spec_.output_path.c_str()) != 0) {
    return Internal("cannot rename " + staging_path() + " to " + spec_.output_path + ": " +
                    std::strerror(errno));
  }
  return SummarizeModel(model_, spec_.output_path, report_.mutable_output_model());
}

StatusOr<v1::Report> JobRun::Run() {
  ASSIGN_OR_RETURN(recipe_, ExpandRecipe(spec_.recipe));
  report_.set_schema(1);
  *report_.mutable_recipe() = recipe_;
  FillManifest(recipe_, spec_, hooks_.shrink_version, &report_);
  if (NeedsCalibrationData(recipe_) && spec_.calibration_data.empty()) {
    return InvalidArgument(
        "this recipe calibrates activations: pass calibration data (--calib DATA)");
  }
  RETURN_IF_ERROR(Stage(kLoad, [&]() -> Status {
    // A directory or tar archive (model + external data) is hashed as given when it is a file.
    ASSIGN_OR_RETURN(ModelBundle bundle, ModelBundle::Open(spec_.model_path));
    ASSIGN_OR_RETURN(model_, LoadModel(bundle.model_path()));
    input_is_model_file_ = !bundle.unpacked() && !IsDirectory(spec_.model_path);
    reference_path_ = bundle.model_path();
    bundle_.emplace(std::move(bundle));
    const std::string& hashed =
        IsDirectory(spec_.model_path) ? reference_path_ : spec_.model_path;
    return SummarizeModel(model_, hashed, report_.mutable_input_model());
  }));
  RETURN_IF_ERROR(Stage(kPrepare, [&] { return Prepare(); }));
  if (NeedsEvaluation()) RETURN_IF_ERROR(SetUpEvaluation());
  for (const v1::Step& step : recipe_.steps()) {
    if (step.has_prune()) {
      RETURN_IF_ERROR(Stage(kPrune, [&] { return ApplyPrune(step.prune()); }));
      RETURN_IF_ERROR(RecordStep("prune"));
    } else if (step.has_cluster()) {
      RETURN_IF_ERROR(Stage(kCluster, [&] { return ApplyCluster(step.cluster()); }));
      RETURN_IF_ERROR(RecordStep("cluster"));
    }
  }
  if (NeedsEvaluation()) return RunEvaluated();
  for (const v1::Step& step : recipe_.steps()) {
    if (!step.has_quantize() || !QuantizeNeedsRanges(step.quantize())) continue;
    RETURN_IF_ERROR(Stage(kCalibrate, [&] { return Calibrate(step.quantize()); }));
  }
  RETURN_IF_ERROR(Stage(kQuantize, [&] { return Quantize(); }));
  const bool had_external_data = FileExists(spec_.output_path + ".data");
  Status written = Stage(kExport, [&] { return Export(); });
  if (written.ok()) written = Stage(kValidate, [&] { return Validate(); });
  if (written.ok()) written = Publish();
  if (!written.ok()) {
    RemoveOutputs(staging_path(), had_external_data ? "" : spec_.output_path + ".data");
    return written;
  }
  FillSizes(&report_);
  RecordFinalStep();
  report_.set_peak_rss_bytes(PeakRssBytes());
  return report_;
}

StatusOr<v1::Report> RunJob(const JobSpec& spec, const JobHooks& hooks) {
  if (spec.model_path.empty()) return InvalidArgument("no model given");
  if (spec.output_path.empty()) return InvalidArgument("no output path given (--out)");
  JobRun run(spec, hooks);
  return run.Run();
}

std::string ReportToJson(const v1::Report& report) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.always_print_primitive_fields = true;
  (void)google::protobuf::util::MessageToJsonString(report, &json, options);
  return json;
}

}  // namespace shrink::engine
