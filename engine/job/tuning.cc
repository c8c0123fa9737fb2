// Evaluated jobs: every candidate is a trial (quantize, write, validate, evaluate against the
// float model); with a budget, auto-tuning adds trials until one meets it. The order follows
// what usually helps most per trial: the calibrator, per-channel weights, symmetric
// activations, then keeping the most sensitive layers float (their number doubling until the
// budget is met, then bisected down). Among trials that meet the budget the smallest file wins;
// when none does, the closest one is written and the report says why it fell short.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "common/file_util.h"
#include "engine/eval/sensitivity.h"
#include "engine/io/model_check.h"
#include "engine/io/onnx_export.h"
#include "engine/io/onnx_import.h"
#include "engine/job/job_report.h"
#include "engine/job/job_run.h"
#include "engine/job/recipe.h"

namespace shrink::engine {
namespace {

constexpr int kDefaultMaxTrials = 12;
constexpr double kDefaultTuningSeconds = 600;
constexpr int kMaxFallback = 64;  // layers kept float at most
constexpr double kNoSlack = -1e9;

bool HasBudget(const v1::Budget& budget) {
  return budget.max_accuracy_drop() > 0 || budget.min_sqnr_db() > 0 ||
         budget.min_agreement() > 0;
}

// The budget's tightest margin for one evaluation: points of accuracy, points of agreement or dB
// of SQNR to spare (negative: missed by that much). Without a budget: 0.
StatusOr<double> Slack(const v1::Budget& budget, const v1::Evaluation& evaluation) {
  double slack = std::numeric_limits<double>::infinity();
  if (budget.max_accuracy_drop() > 0) {
    if (!evaluation.has_accuracy()) {
      return InvalidArgument(
          "the budget sets maxAccuracyDrop but the evaluation data has no `labels` array");
    }
    slack = std::min(slack, budget.max_accuracy_drop() - evaluation.accuracy().drop());
  }
  const eval::WorstOutput worst = eval::Worst(evaluation);
  if (budget.min_sqnr_db() > 0) slack = std::min(slack, worst.sqnr_db - budget.min_sqnr_db());
  if (budget.min_agreement() > 0) {
    const auto& outputs = evaluation.outputs();
    const bool classifier = std::any_of(outputs.begin(), outputs.end(),
                                        [](const auto& output) { return output.classifier(); });
    if (!classifier) {
      return InvalidArgument("the budget sets minAgreement but no output looks like class "
                             "scores (2-D [N, classes])");
    }
    slack = std::min(slack, 100 * (worst.agreement - budget.min_agreement()));
  }
  return std::isinf(slack) ? 0.0 : slack;
}

void FillTrialMetrics(const v1::Evaluation& evaluation, v1::Trial* trial) {
  if (evaluation.has_accuracy()) trial->set_accuracy_drop(evaluation.accuracy().drop());
  const eval::WorstOutput worst = eval::Worst(evaluation);
  trial->set_sqnr_db(worst.sqnr_db);
  trial->set_agreement(worst.agreement);
}

// The one step a budget tunes (the recipe's quantize or float16 step).
v1::Step* TunedStep(v1::Recipe* recipe) {
  for (v1::Step& step : *recipe->mutable_steps()) {
    if (step.has_quantize() || step.has_float16()) return &step;
  }
  return nullptr;
}

std::string Describe(const v1::Step& step, size_t fallback) {
  std::string text;
  if (step.has_quantize()) {
    const v1::QuantizeStep& q = step.quantize();
    text = "calibrator=" + v1::Calibrator_Name(q.calibrator()) +
           " per_channel=" + (q.per_channel() ? "true" : "false") +
           " symmetric=" + (q.symmetric_activations() ? "true" : "false");
  } else {
    text = "float16";
  }
  return text + " fallback=" + std::to_string(fallback);
}

void AddExcluded(v1::Step* step, const std::vector<std::string>& nodes) {
  for (const std::string& node : nodes) {
    if (step->has_quantize()) step->mutable_quantize()->add_exclude_nodes(node);
    if (step->has_float16()) step->mutable_float16()->add_exclude_nodes(node);
  }
}

int64_t FileBytes(const std::string& path) {
  auto size = FileSize(path);
  auto data = FileSize(path + ".data");
  return (size.ok() ? int64_t(*size) : 0) + (data.ok() ? int64_t(*data) : 0);
}

// The trial to keep: the smallest that meets the budget (the fastest for a latency recipe when
// trials were timed; fewer fallbacks, then earlier, on ties), else the one closest to it.
// Trials that did not load are never kept.
int ChooseTrial(const std::vector<TrialResult>& trials, bool by_latency) {
  int best = -1;
  for (size_t i = 0; i < trials.size(); ++i) {
    const TrialResult& t = trials[i];
    if (!t.loaded) continue;
    if (best < 0) {
      best = int(i);
      continue;
    }
    const TrialResult& b = trials[size_t(best)];
    const bool meets = t.slack >= 0, best_meets = b.slack >= 0;
    if (meets != best_meets) {
      if (meets) best = int(i);
      continue;
    }
    if (meets) {
      const double cost = by_latency ? t.trial.latency_ms() : double(t.trial.size_bytes());
      const double best_cost = by_latency ? b.trial.latency_ms() : double(b.trial.size_bytes());
      if (cost < best_cost || (cost == best_cost && t.trial.fallback_nodes_size() <
                                                        b.trial.fallback_nodes_size())) {
        best = int(i);
      }
    } else if (t.slack > b.slack) {
      best = int(i);
    }
  }
  return best;
}

}  // namespace

bool JobRun::NeedsEvaluation() const {
  return HasBudget(recipe_.budget()) || recipe_.evaluate().latency() ||
         !spec_.evaluation_data.empty();
}

bool JobRun::OverTuningLimits(const std::vector<TrialResult>& trials, std::string* why) const {
  const v1::Budget& budget = recipe_.budget();
  const int max_trials = budget.max_trials() > 0 ? budget.max_trials() : kDefaultMaxTrials;
  const double max_seconds =
      budget.max_tuning_seconds() > 0 ? budget.max_tuning_seconds() : kDefaultTuningSeconds;
  const double elapsed = std::chrono::duration<double>(Clock::now() - tune_start_).count();
  if (int(trials.size()) >= max_trials) {
    *why = "the trial limit (" + std::to_string(max_trials) + ") was reached";
  } else if (elapsed > max_seconds) {
    *why = "the tuning time limit (" + std::to_string(int(max_seconds)) + " s) was reached";
  } else if (budget.max_tuning_memory_mb() > 0 &&
             PeakRssBytes() > budget.max_tuning_memory_mb() << 20) {
    *why = "the tuning memory limit (" + std::to_string(budget.max_tuning_memory_mb()) +
           " MiB) was reached";
  } else {
    return false;
  }
  return true;
}

Status JobRun::CalibrateCached(const v1::QuantizeStep& step) {
  v1::QuantizeStep key_step = step;
  key_step.clear_include_nodes();
  key_step.clear_exclude_nodes();
  key_step.clear_per_channel();  // weights only: the activation ranges do not change
  const std::string key = key_step.SerializeAsString();
  auto cached = range_cache_.find(key);
  if (cached != range_cache_.end()) {
    ranges_ = cached->second;
    return OkStatus();
  }
  RETURN_IF_ERROR(Calibrate(step));
  range_cache_[key] = ranges_;
  return OkStatus();
}

Status JobRun::EvaluateTrial(TrialResult* result) {
  ASSIGN_OR_RETURN(result->evaluation, eval::Evaluate(result->path, reference_path_, eval_data_,
                                                      runners_, EvaluationOptions()));
  ASSIGN_OR_RETURN(result->slack, Slack(recipe_.budget(), result->evaluation));
  FillTrialMetrics(result->evaluation, &result->trial);
  result->trial.set_meets_budget(result->slack >= 0);
  return OkStatus();
}

StatusOr<TrialResult> JobRun::RunTrial(const v1::Recipe& recipe, int index,
                                       const std::vector<std::string>& fallback) {
  auto start = Clock::now();
  TrialResult result;
  result.recipe = recipe;
  const v1::Step* step = TunedStep(&result.recipe);
  result.trial.set_index(index);
  result.trial.set_settings(step ? Describe(*step, fallback.size()) : "as given");
  for (const std::string& node : fallback) result.trial.add_fallback_nodes(node);
  result.path = spec_.output_path + ".trial" + std::to_string(index) + ".onnx";

  // The stages of a plain job on a fresh copy of the prepared model; the report's per-trial
  // parts (decisions, warnings, calibration) are kept with the trial.
  const v1::Recipe saved_recipe = recipe_;
  recipe_ = recipe;
  model_ = CloneModel(prepared_);
  report_.clear_nodes();
  report_.clear_warnings();
  Status built = OkStatus();
  for (const v1::Step& s : recipe_.steps()) {
    if (built.ok() && s.has_quantize() && QuantizeNeedsRanges(s.quantize())) {
      built = CalibrateCached(s.quantize());
    }
  }
  if (built.ok()) built = Quantize();
  recipe_ = saved_recipe;
  RETURN_IF_ERROR(built);
  result.nodes.assign(report_.nodes().begin(), report_.nodes().end());
  result.warnings.assign(report_.warnings().begin(), report_.warnings().end());
  result.calibration = report_.calibration();
  report_.clear_nodes();
  report_.clear_warnings();
  for (const v1::NodeDecision& node : result.nodes) {
    if (node.action() == "quantized" || node.action() == "converted") {
      result.quantized.insert(node.node());
    }
  }
  ExportOptions export_options;
  export_options.external_file_name = BaseName(result.path) + ".data";
  RETURN_IF_ERROR(SaveModel(model_, result.path, export_options));
  result.trial.set_size_bytes(FileBytes(result.path));

  auto note = hooks_.validate_output ? hooks_.validate_output(result.path)
                                     : StatusOr<std::string>(std::string("not validated"));
  result.loaded = note.ok();
  result.validation_note = note.ok() ? *note : note.status().message();
  if (!note.ok()) {
    result.slack = kNoSlack;
    result.trial.set_note("the written model failed validation: " + note.status().message());
  } else {
    RETURN_IF_ERROR(EvaluateTrial(&result));
    if (recipe_.evaluate().latency()) {
      // Each trial's speed in the judge's runtime, so a latency recipe can pick the fastest.
      eval::LatencyOptions options;
      options.model_label = "trial";
      options.state_inputs = StateInputs(recipe_);
      ASSIGN_OR_RETURN(v1::Latency latency,
                       eval::MeasureLatency(result.path, eval_data_, runners_,
                                            recipe_.evaluate().latency_runs(), options));
      result.trial.set_latency_ms(latency.median_ms());
    }
  }
  result.trial.set_seconds(std::chrono::duration<double>(Clock::now() - start).count());
  return result;
}

StatusOr<std::vector<std::string>> JobRun::SensitivityOrder(const TrialResult& base) {
  ASSIGN_OR_RETURN(Model candidate, LoadModel(base.path));
  eval::SensitivityOptions options;
  options.threads = recipe_.threads();
  options.state_inputs = StateInputs(recipe_);
  ASSIGN_OR_RETURN(auto ranked, eval::RankLayerSensitivity(prepared_, candidate, eval_data_,
                                                           base.quantized, options));
  std::vector<std::string> order;
  for (const auto& layer : ranked) {
    if (layer.added_db() > 0) order.push_back(layer.node());
  }
  fallback_ranking_ = ranked;
  fallback_ranking_trial_ = base.trial.index();
  return order;
}

Status JobRun::Tune(std::vector<TrialResult>* trials) {
  tune_start_ = Clock::now();
  const v1::Budget& budget = recipe_.budget();
  const int max_trials = budget.max_trials() > 0 ? budget.max_trials() : kDefaultMaxTrials;
  // Runs one trial; true when it meets the budget.
  auto run = [&](const v1::Recipe& recipe, const std::vector<std::string>& fallback) {
    const int index = int(trials->size());
    Progress(kTune, double(index) / max_trials, "trial " + std::to_string(index + 1));
    if (Status cancelled = CheckCancelled("tune"); !cancelled.ok()) {
      return StatusOr<bool>(cancelled);
    }
    auto trial = RunTrial(recipe, index, fallback);
    if (!trial.ok()) return StatusOr<bool>(trial.status());
    const bool meets = trial->loaded && trial->slack >= 0;
    trials->push_back(std::move(trial).value());
    return StatusOr<bool>(meets);
  };
  ASSIGN_OR_RETURN(bool met, run(recipe_, {}));
  v1::Recipe base = recipe_;
  v1::Step* step = TunedStep(&base);
  if (!HasBudget(budget) || met || !step) return OkStatus();

  // 1. Settings that often recover accuracy at no cost in size.
  std::vector<v1::Recipe> variants;
  if (step->has_quantize()) {
    const v1::QuantizeStep& q = step->quantize();
    const bool static_activations = q.activations() != v1::DYNAMIC && q.activations() != v1::FLOAT;
    for (v1::Calibrator calibrator : {v1::ENTROPY, v1::PERCENTILE, v1::MSE}) {
      if (!static_activations || calibrator == q.calibrator()) continue;
      variants.push_back(base);
      TunedStep(&variants.back())->mutable_quantize()->set_calibrator(calibrator);
    }
    if (!q.per_channel()) {
      variants.push_back(base);
      TunedStep(&variants.back())->mutable_quantize()->set_per_channel(true);
    }
    if (static_activations) {
      variants.push_back(base);
      TunedStep(&variants.back())->mutable_quantize()->set_symmetric_activations(
          !q.symmetric_activations());
    }
  }
  for (const v1::Recipe& variant : variants) {
    if (OverTuningLimits(*trials, &tuning_stop_)) return OkStatus();
    ASSIGN_OR_RETURN(met, run(variant, {}));
    if (met) return OkStatus();
  }

  // 2. Keep the most sensitive layers of the best trial so far float: 1, 2, 4, ... until the
  // budget is met, then bisect between the last miss and the first hit.
  const int best = ChooseTrial(*trials, ByLatency());
  if (best < 0 || OverTuningLimits(*trials, &tuning_stop_)) return OkStatus();
  const v1::Recipe settings = (*trials)[size_t(best)].recipe;
  ASSIGN_OR_RETURN(std::vector<std::string> order, SensitivityOrder((*trials)[size_t(best)]));
  const int limit = std::min<int>(int(order.size()), kMaxFallback);
  auto fallback_trial = [&](int count) {
    std::vector<std::string> nodes(order.begin(), order.begin() + count);
    v1::Recipe recipe = settings;
    AddExcluded(TunedStep(&recipe), nodes);
    return run(recipe, nodes);
  };
  int miss = 0, hit = 0;
  for (int count = 1; count <= limit; count = std::min(count * 2, limit)) {
    if (OverTuningLimits(*trials, &tuning_stop_)) return OkStatus();
    ASSIGN_OR_RETURN(met, fallback_trial(count));
    if (met) {
      hit = count;
      break;
    }
    miss = count;
    if (count == limit) break;
  }
  if (hit == 0 && limit == 0) tuning_stop_ = "no quantized layer loses accuracy measurably";
  if (hit == 0 && tuning_stop_.empty()) {
    tuning_stop_ = "even " + std::to_string(limit) + " layers kept float miss the budget";
  }
  while (hit > 0 && hit - miss > 1) {
    if (OverTuningLimits(*trials, &tuning_stop_)) return OkStatus();
    const int middle = (miss + hit) / 2;
    ASSIGN_OR_RETURN(met, fallback_trial(middle));
    (met ? hit : miss) = middle;
  }
  return OkStatus();
}

Status JobRun::MeasureLatency() {
  const v1::Evaluate& evaluate = recipe_.evaluate();
  const int runs = std::max(20, evaluate.latency_runs());
  const int threads = evaluate.threads() > 0 ? evaluate.threads() : 1;
  std::vector<std::pair<std::string, eval::RunnerFactory>> runtimes;
  if (hooks_.runners) runtimes.push_back({"onnxruntime", hooks_.runners});
  runtimes.push_back({"shrink", eval::OurRuntime(threads)});
  v1::LatencySummary* summary = report_.mutable_latency();
  double ort_before = 0, ort_after = 0;
  for (const auto& [name, runners] : runtimes) {
    for (const auto& [label, model] :
         {std::pair<std::string, std::string>{"before", reference_path_},
          {"after", spec_.output_path}}) {
      eval::LatencyOptions options;
      options.model_label = label;
      options.state_inputs = StateInputs(recipe_);
      ASSIGN_OR_RETURN(v1::Latency latency,
                       eval::MeasureLatency(model, eval_data_, runners, runs, options));
      latency.set_threads(threads);
      if (name == "onnxruntime") (label == "before" ? ort_before : ort_after) = latency.median_ms();
      *summary->add_runs() = latency;
    }
  }
  if (ort_before > 0) {
    summary->set_ort_ratio(ort_after / ort_before);
    summary->set_slower_than_float(ort_after > ort_before);
  }
  if (summary->slower_than_float()) {
    char line[160];
    std::snprintf(line, sizeof(line),
                  "the optimized model is slower than the float model in ONNX Runtime "
                  "(%.3f ms vs %.3f ms median)", ort_after, ort_before);
    report_.add_warnings(line);
    if (recipe_.preset() == "latency") {
      v1::Tuning* tuning = report_.mutable_tuning();
      tuning->set_budget_met(false);
      const std::string gate = std::string("latency recipe: ") + line;
      tuning->set_summary(tuning->summary().empty() ? gate : tuning->summary() + "; " + gate);
    }
  }
  return OkStatus();
}

Status JobRun::SetUpEvaluation() {
  eval_data_ = spec_.evaluation_data.empty() ? spec_.calibration_data : spec_.evaluation_data;
  if (eval_data_.empty()) {
    return InvalidArgument("evaluating the result needs data: give evaluation data (--eval "
                           "DATA) or calibration data (--calib DATA)");
  }
  const std::string& runtime = recipe_.evaluate().runtime();
  runners_ = hooks_.runners && runtime != "shrink" ? hooks_.runners
                                                   : eval::OurRuntime(recipe_.threads());
  return OkStatus();
}

eval::EvalOptions JobRun::EvaluationOptions() const {
  eval::EvalOptions options;
  options.top_k = recipe_.evaluate().top_k() > 0 ? recipe_.evaluate().top_k() : 5;
  options.max_samples = recipe_.evaluate().max_samples();
  if (recipe_.data().batch_size() > 0) options.batch_size = recipe_.data().batch_size();
  options.state_inputs = StateInputs(recipe_);
  for (const v1::StatePair& pair : recipe_.data().state_pairs()) {
    options.state_pairs.push_back({pair.input(), pair.output()});
  }
  return options;
}

StatusOr<v1::Report> JobRun::RunEvaluated() {
  prepared_ = CloneModel(model_);
  std::vector<TrialResult> trials;
  auto remove_trials = [&](int keep) {
    for (size_t i = 0; i < trials.size(); ++i) {
      if (int(i) != keep) RemoveOutputs(trials[i].path, trials[i].path + ".data");
    }
  };
  Status tuned = Stage(kTune, [&] { return Tune(&trials); });
  const int chosen = tuned.ok() ? ChooseTrial(trials, ByLatency()) : -1;
  if (tuned.ok() && chosen < 0) {
    tuned = Internal("the written model failed validation: " + trials.front().validation_note);
  }
  if (!tuned.ok()) {
    remove_trials(-1);
    return tuned;
  }
  remove_trials(chosen);
  TrialResult& pick = trials[size_t(chosen)];
  // A model with external data refers to its data file by name: it keeps the trial's.
  if (std::rename(pick.path.c_str(), spec_.output_path.c_str()) != 0) {
    return Internal("cannot rename " + pick.path + " to " + spec_.output_path);
  }
  for (const auto& node : pick.nodes) *report_.add_nodes() = node;
  // Say why auto-tune kept a node float: its rank and loss in the trial it was measured on.
  for (v1::NodeDecision& node : *report_.mutable_nodes()) {
    for (const v1::LayerSensitivity& layer : fallback_ranking_) {
      if (layer.node() != node.node()) continue;
      const auto& fallback = pick.trial.fallback_nodes();
      if (std::find(fallback.begin(), fallback.end(), node.node()) == fallback.end()) break;
      char reason[200];
      std::snprintf(reason, sizeof(reason),
                    "kept float by auto-tune: sensitivity rank %d, lost %.1f dB in trial %d",
                    layer.rank(), layer.added_db(), fallback_ranking_trial_);
      node.set_action("float");
      node.set_reason(reason);
    }
  }
  for (const auto& warning : pick.warnings) report_.add_warnings(warning);
  *report_.mutable_calibration() = pick.calibration;
  *report_.mutable_evaluation() = pick.evaluation;
  report_.mutable_validation()->set_ort_loaded(hooks_.validate_output != nullptr);
  report_.mutable_validation()->set_ort_version(hooks_.validator_version);
  report_.mutable_validation()->set_ort_message(pick.validation_note);
  if (HasBudget(recipe_.budget())) {
    v1::Tuning* tuning = report_.mutable_tuning();
    for (const TrialResult& trial : trials) *tuning->add_trials() = trial.trial;
    tuning->set_chosen_trial(chosen);
    tuning->set_budget_met(pick.slack >= 0);
    char line[320];
    std::snprintf(line, sizeof(line), "%s after %zu trial(s): trial %d (%s), margin %.3g%s%s",
                  pick.slack >= 0 ? "budget met" : "BUDGET NOT MET", trials.size(), chosen,
                  pick.trial.settings().c_str(), pick.slack,
                  tuning_stop_.empty() ? "" : "; stopped: ", tuning_stop_.c_str());
    tuning->set_summary(line);
  }
  ASSIGN_OR_RETURN(Model written, LoadModel(spec_.output_path));
  ASSIGN_OR_RETURN(std::string checker, CheckExportedModel(written));
  report_.mutable_validation()->set_checker(checker);
  RETURN_IF_ERROR(Stage(kSensitivity, [&]() -> Status {
    eval::SensitivityOptions options;
    options.threads = recipe_.threads();
    options.state_inputs = StateInputs(recipe_);
    ASSIGN_OR_RETURN(auto ranked, eval::RankLayerSensitivity(prepared_, written, eval_data_,
                                                             pick.quantized, options));
    for (const auto& layer : ranked) *report_.add_sensitivity() = layer;
    return OkStatus();
  }));
  if (recipe_.evaluate().latency()) {
    RETURN_IF_ERROR(Stage(kLatency, [&] { return MeasureLatency(); }));
  }
  RETURN_IF_ERROR(SummarizeModel(written, spec_.output_path, report_.mutable_output_model()));
  FillSizes(&report_);
  RecordFinalStep();
  report_.set_peak_rss_bytes(PeakRssBytes());
  return report_;
}

bool BudgetMissed(const v1::Report& report) {
  return report.has_tuning() && !report.tuning().budget_met();
}

}  // namespace shrink::engine
