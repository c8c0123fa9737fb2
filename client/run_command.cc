// `shrink run MODEL.onnx --preset NAME|--recipe R.json --out OUT.onnx [--calib DATA]
// [--report R.json]`: the whole optimization job in-process, no server.
#include <cstdio>

#include "client/commands.h"
#include "client/flags.h"
#include "client/progress.h"
#include "client/recipe_flags.h"
#include "common/file_util.h"
#include "engine/job/pipeline.h"
#include "engine/job/recipe.h"
#include "engine/ort/ort_runner.h"
#include "engine/job/report_html.h"
#include "engine/ort/ort_eval_runner.h"
#include "engine/ort/ort_validation.h"

namespace shrink::cli {
namespace {

constexpr const char* kUsage =
    "usage: shrink run MODEL.onnx (--preset NAME | --recipe R.json) --out OUT.onnx\n"
    "                  [--calib DATA] [--eval DATA] [--report REPORT.json] [--html R.html]\n"
    "                  [--threads N] [--json] [--no-ort-check]\n"
    "  --eval: labeled (or not) data the result is judged on against the float model; a\n"
    "          recipe budget (maxAccuracyDrop, minSqnrDb, minAgreement) is checked on it (else\n"
    "          on --calib) and auto-tuned; exit 3 when it cannot be met\n"
    "  MODEL: an .onnx file, a directory with one .onnx file and its external data, or a .tar\n"
    "  presets: float16, int8-dynamic, int8, int16x8, size, latency\n"
    "  DATA: .npy, .npz (arrays named after the inputs) or a directory of .npz files\n";

Status CheckPaths(const engine::JobSpec& spec) {
  if (!FileExists(spec.model_path) && !IsDirectory(spec.model_path)) {
    return NotFound(spec.model_path + ": no such file or directory");
  }
  if (spec.output_path == spec.model_path) {
    return InvalidArgument("--out must differ from the input model (" + spec.model_path + ")");
  }
  if (!IsDirectory(DirName(spec.output_path))) {
    return NotFound("--out " + spec.output_path + ": directory " + DirName(spec.output_path) +
                    " does not exist");
  }
  if (!spec.calibration_data.empty() && !FileExists(spec.calibration_data)) {
    return NotFound("--calib " + spec.calibration_data + ": no such file or directory");
  }
  return OkStatus();
}

void PrintSummary(const v1::Report& report, const std::string& out) {
  int quantized = 0, kept_float = 0;
  for (const v1::NodeDecision& node : report.nodes()) {
    if (node.action() == "quantized" || node.action() == "converted") {
      ++quantized;
    } else {
      ++kept_float;
    }
  }
  const v1::SizeSummary& size = report.size();
  std::fprintf(stderr,
               "wrote %s: %lld -> %lld bytes (%.2fx smaller; zstd %lld -> %lld, %.2fx); "
               "%d nodes optimized, %d left in float\n",
               out.c_str(), (long long)size.raw_before(), (long long)size.raw_after(),
               size.raw_ratio(), (long long)size.zstd_before(), (long long)size.zstd_after(),
               size.zstd_ratio(), quantized, kept_float);
  if (!report.validation().checker().empty()) {
    std::fprintf(stderr, "checked by: %s; %s\n", report.validation().checker().c_str(),
                 report.validation().ort_message().c_str());
  }
  const v1::Evaluation& evaluation = report.evaluation();
  if (evaluation.has_accuracy()) {
    const v1::AccuracyMetrics& a = evaluation.accuracy();
    std::fprintf(stderr,
                 "accuracy (%s, %lld samples): float %.2f%% -> %.2f%%, drop %.2f points "
                 "[95%% %.2f, %.2f]\n",
                 evaluation.runtime().c_str(), (long long)a.samples(), a.reference_top1(),
                 a.candidate_top1(), a.drop(), a.drop_ci95_low(), a.drop_ci95_high());
  }
  for (const v1::OutputMetrics& output : evaluation.outputs()) {
    std::fprintf(stderr, "output %s: SQNR %.1f dB, cosine %.5f%s\n", output.output().c_str(),
                 output.sqnr_db(), output.cosine(),
                 output.classifier()
                     ? (", agreement " + std::to_string(output.agreement())).c_str()
                     : "");
  }
  for (int i = 0; i < std::min(3, report.sensitivity_size()); ++i) {
    const v1::LayerSensitivity& layer = report.sensitivity(i);
    std::fprintf(stderr, "sensitive #%d: %s (%s) loses %.1f dB\n", layer.rank(),
                 layer.node().c_str(), layer.op_type().c_str(), layer.added_db());
  }
  if (report.has_tuning()) std::fprintf(stderr, "%s\n", report.tuning().summary().c_str());
  for (const std::string& warning : report.warnings()) {
    std::fprintf(stderr, "warning: %s\n", warning.c_str());
  }
}

}  // namespace

int RunCommand(const std::vector<std::string>& args) {
  FlagSpec spec{{"preset", "recipe", "out", "calib", "eval", "report", "html", "threads"},
                {"json", "no-ort-check", "help"}};
  auto flags = ParseFlags(args, spec);
  if (!flags.ok()) {
    std::fprintf(stderr, "shrink run: %s\n%s", flags.status().message().c_str(), kUsage);
    return kExitUsage;
  }
  if (flags->Has("help")) {
    std::fprintf(stdout, "%s", kUsage);
    return kExitOk;
  }
  if (flags->positional.size() != 1 || !flags->Has("out")) {
    std::fprintf(stderr, "shrink run: needs MODEL.onnx and --out\n%s", kUsage);
    return kExitUsage;
  }
  auto recipe = RecipeFromFlags(*flags);
  if (!recipe.ok()) return ReportError(recipe.status());
  engine::JobSpec job{flags->positional[0], flags->Get("out"), flags->Get("calib"),
                      flags->Get("eval"), *recipe};
  if (Status paths = CheckPaths(job); !paths.ok()) return ReportError(paths);

  Progress progress("run", 1000);
  engine::JobHooks hooks;
  hooks.shrink_version = SHRINK_VERSION;
  hooks.progress = [&](const std::string& stage, double fraction, const std::string& message) {
    progress.Update(int64_t(fraction * 1000), message.empty() ? stage : stage + ": " + message);
  };
  if (!flags->Has("no-ort-check")) {
    hooks.validate_output = ort::MakeOrtValidator(job.calibration_data, recipe->threads(),
                                                  engine::StateInputs(*recipe));
    hooks.validator_version = ort::OrtVersion();
    hooks.runners = ort::OrtRuntime(recipe->threads());
  }
  auto report = engine::RunJob(job, hooks);
  if (!report.ok()) {
    progress.Finish("failed");
    return ReportError(report.status());
  }
  progress.Finish("wrote " + job.output_path);
  const std::string json = engine::ReportToJson(*report);
  if (flags->Has("report")) {
    Status written = WriteFile(flags->Get("report"), json);
    if (!written.ok()) return ReportError(written);
  }
  if (flags->Has("html")) {
    Status written = WriteFile(flags->Get("html"), engine::ReportToHtml(*report));
    if (!written.ok()) return ReportError(written);
  }
  PrintSummary(*report, job.output_path);
  if (flags->Has("json")) std::printf("%s\n", json.c_str());
  if (engine::BudgetMissed(*report)) {
    std::fprintf(stderr, "shrink: %s (the best trial was written; see the report)\n",
                 report->tuning().summary().c_str());
    return kExitBudgetNotMet;
  }
  return kExitOk;
}

}  // namespace shrink::cli
