// The job entry point: one recipe applied to one model, from file to file, with a report.
// Used in-process by `shrink run` and by workers. Stages: load, prepare, calibrate, quantize
// (or float16), export, validate. Nothing is left at the output path unless the job succeeds.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "common/status.h"
#include "engine/eval/evaluator.h"
#include "shrink/v1/recipe.pb.h"
#include "shrink/v1/report.pb.h"

namespace shrink::engine {

struct JobSpec {
  std::string model_path;
  std::string output_path;
  std::string calibration_data;  // DATA (see design.md); "" when none
  // DATA the result is evaluated on against the float model (labels give accuracy); "" uses the
  // calibration data. Evaluation runs when the recipe has a budget, asks for latency, or this
  // is given.
  std::string evaluation_data;
  v1::Recipe recipe;             // as given; expanded and validated by RunJob
};

// `stage` is "load", "prepare", "calibrate", "quantize", "export" or "validate"; `fraction` is
// the job's overall progress in [0, 1].
using JobProgressFn =
    std::function<void(const std::string& stage, double fraction, const std::string& message)>;

// Checks the written model with an independent runtime (ONNX Runtime in the CLI and workers)
// and returns a note for the report. Injected so that the engine does not link the judge.
using OutputValidator = std::function<StatusOr<std::string>(const std::string& model_path)>;

struct JobHooks {
  JobProgressFn progress;
  const std::atomic<bool>* cancel = nullptr;
  OutputValidator validate_output;  // optional
  std::string validator_version;    // e.g. ONNX Runtime's version, for the report
  std::string shrink_version;
  // Runs models for evaluation, latency and budgets (ONNX Runtime in the CLI and workers);
  // empty: the engine's own runtime, unless the recipe asks for "onnxruntime".
  eval::RunnerFactory runners;
};

// Errors: bad recipe / data / model -> kInvalidArgument or kUnimplemented (naming the
// problem); cancellation -> kCancelled; a written model that fails validation -> kInternal.
// A missed accuracy budget is not an error: the best trial is written and the report's
// tuning.budget_met is false (BudgetMissed() tells).
StatusOr<v1::Report> RunJob(const JobSpec& spec, const JobHooks& hooks);

std::string ReportToJson(const v1::Report& report);

// True when the report's job had a budget (or a latency gate) that the written model misses.
bool BudgetMissed(const v1::Report& report);

}  // namespace shrink::engine
