// JobRun: one job's state while its stages run. Internal to engine/job: pipeline.cc has the
// stages of a plain job (load, prepare, calibrate, quantize, export, validate); tuning.cc the
// jobs that are evaluated (an accuracy budget, evaluation data or latency asked for): every
// candidate is a trial that is quantized, written, loaded by the validator and evaluated
// against the float model, and auto-tuning adds trials until the budget is met.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/eval/evaluator.h"
#include "engine/io/model_bundle.h"
#include "engine/ir/graph.h"
#include "engine/job/pipeline.h"
#include "engine/quant/quant_types.h"
#include "engine/quant/qdq_quantizer.h"
#include "shrink/v1/report.pb.h"

namespace shrink::engine {

using Clock = std::chrono::steady_clock;

// Share of the whole job each stage takes, for one progress fraction.
struct StageSpan {
  const char* name;
  double begin;
  double end;
};
constexpr StageSpan kLoad{"load", 0.00, 0.05};
constexpr StageSpan kPrepare{"prepare", 0.05, 0.10};
constexpr StageSpan kPrune{"prune", 0.10, 0.20};
constexpr StageSpan kCluster{"cluster", 0.20, 0.25};
constexpr StageSpan kCalibrate{"calibrate", 0.25, 0.80};
constexpr StageSpan kQuantize{"quantize", 0.80, 0.88};
constexpr StageSpan kExport{"export", 0.88, 0.93};
constexpr StageSpan kValidate{"validate", 0.93, 1.00};
// Evaluated jobs: trials (each calibrates, quantizes, writes, validates, evaluates), then the
// chosen model's per-layer sensitivity and latency.
constexpr StageSpan kTune{"tune", 0.10, 0.85};
constexpr StageSpan kSensitivity{"sensitivity", 0.85, 0.92};
constexpr StageSpan kLatency{"latency", 0.92, 1.00};

// One candidate model built and measured while tuning.
struct TrialResult {
  v1::Trial trial;
  std::string path;             // the written model (removed unless chosen)
  v1::Recipe recipe;            // the recipe this trial ran
  v1::Evaluation evaluation;
  v1::CalibrationSummary calibration;
  std::vector<v1::NodeDecision> nodes;
  std::vector<std::string> warnings;
  std::set<std::string> quantized;  // nodes this trial quantized (sensitivity candidates)
  double slack = 0;                 // budget margin; >= 0 meets it (see tuning.cc)
  bool loaded = false;              // the validator accepted the written model
  std::string validation_note;
};

class JobRun {
 public:
  JobRun(const JobSpec& spec, const JobHooks& hooks) : spec_(spec), hooks_(hooks) {}
  StatusOr<v1::Report> Run();

 private:
  Status CheckCancelled(const char* stage) const {
    if (hooks_.cancel && hooks_.cancel->load())
      return Cancelled("job cancelled during " + std::string(stage));
    return OkStatus();
  }
  void Progress(const StageSpan& stage, double within, const std::string& message) const {
    if (hooks_.progress) {
      hooks_.progress(stage.name, stage.begin + (stage.end - stage.begin) * within, message);
    }
  }
  // Runs `body` as one stage: progress at both ends, time recorded, cancellation checked.
  template <typename Body>
  Status Stage(const StageSpan& stage, Body body) {
    RETURN_IF_ERROR(CheckCancelled(stage.name));
    Progress(stage, 0, "");
    auto start = Clock::now();
    Status status = body();
    v1::StageTiming* timing = report_.add_timings();
    timing->set_stage(stage.name);
    timing->set_seconds(std::chrono::duration<double>(Clock::now() - start).count());
    RETURN_IF_ERROR(status);
    Progress(stage, 1, "");
    return OkStatus();
  }

  // pipeline.cc
  Status Prepare();
  Status Calibrate(const v1::QuantizeStep& step);
  Status Quantize();
  Status QuantizeRecurrentWeights(quant::DynamicQuantOptions options, quant::QuantSummary* summary);
  Status Export();
  Status Validate();
  Status Publish();
  std::string staging_path() const { return spec_.output_path + ".partial"; }

  // compress_steps.cc
  Status ApplyPrune(const v1::PruneStep& step);
  Status ApplyCluster(const v1::ClusterStep& step);
  // The model's size after a step (and its accuracy when the job is evaluated).
  Status RecordStep(const std::string& name);
  // The last technique's row: the written model's sizes and evaluation.
  void RecordFinalStep();

  // tuning.cc
  bool NeedsEvaluation() const;
  // The data, runtime and options every evaluation of this job uses (steps and trials alike).
  Status SetUpEvaluation();
  eval::EvalOptions EvaluationOptions() const;
  StatusOr<v1::Report> RunEvaluated();
  Status Tune(std::vector<TrialResult>* trials);
  StatusOr<TrialResult> RunTrial(const v1::Recipe& recipe, int index,
                                 const std::vector<std::string>& fallback);
  Status CalibrateCached(const v1::QuantizeStep& step);
  Status EvaluateTrial(TrialResult* result);
  StatusOr<std::vector<std::string>> SensitivityOrder(const TrialResult& base);
  Status MeasureLatency();  // before/after in ORT (when injected) and our runtime
  bool OverTuningLimits(const std::vector<TrialResult>& trials, std::string* why) const;
  // A latency recipe with timed trials keeps the fastest trial that meets the budget.
  bool ByLatency() const {
    return recipe_.preset() == "latency" && recipe_.evaluate().latency();
  }

  bool input_is_model_file_ = false;  // not a directory or archive: the validator can load it
  const JobSpec& spec_;
  const JobHooks& hooks_;
  v1::Recipe recipe_;
  v1::Report report_;
  Model model_;
  quant::RangeMap ranges_;

  // Evaluated jobs.
  std::optional<ModelBundle> bundle_;  // keeps an unpacked input alive
  std::string reference_path_;         // the float model file the candidates are judged against
  std::string eval_data_;
  eval::RunnerFactory runners_;
  Model prepared_;                     // the float model after preparation, before any trial
  std::map<std::string, quant::RangeMap> range_cache_;  // calibration per calibrator settings
  Clock::time_point tune_start_;
  std::string tuning_stop_;            // why tuning stopped short of the budget
  // The ranking the float fallbacks were taken from, and the trial it was measured on.
  std::vector<v1::LayerSensitivity> fallback_ranking_;
  int fallback_ranking_trial_ = -1;
};

}  // namespace shrink::engine
