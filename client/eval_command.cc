// `shrink eval CANDIDATE --reference FLOAT --data DATA [--runtime onnxruntime|shrink]
// [--top-k K] [--max-samples N] [--threads N] [--batch N] [--json]`: the candidate model
// against its float reference on DATA (engine/eval/evaluator.h), both run by one runtime.
#include <google/protobuf/util/json_util.h>

#include <cstdio>
#include <string>

#include "client/commands.h"
#include "client/flags.h"
#include "engine/eval/evaluator.h"
#include "engine/ort/ort_eval_runner.h"

namespace shrink::cli {
namespace {

constexpr const char* kUsage =
    "usage: shrink eval CANDIDATE.onnx --reference FLOAT.onnx --data DATA\n"
    "                   [--runtime onnxruntime|shrink] [--top-k K] [--max-samples N]\n"
    "                   [--threads N] [--batch N] [--json]\n"
    "  Compares the candidate with the reference on the same samples: per output top-1\n"
    "  agreement, SQNR, cosine, max/mean abs error; with `labels` in DATA, top-1/top-k of\n"
    "  both and the drop with its 95% interval. Default runtime: onnxruntime.\n"
    "  DATA: .npy, .npz (arrays named after the inputs, optional `labels`) or a directory\n";

std::string Percent(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.2f%%", value);
  return text;
}

void PrintHuman(const v1::Evaluation& e, const std::string& candidate,
                const std::string& reference) {
  std::printf("%s against %s on %s (%lld samples), run by %s\n", candidate.c_str(),
              reference.c_str(), e.data().c_str(), (long long)e.samples(), e.runtime().c_str());
  if (e.has_accuracy()) {
    const v1::AccuracyMetrics& a = e.accuracy();
    std::printf("accuracy on output '%s':\n", a.output().c_str());
    std::printf("  %-10s %9s %9s %9s\n", "", "top-1", ("top-" + std::to_string(a.k())).c_str(),
                "correct");
    std::printf("  %-10s %9s %9s %9lld\n", "reference", Percent(a.reference_top1()).c_str(),
                Percent(a.reference_topk()).c_str(), (long long)a.reference_correct());
    std::printf("  %-10s %9s %9s %9lld\n", "candidate", Percent(a.candidate_top1()).c_str(),
                Percent(a.candidate_topk()).c_str(), (long long)a.candidate_correct());
    std::printf("  drop %.2f points (95%% interval %.2f .. %.2f)\n", a.drop(), a.drop_ci95_low(),
                a.drop_ci95_high());
  }
  std::printf("%-20s %10s %10s %10s %12s %12s\n", "output", "agreement", "SQNR dB", "cosine",
              "max abs", "mean abs");
  for (const v1::OutputMetrics& o : e.outputs()) {
    std::string agreement = o.classifier() ? Percent(100 * o.agreement()) : "-";
    char sqnr[32] = "inf";  // 999 stands for identical outputs
    if (o.sqnr_db() < 999) std::snprintf(sqnr, sizeof(sqnr), "%.2f", o.sqnr_db());
    std::printf("%-20s %10s %10s %10.6f %12.4g %12.4g\n", o.output().c_str(), agreement.c_str(),
                sqnr, o.cosine(), o.max_abs_error(), o.mean_abs_error());
  }
  std::printf("took %.2f s (%.2f s running the two models)\n", e.seconds(), e.inference_seconds());
}

}  // namespace

int EvalCommand(const std::vector<std::string>& args) {
  FlagSpec spec{{"reference", "data", "runtime", "top-k", "max-samples", "threads", "batch"},
                {"json", "help"}};
  auto flags = ParseFlags(args, spec);
  if (!flags.ok()) {
    std::fprintf(stderr, "shrink eval: %s\n%s", flags.status().message().c_str(), kUsage);
    return kExitUsage;
  }
  if (flags->Has("help")) {
    std::fprintf(stdout, "%s", kUsage);
    return kExitOk;
  }
  if (flags->positional.size() != 1 || !flags->Has("reference") || !flags->Has("data")) {
    std::fprintf(stderr, "shrink eval: needs CANDIDATE.onnx, --reference and --data\n%s", kUsage);
    return kExitUsage;
  }
  auto threads = flags->GetInt("threads", 0);
  auto top_k = flags->GetInt("top-k", 5);
  auto max_samples = flags->GetInt("max-samples", 0);
  auto batch = flags->GetInt("batch", 64);
  for (const auto* value : {&threads, &top_k, &max_samples, &batch}) {
    if (!value->ok()) return ReportError(value->status());
  }
  if (*top_k < 1 || *max_samples < 0 || *batch < 1 || *threads < 0) {
    std::fprintf(stderr,
                 "shrink eval: --top-k and --batch must be >= 1, --max-samples and "
                 "--threads >= 0\n");
    return kExitUsage;
  }
  const std::string runtime = flags->Get("runtime", "onnxruntime");
  engine::eval::RunnerFactory runners;
  if (runtime == "onnxruntime" || runtime == "ort") {
    runners = ort::OrtRuntime(*threads);
  } else if (runtime == "shrink") {
    runners = engine::eval::OurRuntime(*threads);
  } else {
    std::fprintf(stderr, "shrink eval: --runtime must be onnxruntime or shrink, got '%s'\n",
                 runtime.c_str());
    return kExitUsage;
  }
  engine::eval::EvalOptions options;
  options.top_k = *top_k;
  options.max_samples = *max_samples;
  options.batch_size = *batch;
  const std::string& candidate = flags->positional[0];
  auto evaluation = engine::eval::Evaluate(candidate, flags->Get("reference"), flags->Get("data"),
                                           runners, options);
  if (!evaluation.ok()) {
    ReportError(evaluation.status());
    return kExitUsage;  // every evaluation failure is a problem with the inputs given
  }
  if (flags->Has("json")) {
    std::string json;
    google::protobuf::util::JsonPrintOptions json_options;
    json_options.always_print_primitive_fields = true;
    (void)google::protobuf::util::MessageToJsonString(*evaluation, &json, json_options);
    std::printf("%s\n", json.c_str());
  } else {
    PrintHuman(*evaluation, candidate, flags->Get("reference"));
  }
  return kExitOk;
}

}  // namespace shrink::cli
