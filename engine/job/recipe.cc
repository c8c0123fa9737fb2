#include "engine/job/recipe.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "common/file_util.h"

namespace shrink::engine {
namespace {

using google::protobuf::util::JsonParseOptions;
using google::protobuf::util::JsonPrintOptions;

constexpr int kMinQdqOpset = 13;  // per-axis QuantizeLinear scales
constexpr int kMaxOpset = 18;

v1::Step QuantizeStep(v1::QuantType weights, v1::QuantType activations) {
  v1::Step step;
  step.mutable_quantize()->set_weights(weights);
  step.mutable_quantize()->set_activations(activations);
  return step;
}

Status CheckDisjoint(const google::protobuf::RepeatedPtrField<std::string>& include,
                     const google::protobuf::RepeatedPtrField<std::string>& exclude,
                     const std::string& what) {
  std::set<std::string> included(include.begin(), include.end());
  for (const std::string& name : exclude) {
    if (included.count(name)) {
      return InvalidArgument("recipe: " + what + " '" + name + "' is both included and excluded");
    }
  }
  return OkStatus();
}

// Fills quantize-step defaults and rejects contradictions.
Status ExpandQuantizeStep(v1::QuantizeStep* step) {
  if (step->weights() == v1::QUANT_TYPE_UNSPECIFIED) step->set_weights(v1::INT8);
  if (step->weights() != v1::INT8) {
    return InvalidArgument("recipe: quantize.weights must be INT8 (got " +
                           v1::QuantType_Name(step->weights()) + ")");
  }
  if (step->activations() == v1::QUANT_TYPE_UNSPECIFIED) step->set_activations(v1::UINT8);
  const v1::QuantType activations = step->activations();
  const bool calibrated =
      activations == v1::UINT8 || activations == v1::INT8 || activations == v1::INT16;
  if (!calibrated) {
    const char* mode = activations == v1::DYNAMIC ? "DYNAMIC" : "FLOAT";
    if (step->calibrator() != v1::CALIBRATOR_UNSPECIFIED || step->calibration_samples() != 0 ||
        step->histogram_bins() != 0 || step->percentile() != 0) {
      return InvalidArgument(
          std::string("recipe: calibration options are set but activations are ") + mode +
          " (nothing is calibrated)");
    }
    if (step->quantize_io()) {
      return InvalidArgument(std::string("recipe: quantizeIo needs static activations, not ") +
                             mode);
    }
    if (step->has_symmetric_activations()) {
      return InvalidArgument(std::string("recipe: symmetricActivations has no meaning for ") +
                             mode + " activations");
    }
  } else {
    if (step->calibrator() == v1::CALIBRATOR_UNSPECIFIED) step->set_calibrator(v1::MINMAX);
    if (step->percentile() != 0 && step->calibrator() != v1::PERCENTILE) {
      return InvalidArgument("recipe: percentile is set but the calibrator is " +
                             v1::Calibrator_Name(step->calibrator()));
    }
    if (step->calibrator() == v1::PERCENTILE) {
      if (step->percentile() == 0) step->set_percentile(99.999);
      if (!(step->percentile() > 50 && step->percentile() <= 100)) {
        return InvalidArgument("recipe: percentile must be in (50, 100], got " +
                               std::to_string(step->percentile()));
      }
    }
    if (step->calibration_samples() < 0) {
      return InvalidArgument("recipe: calibrationSamples must be >= 0 (0 = all)");
    }
    if (step->histogram_bins() == 0) step->set_histogram_bins(2048);
    if (step->histogram_bins() < 128 || step->histogram_bins() > (1 << 20)) {
      return InvalidArgument("recipe: histogramBins must be in [128, 1048576], got " +
                             std::to_string(step->histogram_bins()));
    }
    if (!step->has_symmetric_activations()) {
      step->set_symmetric_activations(activations == v1::INT16);
    }
  }
  if (!step->has_per_channel()) step->set_per_channel(true);
  // 7-bit weights by default: u8*s8 kernels without VNNI saturate 16-bit sums (build notes).
  if (!step->has_reduce_range()) step->set_reduce_range(true);
  RETURN_IF_ERROR(CheckDisjoint(step->include_nodes(), step->exclude_nodes(), "node"));
  return CheckDisjoint(step->include_ops(), step->exclude_ops(), "op");
}

Status ExpandFloat16Step(v1::Float16Step* step) {
  if (!step->has_keep_io_float32()) step->set_keep_io_float32(true);
  if (step->weights_only() && !step->keep_io_float32()) {
    return InvalidArgument(
        "recipe: float16.weightsOnly keeps activations (and so model I/O) in float32; "
        "keepIoFloat32 false contradicts it");
  }
  return OkStatus();
}

Status ExpandPruneStep(v1::PruneStep* step) {
  if (step->structure() == v1::PRUNE_STRUCTURE_UNSPECIFIED) step->set_structure(v1::UNSTRUCTURED);
  if (step->structure() == v1::N_OF_M) {
    if (step->n() == 0) step->set_n(2);
    if (step->m() == 0) step->set_m(4);
    if (step->m() < 2 || step->n() < 1 || step->n() >= step->m()) {
      return InvalidArgument("recipe: prune N_OF_M needs 1 <= n < m and m >= 2, got " +
                             std::to_string(step->n()) + ":" + std::to_string(step->m()));
    }
    const double implied = 1.0 - double(step->n()) / double(step->m());
    if (step->target_sparsity() != 0 && std::abs(step->target_sparsity() - implied) > 1e-9) {
      return InvalidArgument("recipe: prune N_OF_M " + std::to_string(step->n()) + ":" +
                             std::to_string(step->m()) + " means sparsity " +
                             std::to_string(implied) + "; targetSparsity contradicts it");
    }
    step->set_target_sparsity(implied);
    if (step->global() || step->sensitivity_aware()) {
      return InvalidArgument("recipe: prune N_OF_M is the same pattern in every layer; global "
                             "and sensitivityAware do not apply");
    }
  } else if (step->n() != 0 || step->m() != 0) {
    return InvalidArgument("recipe: prune n and m only apply to structure N_OF_M");
  }
  if (!(step->target_sparsity() >= 0 && step->target_sparsity() < 1)) {
    return InvalidArgument("recipe: prune targetSparsity must be in [0, 1), got " +
                           std::to_string(step->target_sparsity()));
  }
  if (!step->has_keep_first_last()) step->set_keep_first_last(true);
  return OkStatus();
}

Status ExpandClusterStep(v1::ClusterStep* step) {
  if (step->clusters() == 0) step->set_clusters(16);
  if (step->clusters() < 2 || step->clusters() > 256) {
    return InvalidArgument("recipe: cluster clusters must be in [2, 256], got " +
                           std::to_string(step->clusters()));
  }
  if (step->init() == v1::CLUSTER_INIT_UNSPECIFIED) step->set_init(v1::LINEAR);
  if (!step->has_preserve_sparsity()) step->set_preserve_sparsity(true);
  if (step->iterations() < 0) return InvalidArgument("recipe: cluster iterations must be >= 0");
  if (step->iterations() == 0) step->set_iterations(25);
  return OkStatus();
}

// The order steps run in, whatever the order given.
int StepRank(const v1::Step& step) {
  if (step.has_prune()) return 0;
  if (step.has_cluster()) return 1;
  return 2;
}

Status ExpandBudget(v1::Budget* budget) {
  if (budget->max_accuracy_drop() < 0 || budget->max_accuracy_drop() > 100) {
    return InvalidArgument("recipe: budget.maxAccuracyDrop is in top-1 points, [0, 100]");
  }
  if (budget->min_agreement() < 0 || budget->min_agreement() > 1) {
    return InvalidArgument("recipe: budget.minAgreement is a fraction, [0, 1]");
  }
  if (budget->min_sqnr_db() < 0 || budget->max_trials() < 0 ||
      budget->max_tuning_seconds() < 0 || budget->max_tuning_memory_mb() < 0) {
    return InvalidArgument("recipe: budget values must be >= 0");
  }
  const bool any = budget->max_accuracy_drop() > 0 || budget->min_sqnr_db() > 0 ||
                   budget->min_agreement() > 0;
  if (!any) {
    budget->Clear();  // tuning limits without a budget mean nothing
    return OkStatus();
  }
  if (budget->max_trials() == 0) budget->set_max_trials(12);
  if (budget->max_tuning_seconds() == 0) budget->set_max_tuning_seconds(600);
  return OkStatus();
}

Status ExpandEvaluate(v1::Evaluate* evaluate) {
  const std::string& runtime = evaluate->runtime();
  if (!runtime.empty() && runtime != "onnxruntime" && runtime != "shrink") {
    return InvalidArgument("recipe: evaluate.runtime is \"onnxruntime\" or \"shrink\", got \"" +
                           runtime + "\"");
  }
  if (evaluate->threads() < 0 || evaluate->top_k() < 0 || evaluate->max_samples() < 0 ||
      evaluate->latency_runs() < 0) {
    return InvalidArgument("recipe: evaluate values must be >= 0");
  }
  if (runtime.empty()) evaluate->set_runtime("onnxruntime");
  if (evaluate->top_k() == 0) evaluate->set_top_k(5);
  if (evaluate->threads() == 0) evaluate->set_threads(1);
  if (evaluate->latency_runs() < 20) evaluate->set_latency_runs(20);
  return OkStatus();
}

Status ExpandCommon(v1::Recipe* recipe) {
  v1::Prepare* prepare = recipe->mutable_prepare();
  if (prepare->target_opset() != 0 &&
      (prepare->target_opset() < 7 || prepare->target_opset() > kMaxOpset)) {
    return InvalidArgument("recipe: prepare.targetOpset must be in [7, " +
                           std::to_string(kMaxOpset) + "], got " +
                           std::to_string(prepare->target_opset()));
  }
  v1::Data* data = recipe->mutable_data();
  if (data->batch_size() < 0) return InvalidArgument("recipe: data.batchSize must be >= 0");
  if (data->batch_size() == 0) data->set_batch_size(64);
  std::set<std::string> state_inputs;
  for (const v1::StatePair& pair : data->state_pairs()) {
    if (pair.input().empty() || pair.output().empty()) {
      return InvalidArgument("recipe: data.statePairs entries need both input and output");
    }
    if (!state_inputs.insert(pair.input()).second) {
      return InvalidArgument("recipe: state input '" + pair.input() + "' is listed twice");
    }
  }
  if (recipe->has_budget()) {
    RETURN_IF_ERROR(ExpandBudget(recipe->mutable_budget()));
    if (recipe->budget().ByteSizeLong() == 0) recipe->clear_budget();
  }
  RETURN_IF_ERROR(ExpandEvaluate(recipe->mutable_evaluate()));
  if (recipe->threads() < 0) return InvalidArgument("recipe: threads must be >= 0");
  return OkStatus();
}

}  // namespace

const std::vector<std::string>& PresetNames() {
  static const std::vector<std::string> names = {"float16", "int8-dynamic", "int8",
                                                 "int16x8", "size",         "latency"};
  return names;
}

StatusOr<Preset> ParsePreset(const std::string& name) {
  const auto& names = PresetNames();
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return static_cast<Preset>(i);
  }
  std::string known;
  for (const std::string& n : names) known += (known.empty() ? "" : ", ") + n;
  return InvalidArgument("unknown preset '" + name + "' (known: " + known + ")");
}

StatusOr<v1::Recipe> ParseRecipeJson(const std::string& json, const std::string& source) {
  v1::Recipe recipe;
  JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(json, &recipe, options);
  if (!status.ok()) {
    return InvalidArgument(source +
                           ": not a valid shrink.v1.Recipe: " + std::string(status.message()));
  }
  return recipe;
}

StatusOr<v1::Recipe> LoadRecipeFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ParseRecipeJson(text, path);
}

std::string RecipeToJson(const v1::Recipe& recipe) {
  std::string json;
  JsonPrintOptions options;
  options.add_whitespace = true;
  (void)google::protobuf::util::MessageToJsonString(recipe, &json, options);
  return json;
}

v1::Recipe PresetRecipe(Preset preset) {
  v1::Recipe recipe;
  switch (preset) {
    case Preset::kFloat16:
      recipe.add_steps()->mutable_float16()->set_weights_only(true);
      break;
    case Preset::kInt8Dynamic:
      *recipe.add_steps() = QuantizeStep(v1::INT8, v1::DYNAMIC);
      break;
    case Preset::kInt8:
      *recipe.add_steps() = QuantizeStep(v1::INT8, v1::UINT8);
      break;
    case Preset::kInt16x8:
      *recipe.add_steps() = QuantizeStep(v1::INT8, v1::INT16);
      break;
    case Preset::kSize:
      // Every weight int8, activations float: smallest file, no calibration data needed.
      *recipe.add_steps() = QuantizeStep(v1::INT8, v1::FLOAT);
      break;
    case Preset::kLatency: {
      v1::Step step = QuantizeStep(v1::INT8, v1::UINT8);
      for (const std::string& op : LatencyPresetOps())
        step.mutable_quantize()->add_include_ops(op);
      *recipe.add_steps() = step;
      break;
    }
  }
  return recipe;
}

const std::vector<std::string>& LatencyPresetOps() {
  static const std::vector<std::string> kOps = {
      "Conv",    "Gemm",      "MatMul",  "Add",     "Mul",   "AveragePool", "GlobalAveragePool",
      "Sigmoid", "LeakyRelu", "Softmax", "Concat",  "Reshape", "Transpose", "Flatten",
      "Squeeze", "Unsqueeze", "Slice",   "Gather",  "Split", "Expand",      "Tile",
      "MaxPool", "Resize"};
  return kOps;
}

StatusOr<v1::Recipe> ExpandRecipe(const v1::Recipe& recipe) {
  v1::Recipe expanded = recipe;
  if (!recipe.preset().empty()) {
    ASSIGN_OR_RETURN(Preset preset, ParsePreset(recipe.preset()));
    expanded.clear_steps();
    const v1::Recipe preset_recipe = PresetRecipe(preset);
    for (const v1::Step& preset_step : preset_recipe.steps()) {
      bool replaced = false;
      for (const v1::Step& step : recipe.steps()) {
        replaced |= step.kind_case() == preset_step.kind_case();
      }
      if (!replaced) *expanded.add_steps() = preset_step;
    }
    for (const v1::Step& step : recipe.steps()) *expanded.add_steps() = step;
  }
  if (expanded.steps().empty()) {
    return InvalidArgument("recipe: nothing to do (set a preset or at least one step)");
  }
  int quantize_steps = 0, float16_steps = 0, prune_steps = 0, cluster_steps = 0;
  bool compact_clusters = false;
  for (v1::Step& step : *expanded.mutable_steps()) {
    if (step.has_quantize()) {
      ++quantize_steps;
      RETURN_IF_ERROR(ExpandQuantizeStep(step.mutable_quantize()));
    } else if (step.has_float16()) {
      ++float16_steps;
      RETURN_IF_ERROR(ExpandFloat16Step(step.mutable_float16()));
    } else if (step.has_prune()) {
      ++prune_steps;
      RETURN_IF_ERROR(ExpandPruneStep(step.mutable_prune()));
    } else if (step.has_cluster()) {
      ++cluster_steps;
      RETURN_IF_ERROR(ExpandClusterStep(step.mutable_cluster()));
      compact_clusters = step.cluster().compact();
    } else {
      return InvalidArgument("recipe: a step has no kind (prune, cluster, quantize or float16)");
    }
  }
  if (quantize_steps > 1 || float16_steps > 1 || prune_steps > 1 || cluster_steps > 1) {
    return InvalidArgument("recipe: at most one step of each kind");
  }
  if (compact_clusters && (quantize_steps || float16_steps)) {
    return InvalidArgument(
        "recipe: cluster.compact stores weights as indices the quantizer cannot see; with a "
        "quantize or float16 step use the dense form (the clusters survive quantization)");
  }
  std::stable_sort(expanded.mutable_steps()->begin(), expanded.mutable_steps()->end(),
                   [](const v1::Step& a, const v1::Step& b) { return StepRank(a) < StepRank(b); });
  if (quantize_steps && float16_steps) {
    return InvalidArgument(
        "recipe: quantize and float16 steps contradict each other (a weight is stored either "
        "as int8 or as float16); use one");
  }
  RETURN_IF_ERROR(ExpandCommon(&expanded));
  if (quantize_steps && expanded.prepare().target_opset() != 0 &&
      expanded.prepare().target_opset() < kMinQdqOpset) {
    return InvalidArgument("recipe: prepare.targetOpset " +
                           std::to_string(expanded.prepare().target_opset()) +
                           " is below 13, which per-channel QuantizeLinear needs");
  }
  return expanded;
}

std::vector<std::string> StateInputs(const v1::Recipe& recipe) {
  std::vector<std::string> inputs;
  for (const v1::StatePair& pair : recipe.data().state_pairs()) inputs.push_back(pair.input());
  return inputs;
}

bool QuantizeNeedsRanges(const v1::QuantizeStep& step) {
  const v1::QuantType a = step.activations();
  return a == v1::UINT8 || a == v1::INT8 || a == v1::INT16;
}

bool NeedsCalibrationData(const v1::Recipe& expanded) {
  for (const v1::Step& step : expanded.steps()) {
    if (step.has_prune() && (step.prune().repair() || step.prune().sensitivity_aware())) {
      return true;
    }
    if (step.has_quantize() && QuantizeNeedsRanges(step.quantize())) return true;
  }
  return false;
}

}  // namespace shrink::engine
