// shrink-bench eval: what the evaluator costs on top of running the models. mnist_cnn int8
// (static QDQ, calibration on train images 0..499) against float on the first N MNIST test
// images, both in ONNX Runtime:
//   raw   both runners over the same batches (batch 64, read into memory beforehand), timing
//         only the Run calls: the inference the evaluation cannot avoid;
//   eval  Evaluate() wall time: opening both models, hashing and reading DATA, running, metrics.
// Repetitions alternate raw and eval; the medians give the ratio eval / raw (target <= 1.2).
//
//   shrink-bench eval [--samples N] [--threads T] [--reps R] [--work DIR] [--check]
#include "tests/bench/eval_bench.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/file_util.h"
#include "engine/eval/evaluator.h"
#include "engine/io/data_loader.h"
#include "engine/ort/ort_eval_runner.h"
#include "tests/bench/quant_bench.h"
#include "tests/bench/quant_bench_util.h"
#include "tests/test_inputs.h"

namespace shrink::testing {
namespace {

namespace eval = engine::eval;
using Clock = std::chrono::steady_clock;

const char kUsage[] =
    "usage: shrink-bench eval [--samples N] [--threads T] [--reps R] [--work DIR] [--check]\n"
    "  mnist_cnn int8 against float on N MNIST test images (default 10000) in ONNX Runtime:\n"
    "  Evaluate() wall time against the time of both models' Run calls over the same batches.\n"
    "  --check exits 1 when the ratio exceeds 1.2.\n";

struct EvalBenchOptions {
  int64_t samples = 10000;
  int threads = 2;
  int reps = 3;
  bool check = false;
  QuantBenchOptions quant;  // work dir for data and the int8 model
};

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

// Seconds inside Run of both models over all batches (the batches are read beforehand).
StatusOr<double> RawInference(const std::string& candidate, const std::string& reference,
                              const std::string& data, const eval::RunnerFactory& runners) {
  ASSIGN_OR_RETURN(auto cand, runners(candidate));
  ASSIGN_OR_RETURN(auto ref, runners(reference));
  ASSIGN_OR_RETURN(auto reader, engine::DataReader::Open(data, ref->inputs(), {64}));
  std::vector<engine::DataBatch> batches;
  engine::DataBatch batch;
  while (true) {
    ASSIGN_OR_RETURN(bool more, reader->Next(&batch));
    if (!more) break;
    batches.push_back(batch);
  }
  double seconds = 0;
  for (const engine::DataBatch& b : batches) {
    auto start = Clock::now();
    ASSIGN_OR_RETURN(auto ref_out, ref->Run(b.inputs));
    ASSIGN_OR_RETURN(auto cand_out, cand->Run(b.inputs));
    seconds += Seconds(start);
  }
  return seconds;
}

Status RunEvalBench(const EvalBenchOptions& options) {
  const std::string model = JoinPath(SharedModelsDir(), "mnist_cnn.onnx");
  if (!FileExists(model)) return NotFound(model + ": no such file (shared models)");
  ASSIGN_OR_RETURN(std::string calib,
                   MnistData(options.quant, "train", 500, {1, 28, 28}, "eval-calib-train500.npz"));
  ASSIGN_OR_RETURN(std::string data,
                   MnistData(options.quant, "t10k", options.samples, {1, 28, 28},
                             "eval-t10k-" + std::to_string(options.samples) + ".npz"));
  const std::string int8 = JoinPath(options.quant.work, "mnist_cnn.int8.onnx");
  if (!FileExists(int8)) {
    JobRequest request{model, "{\"preset\": \"int8\"}", calib, int8, options.threads};
    ASSIGN_OR_RETURN(v1::Report report, OptimizeModel(request));
  }
  const eval::RunnerFactory runners = ort::OrtRuntime(options.threads);
  std::vector<double> raw, whole, inside;
  v1::Evaluation last;
  for (int rep = 0; rep < options.reps; ++rep) {
    ASSIGN_OR_RETURN(double raw_s, RawInference(int8, model, data, runners));
    ASSIGN_OR_RETURN(last, eval::Evaluate(int8, model, data, runners, {}));
    raw.push_back(raw_s);
    whole.push_back(last.seconds());
    inside.push_back(last.inference_seconds());
  }
  const double ratio = Median(whole) / Median(raw);
  std::printf("\n== eval: mnist_cnn int8 vs float, %lld samples, %s, %d threads, %d reps ==\n",
              (long long)last.samples(), last.runtime().c_str(), options.threads, options.reps);
  std::printf("raw inference (both models, Run only): median %.3f s\n", Median(raw));
  std::printf("Evaluate() wall time:                  median %.3f s (%.3f s of it in Run)\n",
              Median(whole), Median(inside));
  std::printf("ratio eval / raw: %.3f (target <= 1.2)\n", ratio);
  if (last.has_accuracy()) {
    std::printf("accuracy: float %lld, int8 %lld of %lld; drop %.2f points [%.2f, %.2f]\n",
                (long long)last.accuracy().reference_correct(),
                (long long)last.accuracy().candidate_correct(),
                (long long)last.accuracy().samples(), last.accuracy().drop(),
                last.accuracy().drop_ci95_low(), last.accuracy().drop_ci95_high());
  }
  if (options.check && ratio > 1.2) {
    return FailedPrecondition("evaluation costs " + std::to_string(ratio) +
                              "x the raw inference time (target <= 1.2)");
  }
  return OkStatus();
}

}  // namespace

int EvalBenchMain(int argc, char** argv) {
  EvalBenchOptions options;
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (arg == "--samples") {
      options.samples = std::atoll(next().c_str());
    } else if (arg == "--threads") {
      options.threads = std::atoi(next().c_str());
    } else if (arg == "--reps") {
      options.reps = std::atoi(next().c_str());
    } else if (arg == "--work") {
      options.quant.work = next();
    } else if (arg == "--check") {
      options.check = true;
    } else {
      std::fprintf(stderr, "shrink-bench eval: unknown argument %s\n%s", arg.c_str(), kUsage);
      return 2;
    }
  }
  if (options.samples < 1 || options.samples > 10000 || options.threads < 1 || options.reps < 1) {
    std::fprintf(stderr, "%s", kUsage);
    return 2;
  }
  bool own_work = options.quant.work.empty();
  if (own_work) {
    auto dir = MakeTempDir("shrink-bench-eval");
    if (!dir.ok()) return 1;
    options.quant.work = *dir;
  }
  Status status = RunEvalBench(options);
  if (own_work) (void)RemoveAll(options.quant.work);
  if (!status.ok()) {
    std::fprintf(stderr, "shrink-bench eval: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}

}  // namespace shrink::testing
